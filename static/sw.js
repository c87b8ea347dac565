// The service worker of the installed app. It caches one thing, the offline page, and answers
// a page navigation with it only when the server cannot be reached; everything else goes to the
// network untouched (no stale questions, no stale schedule).
"use strict";
var CACHE = "tq-offline-v1";
var OFFLINE = "/static/offline.html";

self.addEventListener("install", function (ev) {
  ev.waitUntil(caches.open(CACHE).then(function (c) { return c.add(OFFLINE); }));
  self.skipWaiting();
});

self.addEventListener("activate", function (ev) {
  ev.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (ev) {
  if (ev.request.mode !== "navigate") return;
  ev.respondWith(fetch(ev.request).catch(function () {
    return caches.match(OFFLINE).then(function (r) {
      return r || new Response("offline", { status: 503, headers: { "Content-Type": "text/plain" } });
    });
  }));
});
