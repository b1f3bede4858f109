// The WBS outline editor by keyboard (projects/wbs.html). Every action is also a button or
// a link in the row, so the page works without this file; this only maps keys to them.
// Keys act when a row itself has the focus (not a field or a button inside it):
//   Up / Down: previous / next row       Tab / Shift+Tab: indent / outdent
//   Enter: a new sibling below            F2: edit the row
//   Alt+Up / Alt+Down: move the row       Escape: leave the outline (to the "add" field)
(function () {
  "use strict";

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#outline tr.wbs-row[data-item]"));
  }

  function focusRow(row) {
    if (!row) return;
    rows().forEach(function (r) { r.setAttribute("tabindex", "-1"); });
    row.setAttribute("tabindex", "0");
    row.focus();
  }

  function press(row, key) {
    var control = row.querySelector('[data-key="' + key + '"]');
    if (control) control.click();
    return Boolean(control);
  }

  document.addEventListener("keydown", function (event) {
    var row = event.target;
    if (!(row instanceof HTMLElement) || !row.matches("#outline tr.wbs-row[data-item]")) return;
    var all = rows();
    var index = all.indexOf(row);
    var handled = true;
    if (event.key === "ArrowDown" && event.altKey) handled = press(row, "down");
    else if (event.key === "ArrowUp" && event.altKey) handled = press(row, "up");
    else if (event.key === "ArrowDown") focusRow(all[index + 1]);
    else if (event.key === "ArrowUp") focusRow(all[index - 1]);
    else if (event.key === "Home") focusRow(all[0]);
    else if (event.key === "End") focusRow(all[all.length - 1]);
    else if (event.key === "Tab" && event.shiftKey) handled = press(row, "outdent");
    else if (event.key === "Tab") handled = press(row, "indent");
    else if (event.key === "Enter") handled = press(row, "sibling");
    else if (event.key === "F2") handled = press(row, "edit");
    else if (event.key === "Escape") {
      var exit = document.getElementById("add-name");
      if (exit) exit.focus();
    } else handled = false;
    if (handled) event.preventDefault();
  });

  // Escape in a row editor or a new row: back to the outline as it was.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !(event.target instanceof HTMLElement)) return;
    var editing = event.target.closest("#outline tr.editing");
    if (!editing) return;
    var cancel = editing.querySelector('[data-key="cancel"]');
    if (editing.id === "new-row") {
      var previous = editing.previousElementSibling;
      editing.remove();
      focusRow(previous);
    } else if (cancel) {
      cancel.click();
    }
    event.preventDefault();
  });

  // After htmx swaps the outline (or a row of it), put the focus where the person works:
  // in the row being edited or added, else on the row the server named.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.target;
    var id = (target && target.id) || "";
    if (id !== "outline" && id.indexOf("wi-") !== 0) return;
    var editing = document.querySelector("#outline tr.editing");
    if (editing) {
      var field = editing.querySelector("input:not([type=hidden]), select");
      if (field) { field.focus(); return; }
    }
    var outline = document.getElementById("outline");
    if (outline && outline.dataset.focus) {
      focusRow(document.getElementById("wi-" + outline.dataset.focus));
    }
  });

  // The Gantt's label column stays in view while the chart scrolls sideways (phones), and a
  // chart whose today line is out of view opens near today.
  function gantt(scroller) {
    var svg = scroller.querySelector("svg.gantt");
    var labels = scroller.querySelector(".gantt-labels");
    if (!svg || !labels || scroller.dataset.ready) return;
    scroller.dataset.ready = "1";
    scroller.addEventListener("scroll", function () {
      labels.setAttribute("transform", "translate(" + scroller.scrollLeft + ",0)");
    }, { passive: true });
    var todayX = parseFloat(svg.getAttribute("data-today-x") || "");
    var labelWidth = parseFloat(svg.getAttribute("data-label-width") || "0");
    if (!isNaN(todayX) && todayX > scroller.clientWidth - 40) {
      scroller.scrollLeft = Math.max(0, todayX - labelWidth - 60);
    }
  }
  function gantts() {
    document.querySelectorAll(".gantt-scroll").forEach(gantt);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", gantts);
  else gantts();
  document.addEventListener("htmx:afterSettle", gantts);
})();
