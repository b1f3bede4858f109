// My day's row actions (followup/home.html#day-row): each open row gets Done and
// Snooze (a menu of presets and its button) from the page's one <template id="day-actions">,
// as htmx posts that swap the row, every button named after its row's follow-up for screen
// readers ("Done: Call ACME"), as elsewhere in the app. Without this file the follow-up's
// own page (its title links there) has every action.
(function () {
  "use strict";
  var ZERO = "00000000-0000-0000-0000-000000000000";
  var made = 0;

  function named(element, title) {
    var hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = ": " + title;
    element.appendChild(hidden);
  }

  function enhance(root) {
    var template = document.getElementById("day-actions");
    if (!window.htmx || !template || !root.querySelectorAll) return;
    root.querySelectorAll("tr[id^='fu-'] [data-day]").forEach(function (box) {
      box.removeAttribute("data-day");
      var row = box.closest("tr");
      var title = row.querySelector("td a").textContent;
      var base = template.getAttribute("data-url").replace(ZERO, row.id.slice(3));
      var parts = template.content.cloneNode(true);
      var id = "snooze-" + (made += 1);
      parts.querySelector("label").htmlFor = id;
      parts.querySelector("select").id = id;
      parts.querySelectorAll("button[data-action]").forEach(function (button) {
        var action = button.getAttribute("data-action");
        button.setAttribute("hx-post", base.replace(/complete\/$/, action + "/"));
        button.setAttribute("hx-target", "closest tr");
        button.setAttribute("hx-swap", "outerHTML");
        button.setAttribute("hx-vals", '{"row": "day"}');
        if (action === "snooze") button.setAttribute("hx-include", "#" + id);
        named(button, title);
      });
      box.querySelectorAll("a.button").forEach(function (link) { named(link, title); });
      box.insertBefore(parts, box.firstChild);
      window.htmx.process(box);
    });
  }

  document.addEventListener("htmx:load", function (event) { enhance(event.target); });
  if (document.readyState !== "loading") enhance(document);
})();
