// The header's search box: a combobox (WAI-ARIA 1.2) over the dropdown that htmx fetches.
// Without this file the box is a plain GET form to the search page.
//   "/" or Ctrl/Cmd-K: focus it; ArrowDown/ArrowUp: move through the results;
//   Enter: open the highlighted result (or the search page); Escape: close, then clear.
(function () {
  "use strict";

  function input() { return document.getElementById("site-search-q"); }
  function pop() { return document.getElementById("site-search-pop"); }
  function options() {
    var box = pop();
    return box ? Array.prototype.slice.call(box.querySelectorAll('[role="option"]:not([aria-disabled="true"])')) : [];
  }

  function setActive(option) {
    var field = input();
    options().forEach(function (o) {
      var on = o === option;
      o.setAttribute("aria-selected", on ? "true" : "false");
      o.classList.toggle("active", on);
    });
    if (option) {
      field.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      field.removeAttribute("aria-activedescendant");
    }
  }

  function active() {
    var box = pop();
    return box ? box.querySelector('[role="option"][aria-selected="true"]') : null;
  }

  function open() {
    var box = pop(), field = input();
    if (!box || !field) return;
    var list = box.querySelector('[role="listbox"]');
    if (!list) { close(); return; }
    box.hidden = false;
    field.setAttribute("aria-expanded", "true");
    field.setAttribute("aria-controls", list.id);
  }

  function close() {
    var box = pop(), field = input();
    if (!box || !field) return;
    box.hidden = true;
    field.setAttribute("aria-expanded", "false");
    setActive(null);
  }

  function isTyping(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  document.addEventListener("keydown", function (event) {
    var field = input();
    if (!field) return;
    var shortcut = (event.key === "k" || event.key === "K") && (event.ctrlKey || event.metaKey);
    if (shortcut || (event.key === "/" && !isTyping(event.target) && !event.ctrlKey && !event.metaKey && !event.altKey)) {
      event.preventDefault();
      field.focus();
      field.select();
      return;
    }
    if (event.target !== field) return;
    var all = options();
    var current = active();
    var index = current ? all.indexOf(current) : -1;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (pop().hidden && all.length) open();
      if (!all.length) return;
      event.preventDefault();
      var step = event.key === "ArrowDown" ? 1 : -1;
      var next = index === -1 ? (step === 1 ? 0 : all.length - 1) : (index + step + all.length) % all.length;
      setActive(all[next]);
    } else if (event.key === "Enter") {
      var link = current && current.querySelector("a[href]");
      if (link && !pop().hidden) {
        event.preventDefault();
        window.location.assign(link.getAttribute("href"));
      }
    } else if (event.key === "Escape") {
      if (!pop().hidden) {
        event.preventDefault();
        close();
      } else if (field.value) {
        event.preventDefault();
        field.value = "";
      }
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.id === "site-search-pop") {
      setActive(null);
      if (document.activeElement === input()) open(); else close();
    }
  });

  document.addEventListener("mouseover", function (event) {
    var option = event.target.closest && event.target.closest('#site-search-pop [role="option"]');
    if (option && option.getAttribute("aria-disabled") !== "true") setActive(option);
  });

  document.addEventListener("click", function (event) {
    var form = input() && input().form;
    if (form && !form.contains(event.target)) close();
  });

  document.addEventListener("focusin", function (event) {
    var field = input();
    if (!field) return;
    if (event.target === field && pop().querySelector('[role="listbox"]') && field.value) open();
    else if (field.form && !field.form.contains(event.target)) close();
  });
})();
