// Add a face the detector missed: drag a box on the photo (mouse or pen at once; touch after "Add a face", so a finger
// on the photo still scrolls the page until then), or place it with the keyboard; the form posts it in photo pixels.
(function () {
  "use strict";
  var active = null;  // the figure in drawing mode: one at a time, and it owns the keyboard meanwhile

  function clamp(value, low, high) { return Math.min(high, Math.max(low, value)); }

  function init(figure) {
    var svg = figure.querySelector("svg");
    var draft = svg.querySelector("[data-draft]");
    var form = figure.querySelector("[data-add-face]");
    var start = form.querySelector("[data-draw-start]");
    var save = form.querySelector("[data-draw-save]");
    var cancel = form.querySelector("[data-draw-cancel]");
    var hint = form.querySelector("[data-draw-hint]");
    var idle = hint.textContent;
    var width = svg.viewBox.baseVal.width, height = svg.viewBox.baseVal.height;
    var min = Number(figure.getAttribute("data-min-side"));
    var step = Math.max(1, Math.round(Math.max(width, height) / 100));
    var box = null, anchor = null;

    // The SVG keeps the photo's aspect ratio, so one scale per axis maps the screen to the photo's pixels.
    function point(event) {
      var rect = svg.getBoundingClientRect();
      return { x: clamp((event.clientX - rect.left) * width / rect.width, 0, width),
               y: clamp((event.clientY - rect.top) * height / rect.height, 0, height) };
    }

    function show() {
      draft.toggleAttribute("hidden", !box);  // an SVG element has no .hidden property
      var ok = box && box.w >= min && box.h >= min;
      save.disabled = !ok;
      if (!box) return;
      var rounded = { x: Math.round(box.x), y: Math.round(box.y), w: Math.round(box.w), h: Math.round(box.h) };
      draft.setAttribute("x", rounded.x);
      draft.setAttribute("y", rounded.y);
      draft.setAttribute("width", rounded.w);
      draft.setAttribute("height", rounded.h);
      Object.keys(rounded).forEach(function (k) { form.querySelector('[data-box="' + k + '"]').value = rounded[k]; });
      hint.textContent = ok ? "Box " + rounded.w + "×" + rounded.h + " px: Save, or drag again. Arrows move it, Shift+arrows size it."
                            : "Draw a box at least " + min + " px wide and high.";
      // The hint never shrinks while a box is drawn: a page scrolled to its end would move under the finger.
      hint.style.minHeight = hint.offsetHeight + "px";
    }

    function enter() {
      if (active && active !== figure) active.dispatchEvent(new Event("draw-cancel"));
      active = figure;
      figure.classList.add("drawing");
      start.hidden = true;
      save.hidden = cancel.hidden = false;
    }

    function leave() {
      if (active === figure) active = null;
      box = anchor = null;
      figure.classList.remove("drawing");
      start.hidden = false;
      save.hidden = cancel.hidden = true;
      show();
      hint.textContent = idle;
      hint.style.minHeight = "";
    }

    start.addEventListener("click", function () {
      enter();
      var side = Math.max(min, Math.round(Math.min(width, height) / 4));  // a keyboard user's first box: centred
      box = { x: (width - side) / 2, y: (height - side) / 2, w: side, h: side };
      show();
      save.focus();
    });
    cancel.addEventListener("click", function () { leave(); start.focus(); });
    figure.addEventListener("draw-cancel", leave);

    svg.addEventListener("pointerdown", function (event) {
      if (event.button !== 0 || (active !== figure && event.pointerType === "touch")) return;
      enter();
      anchor = point(event);
      box = { x: anchor.x, y: anchor.y, w: 0, h: 0 };
      svg.setPointerCapture(event.pointerId);
      event.preventDefault();
      show();
    });
    svg.addEventListener("pointermove", function (event) {
      if (!anchor) return;
      var p = point(event);
      box = { x: Math.min(anchor.x, p.x), y: Math.min(anchor.y, p.y), w: Math.abs(p.x - anchor.x), h: Math.abs(p.y - anchor.y) };
      show();
    });
    function release() {
      if (!anchor) return;
      anchor = null;
      save.focus({ preventScroll: true });  // Enter saves, Esc cancels, from wherever the pointer left off
    }
    svg.addEventListener("pointerup", release);
    svg.addEventListener("pointercancel", release);

    figure.addEventListener("draw-key", function (event) {
      var key = event.detail.key, shift = event.detail.shift;
      if (key === "Escape") { leave(); start.focus(); return; }
      if (key === "Enter") { if (!save.disabled) form.requestSubmit(save); return; }
      if (!box) return;
      var dx = key === "ArrowRight" ? step : key === "ArrowLeft" ? -step : 0;
      var dy = key === "ArrowDown" ? step : key === "ArrowUp" ? -step : 0;
      if (shift) {
        box.w = clamp(box.w + dx, 1, width - box.x);
        box.h = clamp(box.h + dy, 1, height - box.y);
      } else {
        box.x = clamp(box.x + dx, 0, width - box.w);
        box.y = clamp(box.y + dy, 0, height - box.h);
      }
      show();
    });
  }

  // Captured before the page's own shortcuts (app.js), which stay quiet while a box is being drawn.
  window.addEventListener("keydown", function (event) {
    if (!active || event.ctrlKey || event.metaKey || event.altKey || event.key === "Tab") return;
    event.stopPropagation();
    var keys = ["Escape", "Enter", "ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"];
    if (keys.indexOf(event.key) < 0) return;
    if (event.key === "Enter" && /^(BUTTON|A)$/.test(event.target.tagName)) return;  // a focused button clicks itself
    event.preventDefault();
    active.dispatchEvent(new CustomEvent("draw-key", { detail: { key: event.key, shift: event.shiftKey } }));
  }, true);

  document.querySelectorAll("[data-draw]").forEach(init);
})();
