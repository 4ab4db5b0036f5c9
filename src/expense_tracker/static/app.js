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

// Keyboard shortcuts: "n" opens the new-expense form, "/" moves to the expenses search (from another page: to the
// expenses list, focused on its search). Ignored while typing in a field or with a modifier held, so "n" and "/" can
// still be typed. The footer documents them; it is shown only here, since without JavaScript they do nothing.
const shortcutsHelp = document.querySelector("[data-shortcuts]");
if (shortcutsHelp) shortcutsHelp.hidden = false;

function isTyping(target) {
  return target instanceof HTMLElement && (target.isContentEditable || target.closest("input, textarea, select") !== null);
}

document.addEventListener("keydown", (event) => {
  if (!shortcutsHelp || event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
  if (isTyping(event.target)) return;
  if (event.key === "n") {
    event.preventDefault();
    window.location.assign("/expenses/new");
  } else if (event.key === "/") {
    event.preventDefault();
    const search = document.getElementById("search");
    if (search instanceof HTMLInputElement) {
      search.focus();
      search.select();
    } else {
      window.location.assign("/expenses#search");
    }
  }
});

if (window.location.hash === "#search") {
  const search = document.getElementById("search");
  if (search instanceof HTMLInputElement) search.focus();
}
