// Progressive enhancement: every page works without this file. It adds the keyboard
// (Space reveals, 1-4 grade), KaTeX math, and draws demo charts and heatmaps.
(function () {
  "use strict";

  function renderMath(root) {
    if (!window.katex) return;
    root.querySelectorAll(".math.inline, .math.block, .math.display").forEach(function (el) {
      if (el.dataset.rendered) return;
      var tex = el.textContent;
      try {
        katex.render(tex, el, { displayMode: !el.classList.contains("inline"), throwOnError: false });
        el.dataset.rendered = "1";
      } catch (e) { /* leave the TeX source visible */ }
    });
  }

  var charts = [];
  function drawCharts(root) {
    if (!window.Chart) return;
    root.querySelectorAll("script.chart-data").forEach(function (s) {
      var canvas = s.parentElement.querySelector("canvas");
      if (!canvas || canvas.dataset.drawn) return;
      var c = JSON.parse(s.textContent);
      var palette = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563"];
      var datasets = c.series.map(function (ser, i) {
        return {
          label: ser.name,
          data: ser.x.map(function (x, j) { return { x: x, y: ser.y[j] }; }),
          borderColor: palette[i % palette.length],
          backgroundColor: palette[i % palette.length],
          pointRadius: ser.x.length > 40 ? 0 : 2,
          borderWidth: 2,
        };
      });
      charts.push(new Chart(canvas, {
        type: c.kind === "bar" ? "bar" : "line",
        data: { datasets: datasets },
        options: {
          animation: false,
          responsive: true,
          parsing: true,
          scales: {
            x: { type: c.kind === "bar" ? "category" : (c.log_x ? "logarithmic" : "linear"),
                 title: { display: !!c.x_label, text: c.x_label } },
            y: { type: c.log_y ? "logarithmic" : "linear",
                 title: { display: !!c.y_label, text: c.y_label } },
          },
        },
      }));
      canvas.dataset.drawn = "1";
    });
  }

  function color(v, lo, hi) {
    if (v === null || Number.isNaN(v)) return "#999";
    var t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
    t = Math.max(0, Math.min(1, t));
    // white -> blue
    var r = Math.round(255 - t * (255 - 30)), g = Math.round(255 - t * (255 - 64)), b = Math.round(255 - t * (255 - 175));
    return "rgb(" + r + "," + g + "," + b + ")";
  }

  function drawHeatmaps(root) {
    root.querySelectorAll("script.heatmap-data").forEach(function (s) {
      var canvas = s.parentElement.querySelector("canvas");
      if (!canvas || canvas.dataset.drawn) return;
      var h = JSON.parse(s.textContent), m = h.matrix;
      var rows = m.length, cols = rows ? m[0].length : 0;
      var cell = Math.max(4, Math.min(28, Math.floor(360 / Math.max(rows, cols, 1))));
      canvas.width = cols * cell; canvas.height = rows * cell;
      var vals = [].concat.apply([], m).filter(function (v) { return v !== null && isFinite(v); });
      var lo = Math.min.apply(null, vals), hi = Math.max.apply(null, vals);
      var ctx = canvas.getContext("2d");
      for (var i = 0; i < rows; i++) for (var j = 0; j < cols; j++) {
        ctx.fillStyle = color(m[i][j], lo, hi);
        ctx.fillRect(j * cell, i * cell, cell, cell);
      }
      canvas.title = "min " + lo.toPrecision(3) + ", max " + hi.toPrecision(3);
      canvas.dataset.drawn = "1";
    });
  }

  function enhance(root) {
    renderMath(root);
    drawCharts(root);
    drawHeatmaps(root);
  }

  var shownAt = Date.now();

  function revealNow() {
    var reveal = document.getElementById("reveal");
    if (!reveal) return;
    var typed = document.getElementById("typed");
    var echo = document.getElementById("typed-echo");
    if (typed && echo && typed.value.trim()) {
      echo.textContent = typed.value;
      document.getElementById("typed-echo-box").hidden = false;
    }
    reveal.open = true;
  }

  document.addEventListener("toggle", function (ev) {
    if (ev.target && ev.target.id === "reveal" && ev.target.open) revealNow();
  }, true);

  document.addEventListener("keydown", function (ev) {
    var tag = (ev.target && ev.target.tagName) || "";
    if (tag === "TEXTAREA" && ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault(); ev.target.blur(); revealNow(); return;
    }
    if (/INPUT|TEXTAREA|SELECT/.test(tag) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === "u" || ev.key === "U") {
      var undo = document.getElementById("undo");
      if (undo) { ev.preventDefault(); undo.click(); }
      return;
    }
    var reveal = document.getElementById("reveal");
    if (!reveal) return;
    if (ev.key === " " || ev.code === "Space") {
      if (!reveal.open) { revealNow(); ev.preventDefault(); }
      return;
    }
    if (reveal.open && /^[1-4]$/.test(ev.key)) {
      var btn = document.querySelector('#grade-form button[data-key="' + ev.key + '"]');
      if (btn) { ev.preventDefault(); btn.click(); }
    }
  });

  document.addEventListener("submit", function (ev) {
    var f = ev.target;
    if (f && f.id === "grade-form") {
      var d = f.querySelector("#duration-ms");
      if (d) d.value = String(Math.max(0, Date.now() - shownAt));
    }
  }, true);

  document.addEventListener("DOMContentLoaded", function () {
    if (window.htmx) {
      // Show validation errors (422) from demo runs in place instead of dropping them.
      htmx.config.responseHandling = [
        { code: "204", swap: false },
        { code: "[23]..", swap: true },
        { code: "422", swap: true, error: false },
        { code: "[45]..", swap: false, error: true },
      ];
    }
    enhance(document);
  });
  document.addEventListener("htmx:afterSettle", function (ev) {
    shownAt = Date.now();
    enhance(ev.detail.elt || document);
  });
  document.addEventListener("htmx:load", function (ev) { enhance(ev.detail.elt || document); });
})();
