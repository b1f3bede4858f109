// The offline quick log. Every touchpoint a rep saves goes first into an outbox on the phone
// (IndexedDB), with its own Idempotency-Key made when Save is tapped, and leaves the outbox
// only once the server has answered. Without a network the rep keeps logging; when the
// network is back the outbox sends, oldest first. A send that was cut off is sent again
// with the same key, and the server answers with what it did the first time: nothing is
// lost and nothing is logged twice. The header shows how many wait ("2 waiting to send");
// the quick log page lists them.
//
// It also registers the service worker (/sw.js) that keeps the quick log page and the app
// shell for use without a network. Without IndexedDB or fetch the form posts as before.
(function () {
  "use strict";

  var DB_NAME = "followup-offline";
  var STORE = "outbox";
  var LOCK = "followup-outbox";
  var RETRY_MS = [2000, 5000, 15000, 30000];

  // --- IndexedDB ---------------------------------------------------------------------
  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE, { keyPath: "key" }); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var request = work(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(request ? request.result : undefined); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function put(record) { return withStore("readwrite", function (s) { return s.put(record); }); }
  function remove(key) { return withStore("readwrite", function (s) { return s.delete(key); }); }
  function get(key) { return withStore("readonly", function (s) { return s.get(key); }); }
  function all() {
    return withStore("readonly", function (s) { return s.getAll(); }).then(function (rows) {
      return (rows || []).sort(function (a, b) { return a.createdAt - b.createdAt; });
    });
  }

  // --- Who and where -----------------------------------------------------------------
  function status() { return document.getElementById("outbox-status"); }
  function me() { var s = status(); return s ? s.getAttribute("data-user") : ""; }
  function mine(record) { return record.user === me(); }
  function words(name) {
    var holder = document.getElementById("outbox-words");
    return holder ? holder.getAttribute("data-" + name) || "" : "";
  }

  var csrf = null;
  function token() {
    if (csrf) return csrf;
    var input = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }
  function freshToken() {
    return fetch("/csrf-token", { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (data) { csrf = data.csrfToken; return csrf; });
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // --- Sending -----------------------------------------------------------------------
  // One send at a time, in this tab and across tabs (a second tab would only meet a 409).
  var chain = Promise.resolve();
  function serial(work) {
    var run = function () {
      return navigator.locks ? navigator.locks.request(LOCK, work) : work();
    };
    var next = chain.then(run, run);
    chain = next.catch(function () { return undefined; });
    return next;
  }

  function attempt(record, retried) {
    return fetch(record.url, {
      method: "POST",
      body: record.body,
      credentials: "same-origin",
      redirect: "manual",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
        "Idempotency-Key": record.key,
        "X-CSRFToken": token(),
        "HX-Request": "true",
        "HX-Target": "quick-log",
      },
    }).then(function (response) {
      if (response.type === "opaqueredirect" || response.status === 401) return { kind: "login" };
      if (response.status === 403 && response.headers.get("X-CSRF-Failure") && !retried) {
        return freshToken().then(function () { return attempt(record, true); });
      }
      if (response.ok) {
        var refused = response.headers.get("X-Form-Invalid");
        return response.text().then(function (html) { return { kind: refused ? "invalid" : "done", html: html }; });
      }
      if (response.status === 400 || response.status === 422) {
        return response.text().then(function (html) { return { kind: "invalid", html: html }; });
      }
      if (response.status === 403) return { kind: "forbidden" };
      return { kind: "retry" }; // 409 (still running), 429, 5xx
    }, function () {
      return { kind: "retry" }; // no network, or the answer was lost on the way
    });
  }

  function errorText(html) {
    var doc = new DOMParser().parseFromString(html || "", "text/html");
    var parts = [];
    doc.querySelectorAll(".errorlist li, .form-errors p").forEach(function (el) { parts.push(el.textContent.trim()); });
    return parts.join(" ") || words("invalid");
  }

  // Settle one answer; returns true when the outbox should stop for now.
  function settle(record, outcome) {
    if (outcome.kind === "done") return remove(record.key).then(function () { return false; });
    if (outcome.kind === "invalid" || outcome.kind === "forbidden") {
      record.state = "failed";
      record.error = outcome.kind === "invalid" ? errorText(outcome.html) : words("forbidden");
      return put(record).then(function () { return false; });
    }
    record.state = outcome.kind === "login" ? "login" : "waiting";
    record.attempts = (record.attempts || 0) + 1;
    return put(record).then(function () { return true; });
  }

  var flushing = false;
  var timer = null;
  function schedule(attempts) {
    clearTimeout(timer);
    timer = setTimeout(flush, RETRY_MS[Math.min(attempts || 0, RETRY_MS.length - 1)]);
  }

  function flush() {
    if (!window.indexedDB || flushing) return Promise.resolve();
    if (navigator.onLine === false) { render(); return Promise.resolve(); }
    flushing = true;
    return serial(function () {
      return all().then(function (records) {
        var waiting = records.filter(function (r) { return mine(r) && r.state !== "failed"; });
        return waiting.reduce(function (stopped, record) {
          return stopped.then(function (stop) {
            if (stop) return true;
            // Another tab may have sent it meanwhile.
            return get(record.key).then(function (current) {
              if (!current) return false;
              return attempt(current).then(function (outcome) {
                if (outcome.kind === "done") announce(words("sent").replace("%(customer)s", current.label.customer));
                return settle(current, outcome);
              });
            });
          });
        }, Promise.resolve(false));
      });
    }).then(function (stopped) {
      flushing = false;
      return render().then(function (left) { if (stopped && left) schedule(left.attempts); });
    }, function () {
      flushing = false;
      return render();
    });
  }

  // --- The form ------------------------------------------------------------------------
  function describe(form) {
    var customer = form.querySelector('select[name="customer"]');
    var option = customer && customer.selectedOptions[0];
    var channel = form.querySelector('input[name="channel"]:checked');
    var summary = form.querySelector('[name="summary"]');
    return {
      customer: option && option.value ? option.textContent.trim() : "",
      channel: channel && channel.closest("label") ? channel.closest("label").textContent.trim() : "",
      summary: summary ? summary.value.trim().slice(0, 120) : "",
    };
  }

  function note(form, text) {
    var box = form.querySelector("[data-offline-note]");
    if (!box) return;
    box.textContent = text;
    box.hidden = !text;
  }

  function withoutMissingTargets(html) {
    // An out-of-band part whose target is not on this page would only log an error.
    var template = document.createElement("template");
    template.innerHTML = html;
    template.content.querySelectorAll("[hx-swap-oob]").forEach(function (el) {
      var spec = el.getAttribute("hx-swap-oob");
      var selector = spec.indexOf(":") !== -1 ? spec.slice(spec.indexOf(":") + 1) : "#" + el.id;
      if (!document.querySelector(selector)) el.remove();
    });
    return template.innerHTML;
  }

  function show(html) {
    var target = document.getElementById("quick-log");
    if (target && window.htmx) window.htmx.swap(target, withoutMissingTargets(html), { swapStyle: "outerHTML" });
  }

  function save(form) {
    var data = new FormData(form);
    data.delete("csrfmiddlewaretoken");
    var record = {
      key: newKey(),
      url: form.getAttribute("action"),
      body: new URLSearchParams(data).toString(),
      createdAt: Date.now(),
      user: me(),
      label: describe(form),
      state: "waiting",
      error: "",
      attempts: 0,
    };
    var input = form.querySelector('input[name="csrfmiddlewaretoken"]');
    if (input && !csrf) csrf = input.value;
    return put(record).then(function () {
      render();
      if (navigator.onLine === false) return kept(form);
      return serial(function () {
        return get(record.key).then(function (current) {
          if (!current) return { kind: "gone" }; // the outbox sent it meanwhile
          return attempt(current).then(function (outcome) {
            if (outcome.kind === "done" || outcome.kind === "invalid") {
              return remove(current.key).then(function () { show(outcome.html); return null; });
            }
            return settle(current, outcome).then(function () { return outcome; });
          });
        });
      }).then(function (outcome) {
        if (outcome && outcome.kind === "forbidden") note(form, words("forbidden"));
        else if (outcome && outcome.kind === "gone") {
          form.reset();
          note(form, words("sent").replace("%(customer)s", record.label.customer));
        } else if (outcome) { kept(form); schedule(1); }
        return render();
      });
    }, function () {
      // No IndexedDB here (a private window): post as a plain form.
      form.setAttribute("data-offline-bypass", "1");
      form.requestSubmit();
    });
  }

  function kept(form) {
    // Ready for the next one, with the same customer (as after a save online).
    var customer = form.querySelector('select[name="customer"]');
    var chosen = customer ? customer.value : "";
    form.reset();
    if (customer) customer.value = chosen;
    note(form, words("kept")); // a status region: read out once
    return render();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-offline-queue]")) return;
    if (form.getAttribute("data-offline-bypass")) { form.removeAttribute("data-offline-bypass"); return; }
    if (!window.indexedDB || !window.fetch || !window.URLSearchParams) return;
    event.preventDefault();
    event.stopImmediatePropagation(); // the outbox sends it, not htmx
    save(form);
  }, true);

  // Offline, htmx's own requests (reloading the form, the bell) can only fail: skip them.
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (navigator.onLine === false) event.preventDefault();
  });

  // --- What is waiting ---------------------------------------------------------------
  function announce(text) {
    var live = document.getElementById("outbox-live");
    if (live && text) live.textContent = text;
  }

  function render() {
    if (!window.indexedDB || !status()) return Promise.resolve(null);
    return all().then(function (records) {
      records = records.filter(mine);
      var waiting = records.filter(function (r) { return r.state !== "failed"; });
      var failed = records.length - waiting.length;
      var indicator = status();
      var login = waiting.some(function (r) { return r.state === "login"; });
      var text = "";
      if (waiting.length) text = words(login ? "login" : "waiting").replace("%(n)s", String(waiting.length));
      else if (failed) text = words("failed").replace("%(n)s", String(failed));
      indicator.textContent = text;
      indicator.hidden = !text;
      indicator.classList.toggle("red", !waiting.length && failed > 0);
      list(records);
      return waiting[0] || null;
    }, function () { return null; });
  }

  function list(records) {
    var section = document.getElementById("outbox");
    var items = document.getElementById("outbox-list");
    if (!section || !items) return;
    section.hidden = records.length === 0;
    items.textContent = "";
    records.forEach(function (record) {
      var li = document.createElement("li");
      li.className = "outbox-item";
      var head = document.createElement("div");
      head.className = "outbox-head";
      var badge = document.createElement("span");
      badge.className = "badge " + (record.state === "failed" ? "red" : "amber");
      badge.textContent = record.state === "failed" ? words("state-failed") : record.state === "login" ? words("state-login") : words("state-waiting");
      var who = document.createElement("strong");
      who.textContent = record.label.customer || "—";
      var when = document.createElement("time");
      var at = new Date(record.createdAt);
      when.dateTime = at.toISOString();
      when.textContent = at.toLocaleString([], { dateStyle: "short", timeStyle: "short" });
      head.appendChild(badge);
      head.appendChild(who);
      head.appendChild(when);
      li.appendChild(head);
      var what = document.createElement("p");
      what.textContent = [record.label.channel, record.label.summary].filter(Boolean).join(" · ");
      li.appendChild(what);
      if (record.state === "failed") {
        var why = document.createElement("p");
        why.className = "errorlist";
        why.textContent = record.error;
        li.appendChild(why);
        var discard = document.createElement("button");
        discard.type = "button";
        discard.className = "small danger";
        discard.textContent = words("discard");
        discard.addEventListener("click", function () { remove(record.key).then(render); });
        li.appendChild(discard);
      }
      items.appendChild(li);
    });
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("#outbox-send")) flush();
  });

  // Logging out: forget the kept pages (the outbox itself stays, for this person's return).
  document.addEventListener("submit", function (event) {
    var action = event.target.getAttribute && event.target.getAttribute("action");
    if (action && /\/accounts\/logout\/$/.test(action) && window.caches) caches.delete("followup-pages");
  }, true);

  window.addEventListener("online", flush);
  window.addEventListener("offline", render);
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") flush(); });
  setInterval(function () { if (document.visibilityState === "visible") flush(); }, 60000);

  if ("serviceWorker" in navigator && document.querySelector('link[rel="manifest"]')) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { return undefined; });
  }

  // For the browser tests and the "Send now" button alike.
  window.followupOutbox = { flush: flush, count: function () { return all().then(function (r) { return r.filter(mine).length; }); } };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", flush);
  else flush();
})();
