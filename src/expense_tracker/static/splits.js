// Split payment form, progressive enhancement only: without this file "Add a part" submits the form for one more
// row and the remaining amount is shown after each submit.
"use strict";

(() => {
  const form = document.querySelector("form[data-split-form]");
  if (!form) return;
  const { locale, decimal, group } = form.dataset;

  // An amount as typed in the user's locale, in cents (integers: no float sums), or null when it cannot be read.
  const cents = (text) => {
    let value = String(text || "").replace(/[\s\u00a0\u202f]/g, "");
    value = value.replace(/^[^0-9\-\u2212]+|[^0-9]+$/g, ""); // a currency symbol or code before or after the number
    value = value.replace(/^\u2212/, "-").split(group).join("").replace(decimal, ".");
    if (!/^-?\d+(\.\d{1,2})?$/.test(value)) return null;
    const [whole, fraction = ""] = value.replace("-", "").split(".");
    return Number(whole) * 100 + Number(fraction.padEnd(2, "0"));
  };

  const output = form.querySelector("[data-split-remaining]");
  const update = () => {
    const total = cents(form.querySelector("[data-split-total]").value);
    if (total === null || !output) {
      if (output) output.textContent = "—";
      return;
    }
    let assigned = 0;
    for (const input of form.querySelectorAll("[data-split-part]")) assigned += cents(input.value) || 0;
    const currency = form.querySelector('select[name="currency"]').value;
    const left = (total - assigned) / 100;
    try {
      output.textContent = new Intl.NumberFormat(locale, { style: "currency", currency }).format(left);
    } catch {
      output.textContent = left.toFixed(2);
    }
  };
  form.addEventListener("input", update);
  form.addEventListener("change", update);

  // "Add a part" in place: a copy of the last row, renumbered and blank.
  const add = form.querySelector("[data-split-add]");
  const rows = form.querySelector("[data-split-rows]");
  add.addEventListener("click", (event) => {
    event.preventDefault();
    const list = form.querySelector("[data-split-list]");
    const last = list.lastElementChild;
    const index = list.children.length;
    const row = last.cloneNode(true);
    const renumber = (value) =>
      value.replace(/part-\d+-/g, `part-${index}-`).replace(/part \d+/g, `part ${index + 1}`);
    for (const node of row.querySelectorAll("*")) {
      for (const name of ["id", "name", "for", "aria-describedby"]) {
        const value = node.getAttribute(name);
        if (value) node.setAttribute(name, renumber(value));
      }
      if (node.tagName === "LABEL") node.textContent = renumber(node.textContent);
    }
    for (const error of row.querySelectorAll(".error")) error.remove();
    for (const field of row.querySelectorAll(".has-error")) field.classList.remove("has-error");
    for (const input of row.querySelectorAll("input, select, textarea")) {
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
      if (input.tagName === "SELECT") input.selectedIndex = 0;
      else input.value = "";
    }
    list.appendChild(row);
    rows.value = String(index + 1);
    row.querySelector("select").focus();
    update();
  });
  update();
})();
