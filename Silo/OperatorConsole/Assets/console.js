// DeliveryGrains operator console: the few behaviours plain HTML lacks. Every page works without it.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // <button data-confirm="…">: ask before a form that changes something is sent.
  document.addEventListener("submit", (event) => {
    const button = event.submitter;
    const message = button && button.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
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
