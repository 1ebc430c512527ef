// Review queue shortcuts, the same as the result page's: a label's key saves that label, Enter confirms the model's
// answer, S skips, U undoes, X (a digit: Delete or Backspace too) marks the crop as holding no face or digit. Enter
// does nothing until the crop has been on screen for a moment, and a held-down key never repeats, so the queue cannot
// be confirmed without being looked at.
(function () {
  "use strict";
  // The server's QUICK_MS, set on the body by base.html: faster confirmations are counted as not looked at.
  var QUICK_MS = Number(document.body.dataset.quickMs);
  var form = document.getElementById("review-form");
  var undo = document.getElementById("undo-form");
  var skip = document.getElementById("skip-form");
  var hint = document.getElementById("review-wait");
  var shown = performance.now();

  if (form) {
    form.addEventListener("submit", function () {
      form.querySelector('input[name="seen_ms"]').value = Math.round(performance.now() - shown);
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || /INPUT|TEXTAREA|SELECT/.test(event.target.tagName)) return;
    if (event.repeat) { event.preventDefault(); return; }
    var key = event.key.toLowerCase();
    if (key === "u" && undo && !undo.querySelector("button").disabled) { event.preventDefault(); undo.requestSubmit(); return; }
    if (!form) return;
    if (key === "s" && skip) { event.preventDefault(); skip.requestSubmit(); return; }
    var reject = form.querySelector("[data-not-a-face]");
    // A digit's box is also rejected with Delete or Backspace, as on the result page.
    var rejects = key === "x" || ((key === "delete" || key === "backspace") && reject && reject.hasAttribute("data-delete"));
    if (rejects && reject) { event.preventDefault(); form.requestSubmit(reject); return; }
    if (key === "enter") {
      event.preventDefault();
      if (performance.now() - shown < QUICK_MS) { hint.hidden = false; return; }
      form.requestSubmit(form.querySelector("[data-confirm]"));
      return;
    }
    var button = form.querySelector('button[data-key="' + CSS.escape(key) + '"]');
    if (button) { event.preventDefault(); form.requestSubmit(button); }
  });
})();
