// A drill's page: CodeMirror 6 over the plain textarea (which stays the form field, so the page
// works without JavaScript), Ctrl/Cmd+Enter runs, hints are revealed one at a time.
(function () {
  "use strict";
  function init() {
    var form = document.getElementById("drill-form");
    var area = document.getElementById("code");
    var used = document.getElementById("hints-used");
    var hints = Array.prototype.slice.call(document.querySelectorAll("#hints .hint"));
    hints.forEach(function (h, i) {
      h.addEventListener("toggle", function () {
        if (!h.open) return;
        if (hints[i + 1]) hints[i + 1].hidden = false;
        if (used) used.value = String(Math.max(Number(used.value || 0), i + 1));
      });
    });
    if (!form || !area) return;
    function run() {
      if (typeof form.requestSubmit === "function") form.requestSubmit();
      else form.submit();
    }
    area.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); run(); }
    });
    if (!window.CM) return;
    var host = document.getElementById("editor");
    var view = new CM.EditorView({
      doc: area.value,
      parent: host,
      extensions: [
        // First, so it wins over basicSetup's own Mod-Enter (insert a blank line).
        CM.keymap.of([{ key: "Mod-Enter", run: function () { run(); return true; } }, CM.indentWithTab]),
        CM.basicSetup,
        CM.python(),
        // The textarea's own label, in the page's language, names the editor for screen readers.
        CM.EditorView.contentAttributes.of({ "aria-label": area.labels && area.labels[0] ? area.labels[0].textContent.trim() : document.title }),
      ],
    });
    area.hidden = true;
    host.hidden = false;
    form.addEventListener("submit", function () { area.value = view.state.doc.toString(); });
    window.tqEditor = view;  // for the browser tests
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
