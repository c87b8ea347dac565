// Long demos (tiny-transformer trains for seconds) report progress: before htmx posts the form,
// the same parameters go to /api/demos/{id}/stream, a progress bar follows the NDJSON lines, and
// when the result line arrives htmx posts the form as usual, which the pool's cache then answers
// at once. Without JavaScript the form still posts and the page waits for the whole run.
(function () {
  "use strict";
  function params(form) {
    var out = {}, seed = 0;
    new FormData(form).forEach(function (v, k) {
      if (k === "csrf_token") return;
      if (k === "seed") { seed = v; return; }
      out[k] = v;  // the last value wins (a ticked checkbox follows its hidden "false")
    });
    return { body: out, seed: seed };
  }
  function token(form) {
    var el = form.querySelector("input[name=csrf_token]");
    return el ? el.value : "";
  }
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var form = evt.detail.elt;
    if (!form || !form.dataset || !form.dataset.stream || form.dataset.streamed === "1") return;
    evt.preventDefault();
    var bar = form.querySelector(".demo-progress");
    var text = form.querySelector(".demo-progress-text");
    var p = params(form);
    bar.hidden = false; bar.value = 0;
    fetch(form.dataset.stream + "?seed=" + encodeURIComponent(p.seed), {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token(form) },
      body: JSON.stringify(p.body),
    }).then(function (resp) {
      if (!resp.ok || !resp.body) throw new Error("HTTP " + resp.status);
      var reader = resp.body.getReader(), dec = new TextDecoder(), buf = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) return;
          buf += dec.decode(chunk.value, { stream: true });
          var lines = buf.split("\n");
          buf = lines.pop();
          lines.forEach(function (line) {
            if (!line) return;
            var msg = JSON.parse(line);
            if (msg.progress) {
              bar.max = msg.progress.total || 1;
              bar.value = msg.progress.done;
              text.textContent = msg.progress.done + " / " + msg.progress.total +
                (msg.progress.loss !== undefined ? " · loss " + Number(msg.progress.loss).toFixed(3) : "");
            }
          });
          return pump();
        });
      }
      return pump();
    }).catch(function () { /* the plain request below reports any error */ })
      .then(function () {
        bar.hidden = true; text.textContent = "";
        form.dataset.streamed = "1";
        htmx.trigger(form, "submit");
      });
  });
  document.addEventListener("htmx:afterRequest", function (evt) {
    var form = evt.detail.elt;
    if (form && form.dataset && form.dataset.stream) form.dataset.streamed = "";
  });
})();
