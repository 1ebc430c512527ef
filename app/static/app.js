// VisionLoop page behaviour: drop or pick a file, camera snapshot, location on consent, result-page shortcuts.
(function () {
  "use strict";

  function useFile(input, file) {
    var list = new DataTransfer();
    list.items.add(file);
    input.files = list.files;
    input.dispatchEvent(new Event("change"));
  }

  function initPicker(form) {
    var input = form.querySelector("#image");
    var zone = form.querySelector("#dropzone");
    var preview = form.querySelector("#preview");
    var text = form.querySelector("#drop-text");
    input.addEventListener("change", function () {
      var file = input.files[0];
      if (!file) return;
      if (preview.src) URL.revokeObjectURL(preview.src);
      preview.src = URL.createObjectURL(file);
      preview.hidden = false;
      text.textContent = file.name + " (" + Math.round(file.size / 1024) + " KB) · drop or choose another";
    });
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

  function initLocation(form) {
    var box = form.querySelector("#use-location");
    var lat = form.querySelector("#latitude");
    var lon = form.querySelector("#longitude");
    var status = form.querySelector("#location-status");
    box.addEventListener("change", function () {
      lat.value = lon.value = "";
      status.textContent = "";
      if (!box.checked) return;
      if (!navigator.geolocation) {  // still ticked: the photo's own GPS tag is used, if it has one
        status.textContent = "This browser cannot share a location; the photo's GPS tag is used if it has one.";
        return;
      }
      status.textContent = "Asking your browser…";
      navigator.geolocation.getCurrentPosition(function (position) {
        if (!box.checked) return;  // unticked while the browser was asking
        lat.value = position.coords.latitude.toFixed(6);
        lon.value = position.coords.longitude.toFixed(6);
        status.textContent = "Location added (±" + Math.round(position.coords.accuracy) + " m).";
      }, function (error) {
        status.textContent = "No browser location (" + error.message + "); the photo's GPS tag is used if it has one.";
      }, { timeout: 10000, maximumAge: 600000 });
    });
  }

  // j/k (or arrows inside the list) move between detections; a label's key picks it; Enter confirms (a digit: the
  // whole number); x marks the box not a face, Delete or Backspace a digit's box not a digit, and u undoes that (their
  // buttons carry the keys).
  function initShortcuts(items) {
    function current() {
      return items.find(function (item) { return item.contains(document.activeElement); }) || null;
    }
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (/^(INPUT|SELECT|TEXTAREA)$/.test(event.target.tagName)) return;
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
        // A box marked not a face has nothing to confirm; a digit confirms the number it belongs to.
        var confirm = active.querySelector("[data-confirm]") || (card && card.querySelector("[data-confirm-number]"));
        if (confirm) confirm.click();
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
  }
  var detections = Array.prototype.slice.call(document.querySelectorAll("[data-detection]"));
  if (detections.length) initShortcuts(detections);
})();
