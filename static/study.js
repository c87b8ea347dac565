// Mock interview countdown: shows the seconds left and moves on when time is up. Without this
// file the interview still works; the server measures the time from the form's start stamp.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("countdown");
    var form = document.getElementById("mock-form");
    if (!el || !form) return;
    var left = parseInt(el.dataset.seconds, 10) || 0;
    var timer = setInterval(function () {
      left -= 1;
      el.textContent = Math.max(0, left) + "s";
      if (left <= 10) el.classList.add("urgent");
      if (left <= 0) {
        clearInterval(timer);
        form.requestSubmit ? form.requestSubmit() : form.submit();
      }
    }, 1000);
    form.addEventListener("submit", function () { clearInterval(timer); });
  });
})();
