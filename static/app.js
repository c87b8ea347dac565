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

  // Words the server put on the result (the i18n table); stats has none and falls back.
  function words(el) {
    var host = el.closest("[data-t-row]");
    var d = host ? host.dataset : {};
    return { row: d.tRow || "row", col: d.tCol || "col", masked: d.tMasked || "masked",
             pick: d.tPick || "", log: d.tLog || "log" };
  }

  function narrow() { return window.innerWidth < 560; }

  // ---- charts ------------------------------------------------------------------------------
  var charts = [];
  // An axis title longer than its axis is cut off by Chart.js: break it into lines that fit,
  // at a space when there is one late enough in the line (Chinese titles break anywhere).
  var measure = document.createElement("canvas").getContext("2d");
  function wrapTitle(text, maxPx, size) {
    measure.font = "600 " + size + "px system-ui, sans-serif";
    var lines = [], line = "";
    for (var k = 0; k < text.length; k++) {
      var next = line + text[k];
      if (line && measure.measureText(next).width > maxPx) {
        var cut = line.lastIndexOf(" ");
        if (cut > line.length / 2) { lines.push(line.slice(0, cut)); line = line.slice(cut + 1) + text[k]; }
        else { lines.push(line); line = text[k].trim(); }
      } else line = next;
    }
    lines.push(line);
    return lines.length > 1 ? lines : lines[0];
  }

  function axisTitle(label, log, w, maxPx) {
    var text = label || "", size = narrow() ? 11 : 12;
    if (log) text += (text ? " " : "") + "(" + w.log + ")";
    return { display: !!text, text: wrapTitle(text, Math.max(maxPx, 80), size),
             font: { size: size, weight: "600" } };
  }

  // Tick labels stay short: 1e-7 and 1e11 instead of 0.00000010 and 100,000,000,000. On a log
  // axis that spans decades only the powers of ten are labelled.
  function tickLabel(log) {
    return function (v, i, ticks) {
      if (log) {
        var decade = function (t) { return Math.abs(Math.log10(t.value) % 1) < 1e-9; };
        if (ticks.filter(decade).length >= 2 && !decade(ticks[i])) return "";
      }
      var a = Math.abs(v);
      if (log || (a !== 0 && (a >= 1e5 || a < 1e-3))) return fmt(v, 2).replace("e+", "e");
      return Chart.Ticks.formatters.numeric.call(this, v, i, ticks);
    };
  }

  function drawCharts(root) {
    if (!window.Chart) return;
    root.querySelectorAll("script.chart-data").forEach(function (s) {
      var canvas = s.parentElement.querySelector("canvas");
      if (!canvas || canvas.dataset.drawn) return;
      var c = JSON.parse(s.textContent), w = words(canvas), small = narrow();
      var palette = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563"];
      // A bar chart's x values are categories: one label per distinct x, in order of appearance.
      var bar = c.kind === "bar", labels = [];
      if (bar) c.series.forEach(function (ser) {
        ser.x.forEach(function (x) { if (labels.indexOf(String(x)) < 0) labels.push(String(x)); });
      });
      var datasets = c.series.map(function (ser, i) {
        return {
          label: ser.name,
          data: ser.x.map(function (x, j) { return { x: bar ? String(x) : x, y: ser.y[j] }; }),
          borderColor: palette[i % palette.length],
          backgroundColor: palette[i % palette.length],
          pointRadius: ser.x.length > 40 ? 0 : 2,
          borderWidth: 2,
        };
      });
      var tick = { font: { size: small ? 10 : 12 } };
      // A chart in a .chart-box takes the box's CSS height (full width, taller on a phone);
      // elsewhere (stats) it keeps Chart.js's default aspect ratio.
      var boxed = canvas.parentElement.classList.contains("chart-box");
      // Room for the axis titles: the box's size, or the figure's width at Chart.js's 2:1.
      var host = canvas.parentElement, room = { w: host.clientWidth || 300 };
      room.h = boxed ? host.clientHeight : room.w / 2;
      charts.push(new Chart(canvas, {
        type: bar ? "bar" : "line",
        data: bar ? { labels: labels, datasets: datasets } : { datasets: datasets },
        options: {
          animation: false,
          responsive: true,
          maintainAspectRatio: !boxed,
          parsing: true,
          interaction: { mode: "nearest", axis: "x", intersect: false },
          plugins: {
            legend: {
              display: datasets.length > 1,
              position: "bottom",
              labels: { boxWidth: small ? 10 : 14, font: { size: small ? 11 : 12 } },
            },
          },
          scales: {
            x: { type: bar ? "category" : (c.log_x ? "logarithmic" : "linear"),
                 title: axisTitle(c.x_label, c.log_x && !bar, w, room.w - 40),
                 ticks: Object.assign({ maxRotation: 0, autoSkip: true, maxTicksLimit: small ? 5 : 10 },
                                      bar ? {} : { callback: tickLabel(c.log_x) }, tick) },
            y: { type: c.log_y ? "logarithmic" : "linear",
                 title: axisTitle(c.y_label, c.log_y, w, room.h - (datasets.length > 1 ? 110 : 70)),
                 ticks: Object.assign({ maxTicksLimit: small ? 6 : 9, callback: tickLabel(c.log_y) }, tick) },
          },
        },
      }));
      canvas.dataset.drawn = "1";
    });
  }

  // ---- heatmaps ----------------------------------------------------------------------------
  // Drawn as a CSS grid of cells so the labels are real text beside their rows and columns and
  // each cell can be hovered, tapped or reached by the arrow keys to read its value.
  function fmt(v, digits) {
    if (v === null || v === undefined || !isFinite(v)) return "—";
    if (v === 0) return "0";
    var a = Math.abs(v);
    if (a >= 1e5 || a < 1e-3) return v.toExponential(digits - 1).replace(/\.?0+e/, "e");
    return String(Number(v.toPrecision(digits)));
  }

  function mix(stops, t) {
    t = Math.max(0, Math.min(1, t)) * (stops.length - 1);
    var i = Math.min(Math.floor(t), stops.length - 2), f = t - i, a = stops[i], b = stops[i + 1];
    return "rgb(" + [0, 1, 2].map(function (k) { return Math.round(a[k] + (b[k] - a[k]) * f); }) + ")";
  }
  // Light to dark blue for larger values; below zero the scale turns red, with white at 0.
  var BLUES = [[247, 251, 255], [198, 219, 239], [107, 174, 214], [33, 113, 181], [8, 48, 107]];
  var REDS = [[247, 251, 255], [253, 219, 199], [244, 165, 130], [214, 96, 77], [103, 0, 13]];

  function scaleFor(vals) {
    var lo = Math.min.apply(null, vals), hi = Math.max.apply(null, vals);
    if (!vals.length) { lo = 0; hi = 1; }
    if (lo >= 0) {
      // One value everywhere: white if it is 0 (say, no reviews yet), else the middle blue.
      return { lo: lo, hi: hi, color: function (v) { return mix(BLUES, hi > lo ? (v - lo) / (hi - lo) : (v ? 0.5 : 0)); },
               gradient: "linear-gradient(to right, " + BLUES.map(function (c) { return "rgb(" + c + ")"; }) + ")" };
    }
    var zero = hi > 0 ? -lo / (hi - lo) : 1;  // where 0 sits on the bar
    var stops = REDS.slice().reverse().map(function (c, i) {
      return "rgb(" + c + ") " + (100 * zero * i / (REDS.length - 1)).toFixed(1) + "%";
    });
    if (hi > 0) {
      stops = stops.concat(BLUES.slice(1).map(function (c, i) {
        return "rgb(" + c + ") " + (100 * (zero + (1 - zero) * (i + 1) / (BLUES.length - 1))).toFixed(1) + "%";
      }));
    }
    return { lo: lo, hi: hi, zero: hi > 0,
             color: function (v) { return v < 0 ? mix(REDS, v / lo) : mix(BLUES, hi > 0 ? v / hi : 0); },
             gradient: "linear-gradient(to right, " + stops.join(", ") + ")" };
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function buildHeatmap(fig, h) {
    var m = h.matrix || [], rows = m.length, cols = rows ? m[0].length : 0, w = words(fig);
    var rl = (h.row_labels && h.row_labels.length === rows) ? h.row_labels : m.map(function (_, i) { return String(i); });
    var cl = (h.col_labels && h.col_labels.length === cols) ? h.col_labels : (m[0] || []).map(function (_, j) { return String(j); });
    var vals = [].concat.apply([], m).filter(function (v) { return v !== null && isFinite(v); });
    var sc = scaleFor(vals), masked = false;
    var cap = fig.querySelector("figcaption");

    var wrap = el("div", "hm");
    var grid = el("div", "hm-grid");
    grid.tabIndex = 0;
    grid.setAttribute("role", "application");
    grid.setAttribute("aria-label", (cap ? cap.textContent : "") + " (" + rows + " × " + cols + ")");
    // Column 1 holds the row labels. A cell is at most 40 px, less for a big matrix (the whole
    // map stays within about 520 px), and shrinks further to fit a narrow column.
    var most = Math.max(8, Math.min(40, Math.floor(520 / Math.max(rows, cols, 1))));
    grid.style.gridTemplateColumns = "auto repeat(" + cols + ", minmax(0, " + most + "px))";
    var first = 2;
    var cells = [];
    for (var i = 0; i < rows; i++) {
      var lab = el("div", "hm-rl", rl[i]);
      lab.style.gridRow = String(i + 1);
      lab.style.gridColumn = String(first - 1);
      grid.appendChild(lab);
      var line = [];
      for (var j = 0; j < cols; j++) {
        var v = m[i][j], c = el("div", "hm-cell");
        c.dataset.r = i; c.dataset.c = j;
        c.style.gridRow = String(i + 1);
        c.style.gridColumn = String(first + j);
        if (v === null || !isFinite(v)) { c.classList.add("hm-masked"); masked = true; }
        else c.style.backgroundColor = sc.color(v);
        grid.appendChild(c); line.push(c);
      }
      cells.push(line);
    }
    for (var k = 0; k < cols; k++) {
      var cx = el("div", "hm-cl");
      cx.appendChild(el("span", null, cl[k]));
      cx.style.gridRow = String(rows + 1);
      cx.style.gridColumn = String(first + k);
      grid.appendChild(cx);
    }
    if (h.x_label) {
      var xt = el("div", "hm-xtitle", h.x_label);
      xt.style.gridRow = String(rows + 2);
      xt.style.gridColumn = first + " / -1";
      grid.appendChild(xt);
    }
    var plot = el("div", "hm-plot");
    if (h.y_label) plot.appendChild(el("div", "hm-ytitle", h.y_label));
    plot.appendChild(grid);
    var tip = el("div", "hm-tip");
    tip.setAttribute("role", "status");
    tip.hidden = true;
    plot.appendChild(tip);
    wrap.appendChild(plot);

    // The colour scale: the bar runs from the smallest to the largest finite value.
    var legend = el("div", "hm-scale" + (sc.zero ? " has-zero" : ""));
    legend.appendChild(el("span", "hm-min", fmt(sc.lo, 3)));
    var bar = el("span", "hm-bar");
    bar.style.backgroundImage = sc.gradient;
    if (sc.zero) {
      var z = el("span", "hm-zero", "0");
      z.style.left = (100 * -sc.lo / (sc.hi - sc.lo)).toFixed(1) + "%";
      bar.appendChild(z);
    }
    legend.appendChild(bar);
    legend.appendChild(el("span", "hm-max", fmt(sc.hi, 3)));
    if (masked) {
      var sw = el("span", "hm-masked-key");
      sw.appendChild(el("span", "hm-swatch hm-masked"));
      sw.appendChild(document.createTextNode(w.masked));
      legend.appendChild(sw);
    }
    wrap.appendChild(legend);

    var active = null;
    function show(c, fromKey) {
      if (!c) return;
      var i = +c.dataset.r, j = +c.dataset.c, v = m[i][j];
      if (active) active.classList.remove("hm-active");
      active = c; c.classList.add("hm-active");
      tip.textContent = "";
      tip.appendChild(el("span", "hm-where",
        (h.y_label || w.row) + " " + rl[i] + " · " + (h.x_label || w.col) + " " + cl[j]));
      tip.appendChild(el("b", "hm-val", (v === null || !isFinite(v)) ? "— " + w.masked : fmt(v, 4)));
      tip.hidden = false;
      // Beside the cell, kept inside the picture so it never widens the page.
      var pr = plot.getBoundingClientRect(), cr = c.getBoundingClientRect();
      var left = cr.left - pr.left + cr.width / 2 - tip.offsetWidth / 2;
      left = Math.max(0, Math.min(left, pr.width - tip.offsetWidth));
      var top = cr.top - pr.top - tip.offsetHeight - 6;
      if (top < 0) top = cr.bottom - pr.top + 6;
      tip.style.left = left + "px";
      tip.style.top = top + "px";
      if (fromKey) c.scrollIntoView({ block: "nearest", inline: "nearest" });
    }
    function hide() {
      if (document.activeElement === grid) return;
      tip.hidden = true;
      if (active) active.classList.remove("hm-active");
      active = null;  // the keyboard starts again from the top-left cell
    }
    grid.addEventListener("pointermove", function (ev) {
      var c = ev.target.closest && ev.target.closest(".hm-cell");
      if (c && c !== active) show(c);
    });
    grid.addEventListener("click", function (ev) {
      var c = ev.target.closest && ev.target.closest(".hm-cell");
      if (c) show(c);
    });
    grid.addEventListener("pointerleave", hide);
    grid.addEventListener("blur", function () {
      tip.hidden = true;
      if (active) active.classList.remove("hm-active");
      active = null;
    });
    grid.addEventListener("focus", function () { if (rows && cols) show(active || cells[0][0], true); });
    grid.addEventListener("keydown", function (ev) {
      if (!active || !rows || !cols) return;
      var i = +active.dataset.r, j = +active.dataset.c;
      var moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
      if (ev.key === "Home") j = 0;
      else if (ev.key === "End") j = cols - 1;
      else if (ev.key === "Escape") { tip.hidden = true; return; }
      else if (moves[ev.key]) { i += moves[ev.key][0]; j += moves[ev.key][1]; }
      else return;
      ev.preventDefault();
      show(cells[Math.max(0, Math.min(rows - 1, i))][Math.max(0, Math.min(cols - 1, j))], true);
    });
    wrap.relabel = function () { relabel(grid, rows, cols); };
    return wrap;
  }

  // Thin the labels to what fits: every k-th row / column keeps its text visible. Column labels
  // turn vertical when they are wider than a column.
  function relabel(grid, rows, cols) {
    var cell = grid.querySelector(".hm-cell");
    if (!cell) return;
    var box = cell.getBoundingClientRect();
    if (!box.width) return;  // hidden (another head is shown): done when it is picked
    var rowStep = Math.max(1, Math.ceil(13 / box.height));
    var colLabels = grid.querySelectorAll(".hm-cl"), longest = 0;
    colLabels.forEach(function (e) { longest = Math.max(longest, e.textContent.length); });
    var vertical = longest * 7 + 4 > box.width;
    grid.classList.toggle("hm-vert", vertical);
    var colStep = Math.max(1, Math.ceil((vertical ? 13 : longest * 7 + 4) / box.width));
    grid.querySelectorAll(".hm-rl").forEach(function (e, i) { e.classList.toggle("hm-skip", i % rowStep !== 0); });
    colLabels.forEach(function (e, j) { e.classList.toggle("hm-skip", j % colStep !== 0); });
  }

  function relabelAll(root) {
    root.querySelectorAll(".hm").forEach(function (w) { if (w.relabel) w.relabel(); });
  }

  function drawHeatmaps(root) {
    root.querySelectorAll("script.heatmap-data").forEach(function (s) {
      var fig = s.parentElement;
      if (fig.dataset.drawn) return;
      var h = JSON.parse(s.textContent);
      var mount = fig.querySelector(".hm-mount");
      if (!mount) {  // an older page (stats) with a bare canvas
        mount = el("div", "hm-mount");
        var old = fig.querySelector("canvas.heatmap-canvas");
        if (old) old.replaceWith(mount); else fig.insertBefore(mount, s);
      }
      mount.appendChild(buildHeatmap(fig, h));
      fig.dataset.drawn = "1";
    });
    root.querySelectorAll(".heatmaps").forEach(groupHeatmaps);
    root.querySelectorAll(".hm-help[hidden]").forEach(function (p) { p.hidden = false; });
    requestAnimationFrame(function () { relabelAll(root); });
  }

  // Several maps whose titles differ only in their numbers ("Head 1 weights", "Head 2 ...") are
  // one picture with a picker: one map at a time instead of a long stack.
  var picked = {};
  function groupHeatmaps(box) {
    if (box.dataset.grouped) return;
    box.dataset.grouped = "1";
    var figs = Array.prototype.slice.call(box.querySelectorAll(":scope > figure.heatmap"));
    var key = function (f) {
      var cap = f.querySelector("figcaption");
      return cap ? cap.textContent.replace(/\d+(\.\d+)?/g, "#") : "";
    };
    var demo = (box.closest("[data-demo]") || { dataset: {} }).dataset.demo || "";
    var start = 0;
    while (start < figs.length) {
      var end = start + 1, k = key(figs[start]);
      while (end < figs.length && key(figs[end]) === k) end++;
      if (end - start > 1 && k.indexOf("#") >= 0) makePicker(figs.slice(start, end), demo + "|" + k);
      start = end;
    }
  }

  function makePicker(figs, id) {
    var w = words(figs[0]);
    var bar = el("div", "hm-picker");
    var label = el("label", null, w.pick + " ");
    var sel = el("select");
    figs.forEach(function (f, i) {
      var t = f.querySelector("figcaption").textContent;
      // The title without its trailing "(rows = ..., columns = ...)" names the option.
      sel.appendChild(new Option(t.replace(/\s*[(（][^()（）]*[)）]\s*$/, "") || String(i + 1), String(i)));
    });
    var chosen = Math.min(picked[id] || 0, figs.length - 1);
    sel.value = String(chosen);
    label.appendChild(sel);
    bar.appendChild(label);
    figs[0].parentElement.insertBefore(bar, figs[0]);
    function pick(n) {
      picked[id] = n;
      figs.forEach(function (f, i) { f.hidden = i !== n; });
      var hm = figs[n].querySelector(".hm");
      if (hm && hm.relabel) hm.relabel();
    }
    sel.addEventListener("change", function () { pick(+sel.value); });
    pick(chosen);
  }

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () { relabelAll(document); }, 150);
  });

  // ---- demo forms: a slider beside each number with a short, bounded range ------------------
  function sliderStep(input) {
    var lo = parseFloat(input.min), hi = parseFloat(input.max);
    if (!isFinite(lo) || !isFinite(hi) || hi <= lo) return null;
    if (input.step === "1") return hi - lo <= 300 ? 1 : null;
    // Real numbers: a linear range that is neither huge nor spanning many decades.
    if (hi - lo > 1000 || (lo > 0 && hi / lo > 200)) return null;
    return Math.pow(10, Math.floor(Math.log10((hi - lo) / 100)));
  }

  function addSliders(root) {
    root.querySelectorAll("form.demo-form input[type=number][name]").forEach(function (num) {
      if (num.dataset.slider || num.name === "seed") return;
      num.dataset.slider = "1";
      var step = sliderStep(num);
      if (step === null) return;
      var range = el("input", "param-slider");
      range.type = "range";
      range.min = num.min; range.max = num.max; range.step = String(step);
      range.value = num.value;
      range.setAttribute("aria-label", num.name);
      var pair = el("span", "param-pair");
      num.parentElement.insertBefore(pair, num);
      pair.appendChild(range);
      pair.appendChild(num);
      // The named number box is what the form sends; the slider only drives it.
      range.addEventListener("input", function () { num.value = range.value; });
      num.addEventListener("input", function () { if (num.value !== "") range.value = num.value; });
    });
  }

  // ---- "view the code": highlight.js, loaded the first time someone opens the source --------
  var hljsReady = null;
  function highlightSource(details) {
    var code = details.querySelector("pre code");
    if (!code || code.dataset.highlighted) return;
    if (!hljsReady) {
      var css = el("link");
      css.rel = "stylesheet";
      css.href = "/static/vendor/highlightjs/github.min.css";
      document.head.appendChild(css);
      hljsReady = Promise.all([
        import("/static/vendor/highlightjs/core.min.js"),
        import("/static/vendor/highlightjs/python.min.js"),
      ]).then(function (mods) {
        var hl = mods[0].default;
        hl.registerLanguage("python", mods[1].default);
        return hl;
      });
    }
    hljsReady.then(function (hl) {
      if (!code.dataset.highlighted) hl.highlightElement(code);
    }).catch(function () { /* plain text stays readable */ });
  }

  function enhance(root) {
    renderMath(root);
    drawCharts(root);
    drawHeatmaps(root);
    addSliders(root);
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
    if (ev.target && ev.target.id === "demo-source" && ev.target.open) highlightSource(ev.target);
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
