// VisionLoop page behaviour: drop or pick a file, camera snapshot, location on consent, result-page shortcuts.
(function () {
  "use strict";

  function useFile(input, file) {
    var list = new DataTransfer();
    list.items.add(file);
    input.files = list.files;
    input.dispatchEvent(new Event("change"));
  }

  // The file chosen is kept in IndexedDB when the form is sent, so a page that comes back with an error can put it
  // back in the picker: the person fixes the choice instead of finding the photo again.
  var kept = {
    open: function (then) {
      if (!window.indexedDB) return;
      var request = indexedDB.open("visionloop", 1);
      request.onupgradeneeded = function () { request.result.createObjectStore("upload"); };
      request.onsuccess = function () { then(request.result.transaction("upload", "readwrite").objectStore("upload")); };
    },
    save: function (file) { kept.open(function (store) { store.put(file, "file"); }); },
    restore: function (use) {
      kept.open(function (store) {
        var read = store.get("file");
        read.onsuccess = function () { if (read.result) use(read.result); };
      });
    },
    clear: function () { kept.open(function (store) { store.delete("file"); }); }
  };

  function sizeText(bytes) {
    return bytes >= 1048576 ? (bytes / 1048576).toFixed(1) + " MB" : Math.round(bytes / 1024) + " KB";
  }

  function initPicker(form) {
    var input = form.querySelector("#image");
    var zone = form.querySelector("#dropzone");
    var preview = form.querySelector("#preview");
    var text = form.querySelector("#drop-text");
    var problem = form.querySelector("#image-size-error");
    var limit = Number(form.dataset.maxBytes);
    function tooLarge(file) { return limit && file.size > limit - 16384; }  // room for the form's other fields
    input.addEventListener("change", function () {
      var file = input.files[0];
      if (!file) return;
      if (preview.src) URL.revokeObjectURL(preview.src);
      preview.src = URL.createObjectURL(file);
      preview.hidden = false;
      text.textContent = file.name + " (" + sizeText(file.size) + ") · drop or choose another";
      problem.hidden = !tooLarge(file);
      problem.textContent = tooLarge(file) ? file.name + " is " + sizeText(file.size) + "; photos can be at most " +
        sizeText(limit) + ". Choose a smaller photo, or shrink this one first." : "";
      zone.classList.toggle("invalid", tooLarge(file));
    });
    form.addEventListener("submit", function (event) {
      var file = input.files[0];
      if (file && tooLarge(file)) {  // refused here: the upload would only come back as "too large"
        event.preventDefault();
        problem.hidden = false;
        input.focus();
        return;
      }
      if (file) kept.save(file);
    });
    if (form.dataset.failed) kept.restore(function (file) { if (!input.files.length) useFile(input, file); });
    else kept.clear();
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (event) {
      if (event.dataTransfer.files.length) useFile(input, event.dataTransfer.files[0]);
    });
  }

  function initCamera(form) {
    var input = form.querySelector("#image");
    var video = form.querySelector("#camera-video");
    var canvas = form.querySelector("#camera-canvas");
    var start = form.querySelector("#camera-start");
    var snap = form.querySelector("#camera-snap");
    var stop = form.querySelector("#camera-stop");
    var status = form.querySelector("#camera-status");
    var stream = null;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      start.disabled = true;
      status.textContent = "The camera needs a browser that supports it, on https or localhost.";
      return;
    }
    function close() {
      if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
      video.hidden = snap.hidden = stop.hidden = true;
      start.hidden = false;
    }
    start.addEventListener("click", function () {
      status.textContent = "Waiting for camera permission…";
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "user" }, audio: false }).then(function (s) {
        stream = s;
        video.srcObject = s;
        video.hidden = snap.hidden = stop.hidden = false;
        start.hidden = true;
        status.textContent = "";
        return video.play();
      }).catch(function (error) {
        close();
        status.textContent = "No camera: " + error.message;
      });
    });
    snap.addEventListener("click", function () {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      canvas.getContext("2d").drawImage(video, 0, 0);
      canvas.toBlob(function (blob) {
        useFile(input, new File([blob], "camera.jpg", { type: "image/jpeg" }));
        status.textContent = "Photo taken. Press Classify, or take another.";
      }, "image/jpeg", 0.92);
      close();
    });
    stop.addEventListener("click", close);
  }

  // The browser is asked for a position only when "Where I am now" is chosen; nothing else stands in for it.
  function initLocation(form) {
    var choices = form.querySelectorAll('input[name="location_from"]');
    var lat = form.querySelector("#latitude");
    var lon = form.querySelector("#longitude");
    var status = form.querySelector("#location-status");
    function chosen() { return form.querySelector('input[name="location_from"]:checked').value; }
    function update() {
      lat.value = lon.value = "";
      status.textContent = chosen() === "photo" ? "The photo's own GPS tag is kept, if it has one." : "";
      if (chosen() !== "browser") return;
      if (!navigator.geolocation) {
        status.textContent = "This browser cannot share a location; choose the photo's GPS tag or no location.";
        return;
      }
      status.textContent = "Asking your browser…";
      navigator.geolocation.getCurrentPosition(function (position) {
        if (chosen() !== "browser") return;  // changed while the browser was asking
        lat.value = position.coords.latitude.toFixed(6);
        lon.value = position.coords.longitude.toFixed(6);
        status.textContent = "Your location is added (±" + Math.round(position.coords.accuracy) + " m).";
      }, function (error) {
        status.textContent = "Your browser did not share a location (" + error.message +
          "); no location will be kept unless you choose the photo's GPS tag.";
      }, { timeout: 10000, maximumAge: 600000 });
    }
    Array.prototype.forEach.call(choices, function (choice) { choice.addEventListener("change", update); });
  }

  // j/k (or arrows inside the list) move between detections; a label's key saves it; Enter confirms the model's
  // label (a digit: the whole number); x marks the box not a face, Delete or Backspace a digit's box not a digit, and
  // u undoes that (their buttons carry the keys). As in the review queue, Enter waits until the photo has been on
  // screen for a moment and a held-down key never repeats.
  var QUICK_MS = Number(document.body.dataset.quickMs);  // the server's QUICK_MS, set on the body by base.html
  function initShortcuts(items) {
    var shown = performance.now();
    // Every label form (a detection's, a digit's, the whole number's) says how long the page had been on screen.
    Array.prototype.forEach.call(document.querySelectorAll('input[name="seen_ms"]'), function (seen) {
      seen.form.addEventListener("submit", function () { seen.value = Math.round(performance.now() - shown); });
    });
    function current() {
      return items.find(function (item) { return item.contains(document.activeElement); }) || null;
    }
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (/^(INPUT|SELECT|TEXTAREA)$/.test(event.target.tagName)) return;
      if (event.repeat) { event.preventDefault(); return; }
      var active = current();
      var down = event.key === "j" || (active && event.key === "ArrowDown");
      var up = event.key === "k" || (active && event.key === "ArrowUp");
      if (down || up) {
        var index = active ? items.indexOf(active) + (down ? 1 : -1) : 0;
        var next = items[Math.max(0, Math.min(items.length - 1, index))];
        next.focus();
        next.scrollIntoView({ block: "nearest" });
        event.preventDefault();
        return;
      }
      active = active || items[0];
      if (event.key === "Enter") {
        if (event.target !== active && event.target !== document.body) return;  // a focused button clicks itself
        var card = active.closest(".recognizer");
        // Only an unreviewed detection has a confirm button; a digit confirms the number it belongs to.
        var confirm = active.querySelector("[data-confirm]") || (card && card.querySelector("[data-confirm-number]"));
        if (confirm && performance.now() - shown >= QUICK_MS) confirm.click();
        event.preventDefault();
        return;
      }
      var key = event.key === "Backspace" ? "Delete" : event.key;
      var button = active.querySelector('button[data-key="' + CSS.escape(key) + '"]');
      if (button) {
        button.click();
        event.preventDefault();
      }
    });
    var target = location.hash ? document.getElementById(location.hash.slice(1)) : null;
    if (target && items.indexOf(target) >= 0) target.focus();
    else items[0].focus({ preventScroll: true });
  }

  var form = document.getElementById("classify-form");
  if (form) {
    initPicker(form);
    initCamera(form);
    initLocation(form);
  } else {
    kept.clear();  // the upload went through: the copy kept for a retry is not needed any more
  }
  var detections = Array.prototype.slice.call(document.querySelectorAll("[data-detection]"));
  if (detections.length) initShortcuts(detections);
})();
