// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // Close an open <details> menu on outside click or Escape, as people expect of menus.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      var summary = menu.querySelector("summary");
      if (summary) summary.focus();
    });
  });

  // Phones: a list table reads as stacked cards ("table.cards" in app.css), each cell
  // labelled with its column's header, so the labels are in the page's language. Without
  // this file a table keeps its columns and scrolls sideways inside its .table-wrap.
  function headerText(th) {
    var copy = th.cloneNode(true);
    copy.querySelectorAll(".visually-hidden, [aria-hidden='true']").forEach(function (node) {
      node.remove();
    });
    return copy.textContent.replace(/\s+/g, " ").trim();
  }
  function cards(table) {
    if (table.classList.contains("stack-sm") || table.getAttribute("data-cards") === "off") return;
    var head = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    var names = [];
    if (head) {
      Array.prototype.forEach.call(head.cells, function (th) {
        var text = headerText(th);
        for (var i = 0; i < (th.colSpan || 1); i++) names.push(text);
      });
    }
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          var name = names[column] || "";
          var spansAll = cell.colSpan > 1 && cell.colSpan >= names.length;
          if (name && !spansAll && !cell.hasAttribute("data-label")) {
            cell.setAttribute("data-label", name);
          }
          column += cell.colSpan || 1;
        });
      });
    });
    table.classList.add("cards");
  }
  function allCards() {
    document.querySelectorAll(".table-wrap table, .table-scroll table").forEach(cards);
  }
  document.addEventListener("htmx:afterSettle", allCards);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", allCards);
  else allCards();
})();
