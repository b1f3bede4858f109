// "Log this call?": after a rep taps a tel: link (a[data-call-prompt]) and the phone's
// dialer takes over, the page is hidden; when it shows again, a banner offers the quick log
// set up for that call (channel: call, the customer and the contact). Dismissed, or after
// two hours, it stays away.
(function () {
  "use strict";
  var KEY = "followup-call";
  var FRESH_MS = 2 * 60 * 60 * 1000;

  function read() {
    try { return JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch (e) { return null; }
  }
  function write(call) {
    try {
      if (call) sessionStorage.setItem(KEY, JSON.stringify(call)); else sessionStorage.removeItem(KEY);
    } catch (e) { /* storage off: no prompt */ }
  }

  function banner() { return document.getElementById("call-prompt"); }

  function show(call) {
    var box = banner();
    if (!box) return;
    box.querySelector("[data-call-text]").textContent =
      box.getAttribute("data-text").replace("%(name)s", call.name);
    box.querySelector("[data-call-log]").setAttribute("href", call.url);
    box.hidden = false;
  }

  function hide() {
    var box = banner();
    if (box) box.hidden = true;
  }

  function check() {
    var call = read();
    if (!call) return;
    if (Date.now() - call.at > FRESH_MS) { write(null); hide(); return; }
    if (call.left) show(call);
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-call-prompt]");
    if (link) {
      write({ url: link.getAttribute("data-call-prompt"), name: link.getAttribute("data-call-name") || "", at: Date.now(), left: false });
      return;
    }
    if (event.target.closest && event.target.closest("[data-call-dismiss], [data-call-log]")) {
      write(null);
      hide();
    }
  });

  document.addEventListener("visibilitychange", function () {
    var call = read();
    if (!call) return;
    if (document.visibilityState === "hidden") {
      call.left = true; // the dialer (or another app) took over after the tap
      write(call);
    } else {
      check();
    }
  });

  window.addEventListener("pageshow", check);
})();
