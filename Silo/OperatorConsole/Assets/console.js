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
});
