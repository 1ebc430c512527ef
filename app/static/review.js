// Review queue shortcuts, the same as the result page's: a label's key saves that label, Enter confirms the model's
// answer, S skips, U undoes, X (a digit: Delete or Backspace too) marks the crop as holding no face or digit, P shows
// or hides the whole photo (where faces.js draws a missed box, and holds the keys meanwhile). Enter does nothing until
// the crop has been on screen for a moment, and a held-down key never repeats, so the queue cannot be confirmed
// without being looked at.
(function () {
  "use strict";
  // The server's QUICK_MS, set on the body by base.html: faster confirmations are counted as not looked at.
  var QUICK_MS = Number(document.body.dataset.quickMs);
  var form = document.getElementById("review-form");
  var undo = document.getElementById("undo-form");
  var skip = document.getElementById("skip-form");
  var hint = document.getElementById("review-wait");
  var photo = document.getElementById("review-photo");
  var shown = performance.now();

  if (photo) {
    // No taller than most of the screen, so the whole photo can be drawn on without scrolling (CSSOM: the content
    // security policy refuses style attributes).
    var view = photo.querySelector("svg").viewBox.baseVal;
    photo.querySelector(".photo").style.maxWidth = "calc(75vh * " + (view.width / view.height).toFixed(4) + ")";
    // The photo is fetched the first time it is shown, not with every item of the queue.
    photo.addEventListener("toggle", function () {
      var image = photo.querySelector("image[data-href]");
      if (photo.open && image) {
        image.setAttribute("href", image.getAttribute("data-href"));
        image.removeAttribute("data-href");
      }
    });
  }

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
    if (key === "p" && photo) {
      event.preventDefault();
      photo.open = !photo.open;
      // Open: the photo in view, the focus on the button that places a box; closed: on the summary, which reopens it.
      if (photo.open) photo.scrollIntoView({ block: "start" });
      (photo.open ? photo.querySelector("[data-draw-start]") : photo.querySelector("summary")).focus({ preventScroll: photo.open });
      return;
    }
    var reject = form.querySelector("[data-not-a-face]");
    // A digit's box is also rejected with Delete or Backspace, as on the result page.
    var rejects = key === "x" || ((key === "delete" || key === "backspace") && reject && reject.hasAttribute("data-delete"));
    if (rejects && reject) { event.preventDefault(); form.requestSubmit(reject); return; }
    if (key === "enter") {
      if (/^(BUTTON|A|SUMMARY)$/.test(event.target.tagName)) return;  // a focused control clicks itself
      event.preventDefault();
      if (performance.now() - shown < QUICK_MS) { hint.hidden = false; return; }
      form.requestSubmit(form.querySelector("[data-confirm]"));
      return;
    }
    var button = form.querySelector('button[data-key="' + CSS.escape(key) + '"]');
    if (button) { event.preventDefault(); form.requestSubmit(button); }
  });
})();
