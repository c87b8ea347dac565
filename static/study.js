// Study pages: the mock-interview countdown, a typed answer kept across a reload, demos opened
// once the answer is shown, and the offline page (service worker). Every page works without
// this file; the server measures the interview's time from the URL's start stamp.
// Pages arrive both as full loads and as htmx swaps (hx-boost), so each part starts on either.
(function () {
  "use strict";

  // ---- mock interview: countdown from the server's start stamp, so a reload keeps the time --
  function startCountdown() {
    var el = document.getElementById("countdown");
    var form = document.getElementById("mock-form");
    if (!el || !form || el.dataset.running) return;
    el.dataset.running = "1";
    var total = parseInt(el.dataset.seconds, 10) || 0;
    var startedAt = Date.parse(el.dataset.started || "");
    var skew = Date.parse(el.dataset.now || "") - Date.now();  // server clock minus ours
    function left() {
      if (isNaN(startedAt)) return total;
      var spent = ((Date.now() + (isNaN(skew) ? 0 : skew)) - startedAt) / 1000;
      return Math.round(total - spent);
    }
    function paint(n) {
      el.textContent = Math.max(0, n) + "s";
      el.classList.toggle("urgent", n <= 10);
    }
    paint(left());
    var timer = setInterval(function () {
      if (!document.body.contains(el)) { clearInterval(timer); return; }  // navigated away
      var n = left();
      paint(n);
      if (n <= 0) {
        clearInterval(timer);
        form.requestSubmit ? form.requestSubmit() : form.submit();
      }
    }, 1000);
    form.addEventListener("submit", function () { clearInterval(timer); clearDraft(); });
  }

  // ---- the answer being typed survives a reload (kept per interview step, this tab only) ----
  function draftKey() {
    var form = document.getElementById("mock-form");
    return form ? "tq-draft:" + (form.dataset.step || location.search) : null;
  }
  function clearDraft() {
    var k = draftKey();
    try { if (k) sessionStorage.removeItem(k); } catch (e) { /* storage off */ }
  }
  function keepDraft() {
    var box = document.getElementById("mock-answer");
    var k = draftKey();
    if (!box || !k || box.dataset.kept) return;
    box.dataset.kept = "1";
    try {
      var saved = sessionStorage.getItem(k);
      if (saved && !box.value) box.value = saved;
      box.addEventListener("input", function () { sessionStorage.setItem(k, box.value); });
    } catch (e) { /* storage off: nothing kept */ }
  }

  // ---- review: the demos stay closed until the answer is shown ----------------------------
  document.addEventListener("toggle", function (ev) {
    if (!ev.target || ev.target.id !== "reveal" || !ev.target.open) return;
    var demos = document.getElementById("demos");
    if (demos && demos.dataset.afterReveal === "true") demos.open = true;
  }, true);

  // ---- a box that scrolls sideways (wide math, a table, code) can be reached by keyboard ----
  var SCROLLERS = ".katex-display, .math.display, .math.block, .table-wrap, .md table, " +
    ".result table, pre, .hm-mount, .cm-scroller";
  function focusableScrollers(root) {
    (root || document).querySelectorAll(SCROLLERS).forEach(function (el) {
      var st = getComputedStyle(el);
      var wide = (el.scrollWidth > el.clientWidth + 1 && /auto|scroll/.test(st.overflowX)) ||
        (el.scrollHeight > el.clientHeight + 1 && /auto|scroll/.test(st.overflowY));
      var own = el.getAttribute("tabindex");  // CodeMirror's scroller has -1
      if (wide && (own === null || own === "-1")) {
        el.setAttribute("data-scroll-focus", own === null ? "" : own);
        el.setAttribute("tabindex", "0");
      } else if (!wide && el.hasAttribute("data-scroll-focus")) {
        var was = el.getAttribute("data-scroll-focus");
        if (was) el.setAttribute("tabindex", was); else el.removeAttribute("tabindex");
        el.removeAttribute("data-scroll-focus");
      }
    });
  }
  var scrollTimer = null;
  function focusableSoon() {
    // After KaTeX (app.js) has typeset the math: the width is known only then.
    clearTimeout(scrollTimer);
    scrollTimer = setTimeout(function () {
      focusableScrollers(document);
      setTimeout(function () { focusableScrollers(document); }, 500);  // late widgets (editor)
    }, 50);
  }
  window.addEventListener("resize", focusableSoon);
  document.addEventListener("toggle", focusableSoon, true);

  function start() {
    startCountdown();
    keepDraft();
    focusableSoon();
  }
  document.addEventListener("DOMContentLoaded", start);
  document.addEventListener("htmx:load", start);

  // A boosted link followed while the server is down: load it for real, so that the service
  // worker can show the offline page instead of nothing happening.
  document.addEventListener("htmx:sendError", function (ev) {
    var cfg = ev.detail && ev.detail.requestConfig;
    if (cfg && cfg.verb === "get" && cfg.path) window.location.assign(cfg.path);
  });

  // A boosted link that lands on an error page (a 404 in the site's layout) shows that page
  // instead of silently doing nothing.
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var d = ev.detail;
    if (d && d.boosted && d.xhr && d.xhr.status >= 400 && /id="error"/.test(d.xhr.responseText || "")) {
      d.shouldSwap = true;
      d.isError = false;
    }
  });

  // ---- installable app: the service worker only answers when the server cannot -------------
  if ("serviceWorker" in navigator && location.protocol !== "file:") {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { /* optional */ });
    });
  }
})();
