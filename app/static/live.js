// VisionLoop live mode: camera frames over one WebSocket, boxes drawn over the video, the room's mood chart, or a
// house number's digits with the number most recent frames read.
(function () {
  "use strict";

  var COLORS = {
    angry: "#dc2626", disgust: "#65a30d", fear: "#7c3aed", happy: "#f59e0b",
    neutral: "#94a3b8", sad: "#2563eb", surprise: "#0d9488"
  };
  var SPARE = ["#db2777", "#0891b2", "#ca8a04", "#4f46e5"];
  var FRAME_SIDE = 640;  // the server detects faces at 640 px and reads numbers at 320: larger frames only cost bandwidth
  var JPEG_QUALITY = 0.7;
  var STUCK_MS = 5000;  // a reply this late is lost (a dropped connection): send a fresh frame

  function colorOf(label, classes) {
    return COLORS[label] || SPARE[Math.max(0, classes.indexOf(label)) % SPARE.length];
  }

  // The top-left corner of a face's width × height label: above its box (below when the box touches the top), and
  // inside the frame, so a face at an edge keeps its whole label.
  function labelSpot(box, width, height, frameWidth, frameHeight) {
    var top = box[1] > height ? box[1] - height : box[1] + box[3];
    return { x: Math.max(0, Math.min(box[0], frameWidth - width)), y: Math.max(0, Math.min(top, frameHeight - height)) };
  }

  function clock(seconds) {
    var m = Math.floor(seconds / 60), s = Math.floor(seconds % 60);
    return m + ":" + (s < 10 ? "0" : "") + s;
  }

  // Adjacent buckets merged so that no column is thinner than a few pixels.
  function columns(buckets, max) {
    var size = Math.max(1, Math.ceil(buckets.length / max)), out = [];
    for (var i = 0; i < buckets.length; i += size) {
      var group = buckets.slice(i, i + size), col = { t: group[0].t, frames: 0, faces: 0, peak: 0, counts: {} };
      group.forEach(function (b) {
        col.frames += b.frames;
        col.faces += b.faces;
        col.peak = Math.max(col.peak, b.peak);
        Object.keys(b.counts).forEach(function (k) { col.counts[k] = (col.counts[k] || 0) + b.counts[k]; });
      });
      out.push(col);
    }
    return out;
  }

  // Stacked bars: each expression's share of the faces in a bucket; a line: faces per frame.
  function drawMood(canvas, buckets, classes) {
    var ratio = window.devicePixelRatio || 1;
    var width = canvas.clientWidth || 600, height = canvas.clientHeight || 220;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    var ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    var pad = { left: 40, right: 34, top: 10, bottom: 24 };
    var plotW = width - pad.left - pad.right, plotH = height - pad.top - pad.bottom;
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = "#5b6475";
    ctx.strokeStyle = "#e2e5ee";
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    [0, 0.5, 1].forEach(function (v) {
      var y = pad.top + plotH * (1 - v);
      ctx.beginPath(); ctx.moveTo(pad.left, y); ctx.lineTo(pad.left + plotW, y); ctx.stroke();
      ctx.fillText(Math.round(v * 100) + "%", pad.left - 6, y);
    });
    canvas.dataset.buckets = String(buckets.length);
    if (!buckets.length) return;
    var cols = columns(buckets, Math.max(1, Math.floor(plotW / 6)));
    var step = plotW / Math.max(cols.length, 12), bar = Math.max(2, step * 0.8);
    var peak = Math.max(1, Math.max.apply(null, cols.map(function (c) { return c.peak; })));
    cols.forEach(function (col, i) {
      var x = pad.left + i * step + (step - bar) / 2, y = pad.top + plotH;
      classes.forEach(function (label) {
        var n = col.counts[label] || 0;
        if (!n || !col.faces) return;
        var h = plotH * n / col.faces;
        ctx.fillStyle = colorOf(label, classes);
        ctx.fillRect(x, y - h, bar, h);
        y -= h;
      });
    });
    ctx.strokeStyle = "#1b1f2a";
    ctx.lineWidth = 2;
    ctx.beginPath();
    cols.forEach(function (col, i) {
      var x = pad.left + i * step + step / 2;
      var y = pad.top + plotH * (1 - (col.frames ? col.faces / col.frames : 0) / peak);
      if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
    });
    ctx.stroke();
    ctx.lineWidth = 1;
    ctx.fillStyle = "#5b6475";
    ctx.textAlign = "left";
    ctx.fillText(String(peak), pad.left + plotW + 6, pad.top);
    ctx.fillText("0", pad.left + plotW + 6, pad.top + plotH);
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    var every = Math.max(1, Math.ceil(cols.length / 8));
    cols.forEach(function (col, i) {
      if (i % every === 0) ctx.fillText(clock(col.t), pad.left + i * step + step / 2, pad.top + plotH + 6);
    });
  }

  function fillLegend(list, classes) {
    list.textContent = "";
    classes.forEach(function (label) {
      var item = document.createElement("li"), swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = colorOf(label, classes);
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(label));
      list.appendChild(item);
    });
    var faces = document.createElement("li"), line = document.createElement("span");
    faces.className = "faces-line";
    line.className = "swatch line";
    faces.appendChild(line);
    faces.appendChild(document.createTextNode("faces per frame (right axis)"));
    list.appendChild(faces);
  }

  // The summary is of the latest bucket only, and says so: a saved session counts every frame.
  function describe(bucket, seconds) {
    var labels = Object.keys(bucket.counts).sort(function (a, b) { return bucket.counts[b] - bucket.counts[a]; });
    var span = "In the last " + seconds + " s";
    if (!bucket.faces) return span + ": no faces (" + bucket.frames + " frames).";
    var top = labels[0];
    return span + ": mostly " + top + " (" + Math.round(100 * bucket.counts[top] / bucket.faces) + "% of " +
      bucket.faces + " faces over " + bucket.frames + " frames, up to " + bucket.peak + " at once).";
  }

  function initLive(root) {
    var video = root.querySelector("#live-video");
    var overlay = root.querySelector("#live-overlay");
    var select = root.querySelector("#live-recognizer");
    var startButton = root.querySelector("#live-start");
    var stopButton = root.querySelector("#live-stop");
    var status = root.querySelector("#live-status");
    var facesList = root.querySelector("#live-faces");
    var notice = root.querySelector("#live-notice");
    var saveButton = root.querySelector("#live-save");
    var saved = root.querySelector("#live-saved");
    var snapshots = root.querySelector("#live-snapshots");
    var numberValue = root.querySelector("#live-number");
    var numberAgree = root.querySelector("#live-number-agree");
    var reviewNumber = root.querySelector("#live-review-number");
    var mood = document.querySelector("#mood");
    var chart = document.querySelector("#mood-chart");
    var legend = document.querySelector("#mood-legend");
    var summary = document.querySelector("#mood-summary");
    var stats = {
      faces: root.querySelector("#live-faces-now"), fps: root.querySelector("#live-fps"),
      latency: root.querySelector("#live-latency"), skipped: root.querySelector("#live-skipped")
    };
    var maxFps = Number(root.dataset.maxFps) || 15;
    var signedIn = root.dataset.signedIn === "true";
    var grab = document.createElement("canvas");
    var ws = null, camera = null, classes = [], buckets = [], bucketS = 5, result = null, thing = "face";
    var inFlight = false, sentAt = 0, lastSend = 0, replies = [], latencies = [], shown = 0, sent = 0, timer = null;

    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.WebSocket) {
      startButton.disabled = true;
      status.textContent = "Live mode needs a browser with camera access, on https or localhost.";
      return;
    }

    function socketUrl() {
      var scheme = location.protocol === "https:" ? "wss:" : "ws:";
      return scheme + "//" + location.host + root.dataset.wsPath + "?recognizer=" + encodeURIComponent(select.value);
    }

    // Faces come with the room's mood; a house number with the number itself, large.
    function showThing() {
      thing = select.selectedOptions[0] ? select.selectedOptions[0].dataset.thing : "face";
      root.dataset.thing = thing;
      mood.hidden = thing === "digit";
    }

    function found() { return result ? result.faces || result.digits : []; }

    function connect() {
      buckets = [];
      result = null;
      facesList.textContent = "";  // the other recognizer's items (faces have buttons, digits none)
      showNumber();
      drawMood(chart, buckets, classes);
      ws = new WebSocket(socketUrl());
      ws.onmessage = function (event) { receive(JSON.parse(event.data)); };
      ws.onclose = function () {
        ws = null;
        inFlight = false;
        if (saveButton) saveButton.disabled = true;
        if (camera) status.textContent = "The connection closed. Press Stop, then Start to reconnect.";
      };
    }

    function receive(msg) {
      if (msg.type === "ready") {
        classes = msg.classes;
        bucketS = msg.bucket_s;
        fillLegend(legend, classes);
        status.textContent = "Live with " + msg.recognizer + " (model " + msg.model_version + ").";
        if (saveButton) saveButton.disabled = false;
        if (snapshots && snapshots.checked) send({ type: "snapshots", on: true });
        pump();
      } else if (msg.type === "result") {
        arrived();
        if (!msg.digits) addBucket(msg.bucket);
        if (!camera) return;  // answered after Stop: counted in the mood, but the video is gone
        result = msg;
        drawBoxes();
        listFaces();
        showNumber();
        pump();
      } else if (msg.type === "error") {
        if (msg.fatal) stop();  // the server closes the socket after a fatal error
        if (msg.frame !== undefined) { arrived(); pump(); }
        (msg.frame !== undefined || msg.fatal ? status : notice).textContent = msg.message;
      } else if (msg.type === "reviewed") {
        notice.textContent = "";
        notice.appendChild(document.createTextNode((msg.number !== undefined ? "Number " + msg.number
          : "Face #" + (msg.face + 1) + " (" + msg.label + ")") + " is in the review queue. "));
        var link = document.createElement("a");
        link.href = msg.url;
        link.textContent = "Open it";
        link.dataset.test = "reviewed-link";
        notice.appendChild(link);
      } else if (msg.type === "saved") {
        saved.textContent = "Saved: " + msg.frames + " frames" + (msg.snapshots ? ", " + msg.snapshots + " snapshots" : "") + ". ";
        var open = document.createElement("a");
        open.href = msg.url;
        open.textContent = "See it in your history";
        open.dataset.test = "saved-link";
        saved.appendChild(open);
      } else if (msg.type === "snapshots") {
        saved.textContent = msg.on ? "Saving also keeps one frame per " + bucketS + " s, at most " + msg.max + "."
          : "Saving keeps the mood counts only.";
      }
    }

    function send(message) {
      if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
    }

    function arrived() {
      var now = performance.now();
      inFlight = false;
      latencies.push(now - sentAt);
      replies.push(now);
      while (replies.length && now - replies[0] > 2000) replies.shift();
      if (latencies.length > 20) latencies.shift();
      if (!camera) return;  // the answer to a frame sent before Stop: the figures stay cleared
      stats.fps.textContent = (replies.length / 2).toFixed(1) + " frames/s";
      stats.latency.textContent = Math.round(latencies.reduce(function (a, b) { return a + b; }, 0) / latencies.length) + " ms";
      stats.skipped.textContent = shown ? String(Math.max(0, shown - sent)) : "—";
    }

    // One frame in flight at most: while the server works, the camera's new frames are skipped, not queued.
    function pump() {
      clearTimeout(timer);
      if (!ws || ws.readyState !== WebSocket.OPEN || !camera || !video.videoWidth) return;
      var now = performance.now();
      if (inFlight && now - sentAt < STUCK_MS) return;
      var wait = 1000 / maxFps - (now - lastSend);
      if (wait > 0) { timer = setTimeout(pump, wait); return; }
      var scale = Math.min(1, FRAME_SIDE / Math.max(video.videoWidth, video.videoHeight));
      grab.width = Math.round(video.videoWidth * scale);
      grab.height = Math.round(video.videoHeight * scale);
      grab.getContext("2d").drawImage(video, 0, 0, grab.width, grab.height);
      inFlight = true;
      sentAt = lastSend = now;
      sent += 1;
      grab.toBlob(function (blob) {
        if (blob && ws && ws.readyState === WebSocket.OPEN) ws.send(blob); else inFlight = false;
      }, "image/jpeg", JPEG_QUALITY);
      timer = setTimeout(pump, STUCK_MS);
    }

    function countShown() {
      if (!camera) return;
      shown += 1;
      video.requestVideoFrameCallback(countShown);
    }

    function drawBoxes() {
      var ctx = overlay.getContext("2d");
      overlay.dataset.number = result && result.steady ? result.steady.number : "";
      if (!result) { ctx.clearRect(0, 0, overlay.width, overlay.height); overlay.dataset.boxes = "0"; return; }
      if (overlay.width !== result.width || overlay.height !== result.height) {
        overlay.width = result.width;
        overlay.height = result.height;
      }
      ctx.clearRect(0, 0, overlay.width, overlay.height);
      var unit = Math.max(result.width, result.height) / 100;
      ctx.lineWidth = Math.max(2, unit * 0.5);
      ctx.font = "600 " + Math.round(unit * 3) + "px system-ui, sans-serif";
      ctx.textBaseline = "bottom";
      found().forEach(function (face, i) {
        var x = face.box[0], y = face.box[1], w = face.box[2], h = face.box[3];
        var color = colorOf(face.label, classes);
        // A digit's box is narrow: its label alone fits above it (the list beside gives each confidence).
        var text = result.digits ? face.label : (i + 1) + " " + face.label + " " + Math.round(face.confidence * 100) + "%";
        ctx.strokeStyle = color;
        ctx.strokeRect(x, y, w, h);
        var tw = ctx.measureText(text).width + unit * 1.2, th = unit * 3.8;
        var spot = labelSpot(face.box, tw, th, overlay.width, overlay.height);
        ctx.fillStyle = color;
        ctx.fillRect(spot.x, spot.y, tw, th);
        ctx.fillStyle = "#fff";
        ctx.fillText(text, spot.x + unit * 0.6, spot.y + th - unit * 0.4);
      });
      if (result.steady && result.steady.number) drawNumber(ctx, result.steady, unit);
      overlay.dataset.boxes = String(found().length);
      stats.faces.textContent = String(found().length);
    }

    // The number shown, large in the top left corner, with how sure the reader is of it.
    function drawNumber(ctx, steady, unit) {
      var text = steady.number + "  " + Math.round(steady.confidence * 100) + "%";
      ctx.font = "700 " + Math.round(unit * 9) + "px system-ui, sans-serif";
      ctx.fillStyle = "rgba(17, 17, 17, 0.7)";
      ctx.fillRect(unit, unit, ctx.measureText(text).width + unit * 3, unit * 11);
      ctx.fillStyle = "#fff";
      ctx.fillText(text, unit * 2.5, unit * 11);
    }

    function showNumber() {
      var steady = result && result.steady;
      numberValue.textContent = steady && steady.number ? steady.number : "—";
      numberValue.dataset.agree = steady ? steady.agree + "/" + steady.of : "";
      if (reviewNumber) reviewNumber.disabled = !(steady && steady.number);
      if (!steady) return;
      numberAgree.textContent = steady.number
        ? Math.round(steady.confidence * 100) + "% sure; " + steady.agree + " of the last " + steady.of + " frames read it."
        : "No number: " + steady.agree + " of the last " + steady.of + " frames read none.";
    }

    // List items are reused, so a button under the pointer stays the same element between frames.
    function listFaces() {
      var faces = found();
      while (facesList.children.length < faces.length) facesList.appendChild(faceItem(facesList.children.length));
      Array.prototype.forEach.call(facesList.children, function (item, i) {
        item.hidden = i >= faces.length;
        if (item.hidden) return;
        item.querySelector(".swatch").style.background = colorOf(faces[i].label, classes);
        item.querySelector(".what").textContent = faces[i].label + " " + Math.round(faces[i].confidence * 100) + "%";
      });
    }

    function faceItem(i) {
      var item = document.createElement("li"), swatch = document.createElement("span"), what = document.createElement("span");
      item.dataset.test = "live-face";
      swatch.className = "swatch";
      what.className = "what";
      item.appendChild(swatch);
      item.appendChild(what);
      if (signedIn && thing === "face") {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "button small";
        button.textContent = "Send to review";
        button.dataset.test = "review-face";
        button.addEventListener("click", function () { review(i); });
        item.appendChild(button);
      }
      return item;
    }

    function review(i) {
      if (!result || !result.faces || i >= result.faces.length) return;
      notice.textContent = "Sending face #" + (i + 1) + "…";
      send({ type: "review", frame: result.frame, face: i });
    }

    // The number shown is sent with the latest frame that read it, which may be a little older than this one.
    function reviewShown() {
      if (!result || !result.steady || !result.steady.number) return;
      notice.textContent = "Sending " + result.steady.number + "…";
      send({ type: "review", frame: result.steady.frame });
    }

    overlay.addEventListener("click", function (event) {
      if (!signedIn || !result) return;
      if (result.digits) { reviewShown(); return; }
      var rect = overlay.getBoundingClientRect();
      var x = (event.clientX - rect.left) * overlay.width / rect.width;
      var y = (event.clientY - rect.top) * overlay.height / rect.height;
      result.faces.forEach(function (face, i) {
        var b = face.box;
        if (x >= b[0] && x <= b[0] + b[2] && y >= b[1] && y <= b[1] + b[3]) review(i);
      });
    });

    function addBucket(bucket) {
      var last = buckets[buckets.length - 1];
      if (last && last.t === bucket.t) buckets[buckets.length - 1] = bucket; else buckets.push(bucket);
      summary.textContent = describe(bucket, bucketS);
      drawMood(chart, buckets, classes);
    }

    function stop() {
      clearTimeout(timer);
      if (camera) camera.getTracks().forEach(function (track) { track.stop(); });
      camera = null;
      video.srcObject = null;
      result = null;
      drawBoxes();
      listFaces();
      showNumber();
      // The figures were of a running camera: left standing over a black video they would read as current.
      Object.keys(stats).forEach(function (name) { stats[name].textContent = "—"; });
      startButton.hidden = false;
      stopButton.hidden = true;
      select.disabled = false;
      status.textContent = ws ? "Paused. The session goes on when you start again; save it any time." : "The camera is off.";
    }

    startButton.addEventListener("click", function () {
      status.textContent = "Waiting for camera permission…";
      navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false })
        .then(function (stream) {
          camera = stream;
          video.srcObject = stream;
          startButton.hidden = true;
          stopButton.hidden = false;
          select.disabled = true;
          if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(countShown);
          video.addEventListener("loadeddata", pump, { once: true });
          if (!ws) connect(); else status.textContent = "Live again.";
          return video.play();
        })
        .catch(function (error) {
          stop();
          status.textContent = "No camera: " + error.message;
        });
    });
    stopButton.addEventListener("click", stop);
    // A different recognizer is a different session: reconnect when the camera starts next.
    select.addEventListener("change", function () { showThing(); if (ws) ws.close(); });
    if (reviewNumber) reviewNumber.addEventListener("click", reviewShown);
    if (saveButton) saveButton.addEventListener("click", function () { saved.textContent = "Saving…"; send({ type: "save" }); });
    if (snapshots) snapshots.addEventListener("change", function () { send({ type: "snapshots", on: snapshots.checked }); });
    window.addEventListener("resize", function () { drawMood(chart, buckets, classes); });
    showThing();
    drawMood(chart, buckets, classes);
  }

  function initSaved(canvas) {
    var series = JSON.parse(canvas.dataset.series);
    fillLegend(document.querySelector("#mood-legend"), series.classes);
    drawMood(canvas, series.buckets, series.classes);
    window.addEventListener("resize", function () { drawMood(canvas, series.buckets, series.classes); });
  }

  var live = document.querySelector("#live");
  if (live) initLive(live);
  var savedChart = document.querySelector("#mood-chart[data-series]");
  if (savedChart) initSaved(savedChart);
})();
