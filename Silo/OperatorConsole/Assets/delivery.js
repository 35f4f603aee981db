// The delivery page: the Deployment block follows the delivery through the silo's event stream
// (GET /api/deliveries/{id}/live); the page never polls and never reloads. Without it the page still works.
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
  const instant = (value) => value ? `${new Date(value).toISOString().slice(0, 16).replace("T", " ")} UTC` : "—";
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

  const source = new EventSource(block.getAttribute("data-live-url"));
  source.addEventListener("open", () => {
    indicator.textContent = "live";
    indicator.classList.add("on");
  });
  source.addEventListener("error", () => {
    indicator.textContent = "reconnecting…";
    indicator.classList.remove("on");
  });
  source.addEventListener("view", (event) => show(JSON.parse(event.data)));
  source.addEventListener("charts", (event) => {
    const charts = document.querySelector('[data-live="charts"]');
    if (charts) {
      charts.innerHTML = event.data;
    }
  });
  window.addEventListener("pagehide", () => source.close());
});
