// The delivery page: the Deployment block follows the delivery through the silo's event stream
// (GET /api/deliveries/{id}/live); the page never polls and never reloads. Without it the page still works.
// When the stream drops, a banner says since when the figures stand and they are dimmed until it is back.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // <button data-opens="id"> opens a <dialog>; <button data-closes="id"> closes it.
  for (const button of document.querySelectorAll("[data-opens]")) {
    button.addEventListener("click", () => document.getElementById(button.getAttribute("data-opens"))?.showModal());
  }
  for (const button of document.querySelectorAll("[data-closes]")) {
    button.addEventListener("click", () => document.getElementById(button.getAttribute("data-closes"))?.close());
  }

  const block = document.querySelector("[data-live-url]");
  if (!block || !window.EventSource) {
    return;
  }

  const indicator = block.querySelector(".live-indicator");
  const set = (name, text) => {
    for (const element of document.querySelectorAll(`[data-live="${name}"]`)) {
      if (element.textContent !== text) {
        element.textContent = text;
      }
    }
  };
  const number = (value) => value.toLocaleString("en-US");
  const percent = (value) => `${Math.round(value * 10) / 10} %`;
  // In the browser's zone, as console.js writes the page's <time> elements.
  const pad = (n) => String(n).padStart(2, "0");
  const instant = (value) => {
    if (!value) {
      return "—";
    }
    const date = new Date(value);
    const zone = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" }).formatToParts(date).find((p) => p.type === "timeZoneName");
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())} ${zone ? zone.value : ""}`.trim();
  };
  const statusText = (status) => status === "InProgress" ? "In progress" : status;

  const show = (view) => {
    const k = view.kpis;
    const progress = k.toDeliver === 0 ? 0 : k.sent / k.toDeliver * 100;
    for (const name of ["toDeliver", "sent", "delivered", "bouncesAndErrors", "opens", "clicks", "pending", "awaitingRetry", "unsubscriptions", "complaints"]) {
      set(name, number(k[name]));
    }
    for (const name of ["deliveredRate", "bouncesAndErrorsRate", "openRate", "clickThroughRate"]) {
      set(name, percent(k[name]));
    }
    set("progress", percent(progress));
    set("validUntil", instant(view.validUntil));
    document.querySelector('[data-live="progress-fill"]')?.style.setProperty("width", `${Math.round(progress * 10) / 10}%`);
    document.querySelector('[data-live="progressbar"]')?.setAttribute("aria-valuenow", String(Math.round(progress)));

    const badge = document.querySelector('[data-live="status"]');
    if (badge) {
      badge.textContent = statusText(view.status);
      badge.className = `status status-${view.status.toLowerCase()} status-large`;
    }
    // Each action is offered in the statuses that allow it.
    for (const action of document.querySelectorAll("[data-when]")) {
      action.hidden = !action.getAttribute("data-when").split(" ").includes(view.status);
    }
    block.dataset.status = view.status;
  };

  const rate = (perSecond) => perSecond === null || perSecond === undefined ? "—"
    : `${perSecond.toLocaleString("en-US", { maximumFractionDigits: perSecond >= 100 ? 0 : 1, minimumFractionDigits: perSecond >= 100 ? 0 : 1 })}/s`;
  const two = (n) => String(n).padStart(2, "0");
  // In the first minute of sending the silo gives no time left but says it is estimating (DeploymentPace.cs).
  const timeLeft = (s, estimating) => s === null || s === undefined ? (estimating ? "estimating…" : "—")
    : s >= 3600 ? `${Math.floor(s / 3600)} h ${two(Math.floor(s % 3600 / 60))} min`
    : s >= 60 ? `${Math.floor(s / 60)} min ${two(s % 60)} s` : `${s} s`;
  const cell = (tag, text, numeric) => {
    const element = document.createElement(tag);
    element.textContent = text;
    if (tag === "th") {
      element.scope = "row";
    }
    if (numeric) {
      element.className = "num";
    }
    return element;
  };

  // A Reports table and its "none so far" line: one of the two shows; the rows are made again each time.
  const fillReport = (name, rows) => {
    const body = document.querySelector(`[data-live="${name}"]`);
    if (!body) {
      return;
    }
    const none = document.querySelector(`[data-live="${name}-none"]`);
    const table = document.querySelector(`[data-live="${name}-table"]`);
    if (none) {
      none.hidden = rows.length > 0;
    }
    if (table) {
      table.hidden = rows.length === 0;
    }
    body.replaceChildren(...rows);
  };
  const showReports = (reports) => {
    const total = Math.max(reports.bounces.reduce((sum, b) => sum + b.count, 0), 1);
    fillReport("bounces", reports.bounces.map((b) => {
      const row = document.createElement("tr");
      if (b.type) {
        row.dataset.type = b.type;
      }
      if (b.reason) {
        row.dataset.reason = b.reason;
      }
      row.append(cell("td", b.type || "—"), cell("td", b.reason || "—"), cell("td", number(b.count), true), cell("td", percent(100 * b.count / total), true));
      return row;
    }));
    if (reports.links) {
      fillReport("links", reports.links.map((link) => {
        const row = document.createElement("tr");
        row.dataset.link = String(link.link);
        const url = cell("td", link.url);
        url.className = "url";
        row.append(url, cell("td", number(link.clicks), true), cell("td", number(link.uniqueClicks), true));
        return row;
      }));
    }
  };
  const showBounceDomains = (domains) => {
    const sorted = [...domains].sort((a, b) => b.bouncesAndErrors - a.bouncesAndErrors || (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0));
    fillReport("bounce-domains", sorted.map((d) => {
      const row = document.createElement("tr");
      row.dataset.domain = d.domain;
      row.append(cell("th", d.domain), cell("td", number(d.sent), true), cell("td", number(d.bouncesAndErrors), true),
        cell("td", percent(d.sent === 0 ? 0 : 100 * d.bouncesAndErrors / d.sent), true));
      return row;
    }));
  };

  const showPace = (pace) => {
    set("rate", rate(pace.ratePerSecond));
    set("timeLeft", timeLeft(pace.secondsLeft, pace.estimating === true));
    set("deferred", number(pace.deferred));
    showBounceDomains(pace.domains);
    const body = document.querySelector('[data-live="domains"]');
    const wrapper = document.querySelector('[data-live="domains-block"]');
    if (!body || !wrapper) {
      return;
    }
    wrapper.hidden = pace.domains.length === 0;
    const rows = pace.domains.map((d) => {
      const row = document.createElement("tr");
      row.dataset.domain = d.domain;
      row.append(cell("th", d.domain), ...[d.toDeliver, d.sent, d.delivered, d.bouncesAndErrors, d.deferrals].map((n) => cell("td", number(n), true)),
        cell("td", d.rateCapPerMinute === null || d.rateCapPerMinute === undefined ? "—" : number(d.rateCapPerMinute), true));
      return row;
    });
    body.replaceChildren(...rows);
  };

  // The time of the last figures received: what the banner says when the stream drops.
  const banner = document.querySelector('[data-testid="connection-lost"]');
  let receivedAt = new Date();
  const received = () => {
    receivedAt = new Date();
    connected();
  };
  const connected = () => {
    if (banner) {
      banner.hidden = true;
    }
    block.classList.remove("stale");
  };
  const lost = () => {
    set("asOf", receivedAt.toLocaleTimeString("en-GB", { hour12: false }));
    if (banner) {
      banner.hidden = false;
    }
    block.classList.add("stale");
  };

  const source = new EventSource(block.getAttribute("data-live-url"));
  source.addEventListener("open", () => {
    indicator.textContent = "live";
    indicator.classList.add("on");
    connected();
  });
  source.addEventListener("error", () => {
    indicator.textContent = "reconnecting…";
    indicator.classList.remove("on");
    lost();
  });
  source.addEventListener("view", (event) => {
    received();
    show(JSON.parse(event.data));
  });
  source.addEventListener("pace", (event) => {
    received();
    showPace(JSON.parse(event.data));
  });
  source.addEventListener("reports", (event) => {
    received();
    showReports(JSON.parse(event.data));
  });
  source.addEventListener("charts", (event) => {
    const charts = document.querySelector('[data-live="charts"]');
    if (charts) {
      charts.innerHTML = event.data;
    }
  });
  window.addEventListener("pagehide", () => source.close());
});
