// @mentions in comment boxes (textarea[data-mentions="<JSON endpoint>"]): typing "@" and the
// start of a name lists matching members; ArrowDown/ArrowUp move, Enter or Tab inserts
// "@Name ", Escape closes. Without this file people type the name themselves; the server
// recognises "@Name" and "@e-mail" either way.
(function () {
  "use strict";
  var TOKEN = /(^|[\s(\[{,;:])@([^\s@]{0,30})$/;
  var counter = 0;

  function setup(area) {
    if (area.dataset.mentionsReady) return;
    area.dataset.mentionsReady = "1";
    counter += 1;
    var list = document.createElement("ul");
    list.className = "mention-list";
    list.id = "mention-list-" + counter;
    list.setAttribute("role", "listbox");
    list.hidden = true;
    var box = document.createElement("div");
    box.className = "mention-box";
    area.parentNode.insertBefore(box, area.nextSibling);
    box.appendChild(list);
    area.setAttribute("aria-autocomplete", "list");
    area.setAttribute("aria-controls", list.id);
    var timer = null, token = null, seq = 0;

    function close() {
      list.hidden = true;
      list.textContent = "";
      area.removeAttribute("aria-activedescendant");
      token = null;
    }

    function options() { return Array.prototype.slice.call(list.querySelectorAll('[role="option"]')); }

    function activate(option) {
      options().forEach(function (o) { o.setAttribute("aria-selected", o === option ? "true" : "false"); });
      if (option) area.setAttribute("aria-activedescendant", option.id);
    }

    function pick(option) {
      if (!option || !token) return;
      var insert = option.getAttribute("data-insert") + " ";
      var value = area.value;
      area.value = value.slice(0, token.start) + insert + value.slice(token.end);
      var caret = token.start + insert.length;
      area.setSelectionRange(caret, caret);
      close();
      area.focus();
    }

    function show(results) {
      list.textContent = "";
      results.forEach(function (person, index) {
        var li = document.createElement("li");
        li.setAttribute("role", "option");
        li.id = list.id + "-" + index;
        li.setAttribute("aria-selected", index === 0 ? "true" : "false");
        li.setAttribute("data-insert", person.insert);
        li.textContent = person.name + " ";
        var small = document.createElement("small");
        small.textContent = person.email;
        li.appendChild(small);
        li.addEventListener("mousedown", function (event) { event.preventDefault(); pick(li); });
        list.appendChild(li);
      });
      list.hidden = results.length === 0;
      if (results.length) area.setAttribute("aria-activedescendant", list.id + "-0");
      else area.removeAttribute("aria-activedescendant");
    }

    function lookup() {
      var caret = area.selectionStart;
      var match = TOKEN.exec(area.value.slice(0, caret));
      if (!match) { close(); return; }
      token = { start: caret - match[2].length - 1, end: caret };
      var mine = ++seq;
      clearTimeout(timer);
      timer = setTimeout(function () {
        var url = area.getAttribute("data-mentions") + "?q=" + encodeURIComponent(match[2]);
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { results: [] }; })
          .then(function (data) { if (mine === seq && token) show(data.results || []); })
          .catch(function () { close(); });
      }, 120);
    }

    area.addEventListener("input", lookup);
    area.addEventListener("blur", function () { setTimeout(close, 150); });
    area.addEventListener("keydown", function (event) {
      if (list.hidden) return;
      var all = options();
      var current = list.querySelector('[aria-selected="true"]');
      var index = all.indexOf(current);
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        var step = event.key === "ArrowDown" ? 1 : -1;
        activate(all[(index + step + all.length) % all.length]);
      } else if (event.key === "Enter" || event.key === "Tab") {
        if (current) { event.preventDefault(); pick(current); }
      } else if (event.key === "Escape") {
        event.preventDefault();
        close();
      }
    });
  }

  function scan(root) {
    (root || document).querySelectorAll("textarea[data-mentions]").forEach(setup);
  }

  document.addEventListener("htmx:afterSwap", function () { scan(); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { scan(); });
  else scan();
})();
