// Bulk bars (form[data-bulk]): count the ticked rows, "Select all", show only the fields of
// the chosen action. Without this file every field shows and the server checks the rest.
(function () {
  "use strict";

  function picks(form) {
    return Array.prototype.slice.call(
      document.querySelectorAll('input[type="checkbox"][name="ids"][form="' + form.id + '"]')
    );
  }

  function refresh(form) {
    var boxes = picks(form);
    var ticked = boxes.filter(function (b) { return b.checked; }).length;
    var count = form.querySelector("[data-bulk-count]");
    if (count) {
      count.textContent = ticked
        ? count.getAttribute("data-some").replace("%(n)s", String(ticked))
        : count.getAttribute("data-none");
    }
    var all = form.querySelector("[data-bulk-all]");
    if (all) {
      all.checked = boxes.length > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
      all.closest("label").hidden = boxes.length === 0;
    }
    var submit = form.querySelector("[data-bulk-submit]");
    if (submit) submit.disabled = ticked === 0;
    var action = form.querySelector("[data-bulk-action]");
    form.querySelectorAll("[data-bulk-for]").forEach(function (field) {
      field.hidden = !action || field.getAttribute("data-bulk-for") !== action.value;
    });
  }

  function all() {
    document.querySelectorAll("form[data-bulk]").forEach(refresh);
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-bulk-all]")) {
      var form = target.closest("form[data-bulk]");
      picks(form).forEach(function (box) { box.checked = target.checked; });
      refresh(form);
    } else if (target.matches && target.matches('input[name="ids"][form], form[data-bulk] select')) {
      all();
    }
  });
  document.addEventListener("htmx:afterSwap", all);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", all);
  else all();
})();
