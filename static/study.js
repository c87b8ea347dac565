// Mock interview countdown: shows the seconds left and moves on when time is up. Without this
// file the interview still works; the server measures the time from the form's start stamp.
// Pages arrive both as full loads and as htmx swaps (hx-boost), so it starts on either event,
// once per countdown element, and stops when the element leaves the page.
(function () {
  "use strict";
  function start() {
    var el = document.getElementById("countdown");
    var form = document.getElementById("mock-form");
    if (!el || !form || el.dataset.running) return;
    el.dataset.running = "1";
    var left = parseInt(el.dataset.seconds, 10) || 0;
    var timer = setInterval(function () {
      if (!document.body.contains(el)) { clearInterval(timer); return; }  // navigated away
      left -= 1;
      el.textContent = Math.max(0, left) + "s";
      if (left <= 10) el.classList.add("urgent");
      if (left <= 0) {
        clearInterval(timer);
        form.requestSubmit ? form.requestSubmit() : form.submit();
      }
    }, 1000);
    form.addEventListener("submit", function () { clearInterval(timer); });
  }
  document.addEventListener("DOMContentLoaded", start);
  document.addEventListener("htmx:load", start);
})();
