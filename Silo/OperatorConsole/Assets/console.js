// DeliveryGrains operator console: the few behaviours plain HTML lacks. Every page works without it.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // <time datetime="…Z" data-local>: the instant in the browser's zone; the UTC one stays in its title.
  const two = (n) => String(n).padStart(2, "0");
  const zoneName = (date) => {
    const part = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" }).formatToParts(date).find((p) => p.type === "timeZoneName");
    return part ? part.value : "";
  };
  for (const time of document.querySelectorAll("time[data-local]")) {
    const date = new Date(time.getAttribute("datetime"));
    if (!Number.isNaN(date.getTime())) {
      time.textContent = `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())} ${zoneName(date)}`.trim();
    }
  }

  // <input type="datetime-local" data-zone-offset="name">: the field is read in the browser's zone; the
  // hidden field tells the server that zone's offset at the instant typed (summer time included).
  for (const input of document.querySelectorAll("input[data-zone-offset]")) {
    const offset = input.form && input.form.elements.namedItem(input.getAttribute("data-zone-offset"));
    const hint = document.getElementById(`${input.id}-zone`);
    const sync = () => {
      const at = input.value ? new Date(input.value) : new Date();
      if (offset) {
        offset.value = Number.isNaN(at.getTime()) ? "" : String(-at.getTimezoneOffset());
      }
      if (hint) {
        const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
        hint.textContent = `In your time zone${zone ? ` (${zone})` : ""}.`;
      }
    };
    input.addEventListener("input", sync);
    sync();
  }

  // A box that scrolls sideways (a wide table on a phone) can be scrolled from the keyboard too.
  const scrollables = () => {
    for (const box of document.querySelectorAll(".table-scroll, .card")) {
      if (box.scrollWidth > box.clientWidth && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        if (!box.hasAttribute("aria-label") && !box.hasAttribute("aria-labelledby")) {
          const heading = box.querySelector("h2, h3, caption");
          box.setAttribute("aria-label", heading ? heading.textContent.trim() : "Scrollable table");
        }
      }
    }
  };
  scrollables();
  window.addEventListener("resize", scrollables);

  // A field in error names its messages: aria-invalid, and aria-describedby pointing at them.
  let described = 0;
  for (const field of document.querySelectorAll(".field.invalid")) {
    const messages = Array.from(field.querySelectorAll(".field-error"));
    for (const message of messages) {
      message.id = message.id || `field-error-${++described}`;
    }
    for (const control of field.querySelectorAll("input:not([type=hidden]), select, textarea")) {
      control.setAttribute("aria-invalid", "true");
      if (messages.length > 0) {
        control.setAttribute("aria-describedby", messages.map((m) => m.id).join(" "));
      }
    }
  }

  // <a data-back>: back in history, where the form still holds what was typed.
  for (const back of document.querySelectorAll("a[data-back]")) {
    back.addEventListener("click", (event) => {
      if (window.history.length > 1) {
        event.preventDefault();
        window.history.back();
      }
    });
  }

  // A refusal or a lost connection told above the form, which keeps what was typed.
  const tell = (form, text) => {
    let alert = form.querySelector(":scope > [data-form-problem]");
    if (!alert) {
      alert = document.createElement("p");
      alert.className = "alert error";
      alert.setAttribute("role", "alert");
      alert.setAttribute("data-form-problem", "");
      alert.setAttribute("data-testid", "form-problem");
      form.prepend(alert);
    }
    alert.textContent = text;
    alert.scrollIntoView({ block: "nearest" });
  };

  // A stale form (signed out and in since): take a fresh antiforgery token from the page itself.
  const refreshToken = async (form) => {
    try {
      const page = await fetch(window.location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" });
      const fresh = new DOMParser().parseFromString(await page.text(), "text/html").querySelector("input[name=__console_token]");
      const mine = form.querySelector("input[name=__console_token]");
      if (fresh && mine) {
        mine.value = fresh.value;
        return true;
      }
    } catch {
      // Told as a refusal below.
    }
    return false;
  };

  // Forms marked data-fetch are sent by fetch, so a refusal or a silo that cannot be reached is told in
  // place; a page in answer replaces this one as a normal submission would.
  const send = async (form, submitter) => {
    const body = new FormData(form);
    if (submitter && submitter.name) {
      body.append(submitter.name, submitter.value);
    }
    const action = (submitter && submitter.getAttribute("formaction")) || form.action;
    const buttons = Array.from(form.querySelectorAll("button[type=submit], button:not([type])"));
    buttons.forEach((b) => { b.disabled = true; });
    let response;
    try {
      response = await fetch(action, { method: "POST", body, headers: { Accept: "text/html" }, credentials: "same-origin" });
    } catch {
      tell(form, "The silo cannot be reached: the connection failed, so this may not have been done. What you typed is kept; send it again once the silo is back.");
      buttons.forEach((b) => { b.disabled = false; });
      return;
    }
    buttons.forEach((b) => { b.disabled = false; });
    const type = response.headers.get("Content-Type") || "";
    const text = await response.text();
    const answer = type.includes("text/html") ? new DOMParser().parseFromString(text, "text/html") : null;
    const problem = answer && answer.querySelector("[data-problem]");
    if (problem || (!response.ok && !answer)) {
      const detail = problem ? problem.querySelector("[data-problem-detail]").textContent : `The silo answered ${response.status}.`;
      const title = problem ? problem.querySelector("[data-problem-title]").textContent : "Refused";
      if (response.status === 400 && title === "Form expired" && await refreshToken(form)) {
        tell(form, "The form had expired (you signed in again since it was shown). Nothing was done; it is ready again with what you typed: send it once more.");
      } else {
        tell(form, `${title}: ${detail}`);
      }
      return;
    }
    if (response.redirected) {
      window.location.assign(response.url);
      return;
    }
    document.open();
    document.write(text);
    document.close();
  };

  // <button data-confirm="…">: ask before a form that changes something is sent.
  document.addEventListener("submit", (event) => {
    const button = event.submitter;
    const message = button && button.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
      return;
    }
    const form = event.target;
    // <form data-fetch>: opted in, since a page whose figures also move live would otherwise change twice
    // (once by the stream, once by the answer) where a test or a person expects one navigation. Uploads
    // keep the browser's own submission: its progress and its handling of a body cut short.
    if (form instanceof HTMLFormElement && form.method.toLowerCase() === "post" && form.enctype !== "multipart/form-data"
        && form.hasAttribute("data-fetch") && window.fetch) {
      event.preventDefault();
      send(form, button);
    }
  });

  // <select data-autosubmit>: a filter applies as soon as it is chosen.
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => {
      if (select.form) {
        select.form.requestSubmit();
      }
    });
  }

  // <input type="radio" data-shows="id">: show the fieldset of the chosen option only.
  const toggles = document.querySelectorAll("input[data-shows]");
  const sync = () => {
    for (const toggle of toggles) {
      const target = document.getElementById(toggle.getAttribute("data-shows"));
      if (target) {
        target.hidden = !toggle.checked;
      }
    }
  };
  for (const toggle of toggles) {
    toggle.addEventListener("change", sync);
  }
  sync();

  // <textarea data-sms-length="id">: the text's SMS length as it is typed (R14.5), counted as the
  // server counts it: GSM-7 septets (an extension character takes two), else UCS-2 code units.
  const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  const gsmExtension = "\f^{}\\[~]|€";
  const smsLength = (text) => {
    let septets = 0;
    for (const c of text) {
      if (gsmBasic.includes(c)) {
        septets += 1;
      } else if (gsmExtension.includes(c)) {
        septets += 2;
      } else {
        const units = text.length;
        return { characters: units, segments: units === 0 ? 0 : units <= 70 ? 1 : Math.ceil(units / 67), encoding: "UCS-2" };
      }
    }
    return { characters: septets, segments: septets === 0 ? 0 : septets <= 160 ? 1 : Math.ceil(septets / 153), encoding: "GSM-7" };
  };
  for (const area of document.querySelectorAll("textarea[data-sms-length]")) {
    const output = document.getElementById(area.getAttribute("data-sms-length"));
    if (!output) {
      continue;
    }
    const show = () => {
      // Browsers send a textarea's line breaks as CR LF; the server counts them as one LF, like this.
      const length = smsLength(area.value.replace(/\r\n/g, "\n"));
      output.textContent = `As an SMS: ${length.characters} characters, ${length.segments} segment${length.segments === 1 ? "" : "s"} (${length.encoding}).`;
    };
    area.addEventListener("input", show);
    if (output.getAttribute("data-sms-channel") === "channel") {
      // On the New delivery form the length shows only while the SMS channel is chosen.
      const radios = document.querySelectorAll("input[name=channel]");
      const syncChannel = () => {
        output.hidden = !Array.from(radios).some((r) => r.checked && r.value === "Sms");
      };
      for (const radio of radios) {
        radio.addEventListener("change", syncChannel);
      }
      syncChannel();
    }
    show();
  }
});
