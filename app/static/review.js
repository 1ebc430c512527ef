// Review queue shortcuts: a number picks a label, Enter saves it, S skips, U undoes, X marks the crop not a face.
(function () {
  "use strict";
  var form = document.getElementById("review-form");
  var undo = document.getElementById("undo-form");
  var skip = document.getElementById("skip-form");
  var chosen = form && (form.querySelector("[data-predicted]") || form.querySelector("button[data-key]"));

  function pick(button) {
    form.querySelectorAll("button[data-key]").forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
    button.setAttribute("aria-pressed", "true");
    chosen = button;
    var save = form.querySelector("[data-confirm]");
    save.value = button.value;
    save.querySelector("[data-chosen]").textContent = button.value;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || /INPUT|TEXTAREA|SELECT/.test(event.target.tagName)) return;
    var key = event.key.toLowerCase();
    if (key === "u" && undo && !undo.querySelector("button").disabled) { event.preventDefault(); undo.requestSubmit(); return; }
    if (!form) return;
    if (key === "s" && skip) { event.preventDefault(); skip.requestSubmit(); return; }
    var reject = form.querySelector("[data-not-a-face]");
    if (key === "x" && reject) { event.preventDefault(); form.requestSubmit(reject); return; }
    if (key === "enter" && chosen) { event.preventDefault(); form.requestSubmit(form.querySelector("[data-confirm]")); return; }
    var button = form.querySelector('button[data-key="' + key + '"]');
    if (button) { event.preventDefault(); pick(button); }
  });
})();
