// Progressive enhancement only: every page works without this file.
"use strict";

// Forms marked data-confirm ask in a dialog and then delete in one step; without JS the server asks instead.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
  if (!window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    return;
  }
  if (!form.querySelector('input[name="confirm"]')) {
    const confirmed = document.createElement("input");
    confirmed.type = "hidden";
    confirmed.name = "confirm";
    confirmed.value = "yes";
    form.appendChild(confirmed);
  }
});

// Radio buttons for the theme preview the choice at once.
document.addEventListener("change", (event) => {
  const input = event.target;
  if (input instanceof HTMLInputElement && input.name === "theme" && input.checked) {
    document.documentElement.dataset.theme = input.value;
  }
});

// Bank import, file format step: a changed select re-checks the settings at once (the "Check these settings" button
// does the same without JavaScript), so the raw lines and the columns found follow each correction.
document.addEventListener("change", (event) => {
  const field = event.target;
  if (!(field instanceof HTMLSelectElement)) return;
  const form = field.form;
  if (!form || form.dataset.autocheck === undefined) return;
  const check = form.querySelector('button[name="action"][value="check"]');
  if (check instanceof HTMLButtonElement) form.requestSubmit(check);
});
