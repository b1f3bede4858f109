// Followup's service worker, served as /sw.js (scope: the whole site) by
// followup.site.views.service_worker, which puts FOLLOWUP_ASSETS (the app shell's static
// files, with their current names) and FOLLOWUP_VERSION in front of this file.
//
// - The app shell (CSS, JS, icon) comes from the cache first.
// - A visited quick log page (/o/<org>/touchpoints/log/) is kept, so it opens without a
//   network; any page of the organization falls back to it when offline.
// - Nothing but GET is touched: the page's own outbox (static/js/offline.js) keeps and
//   resends posts, with their Idempotency-Key.
"use strict";

var ASSETS = self.FOLLOWUP_ASSETS || [];
var STATIC_CACHE = "followup-static-" + (self.FOLLOWUP_VERSION || "dev");
var PAGES_CACHE = "followup-pages";
var QUICK_LOG = /^\/o\/([^/]+)\/touchpoints\/log\/$/;
var IN_ORG = /^\/o\/([^/]+)\//;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(STATIC_CACHE)
      .then(function (cache) { return cache.addAll(ASSETS); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys()
      .then(function (keys) {
        return Promise.all(keys.filter(function (key) {
          return key.indexOf("followup-static-") === 0 && key !== STATIC_CACHE;
        }).map(function (key) { return caches.delete(key); }));
      })
      .then(function () { return self.clients.claim(); })
  );
});

function fromCacheFirst(request) {
  return caches.match(request).then(function (hit) { return hit || fetch(request); });
}

function navigate(request, url) {
  return fetch(request).then(function (response) {
    if (QUICK_LOG.test(url.pathname) && !url.search && response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(PAGES_CACHE).then(function (cache) { return cache.put(url.pathname, copy); });
    }
    return response;
  }).catch(function (error) {
    return caches.open(PAGES_CACHE).then(function (cache) {
      return cache.match(url.pathname).then(function (exact) {
        if (exact) return exact;
        var org = IN_ORG.exec(url.pathname);
        var own = org ? cache.match("/o/" + org[1] + "/touchpoints/log/") : Promise.resolve(undefined);
        return own.then(function (page) {
          if (page) return page;
          return cache.keys().then(function (keys) {
            if (keys.length) return cache.match(keys[0]);
            throw error;
          });
        });
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (ASSETS.indexOf(url.pathname) !== -1) {
    event.respondWith(fromCacheFirst(request));
  } else if (request.mode === "navigate") {
    event.respondWith(navigate(request, url));
  }
});

self.addEventListener("message", function (event) {
  // Logging out: the kept pages hold the person's customers and tokens.
  if (event.data === "forget-pages") event.waitUntil(caches.delete(PAGES_CACHE));
});
