// Model-health and face-detector charts (Chart.js, served by the app) from the JSON the page embeds, and live run
// progress.
(function () {
  "use strict";
  var source = document.getElementById("health-data");
  var palette = ["#4f46e5", "#0f7b4f", "#b42318", "#8a5a00", "#0ea5e9", "#a855f7", "#f97316", "#14b8a6", "#64748b", "#db2777"];
  var percent = { min: 0, max: 1, ticks: { callback: function (v) { return Math.round(v * 100) + "%"; } } };

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas || !window.Chart) return;
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
    new window.Chart(canvas, config);
  }

  // Big points, so one day or one version still reads as a value and not as a stray dot.
  function line(label, values, color, extra) {
    return Object.assign({ label: label, data: values, borderColor: color, backgroundColor: color, spanGaps: true,
                           cubicInterpolationMode: "monotone", pointRadius: 5, pointHoverRadius: 7 }, extra || {});
  }

  // A line needs a few points to mean anything; with one or two periods bars show the values instead.
  function trend(count) { return count < 3 ? "bar" : "line"; }

  function agreement(id, rows) {
    draw(id, {
      type: "bar",
      data: { labels: rows.map(function (r) { return r.period; }), datasets: [
        { label: "confirmed", data: rows.map(function (r) { return r.confirmed; }), backgroundColor: "#0f7b4f", stack: "n" },
        { label: "corrected", data: rows.map(function (r) { return r.corrected; }), backgroundColor: "#b42318", stack: "n" },
        line("agreement", rows.map(function (r) { return r.agreement; }), "#4f46e5", { type: "line", yAxisID: "share" })] },
      options: { scales: { y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "labels" } },
                           share: Object.assign({ position: "right", grid: { drawOnChartArea: false } }, percent) } }
    });
  }

  function charts(data) {
    var versions = data.versions;
    draw("chart-versions", {
      type: trend(versions.length),
      data: { labels: versions.map(function (v) { return v.label + " (" + v.status + ")"; }), datasets: [
        line("base-test accuracy", versions.map(function (v) { return v.accuracy; }), palette[0]),
        line("base-test macro-F1", versions.map(function (v) { return v.macro_f1; }), palette[1]),
        line("held-out feedback accuracy", versions.map(function (v) { return v.feedback_accuracy; }), palette[3])] },
      options: { scales: { y: percent } }
    });
    agreement("chart-agreement-day", data.agreement.day);
    agreement("chart-agreement-week", data.agreement.week);
    var edges = data.confidence.edges;
    draw("chart-histogram", {
      type: "bar",
      data: { labels: data.confidence.histogram.map(function (_, i) { return edges[i] + "–" + edges[i + 1]; }),
              datasets: [{ label: "predictions", data: data.confidence.histogram, backgroundColor: palette[0] }] },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
    var daily = data.confidence.daily;
    draw("chart-confidence", {
      type: trend(daily.length),
      data: { labels: daily.map(function (d) { return d.period + " (n=" + d.n + ")"; }), datasets: [
        line("mean confidence", daily.map(function (d) { return d.mean; }), palette[0]),
        line("share below " + Math.round(data.low_confidence * 100) + "%", daily.map(function (d) { return d.low_share; }), palette[2])] },
      options: { scales: { y: percent } }
    });
    var weekly = data.distribution.weekly, training = data.distribution.training;
    var labels = weekly.map(function (w) { return w.period; });
    var hasTraining = Object.keys(training).length > 0;
    if (hasTraining) labels.push("training data");
    draw("chart-distribution", {
      type: "bar",
      data: { labels: labels, datasets: data.classes.map(function (c, i) {
        var values = weekly.map(function (w) { return w.shares[c]; });
        if (hasTraining) values.push(training[c] || 0);
        return { label: c, data: values, backgroundColor: palette[i % palette.length], stack: "s" };
      }) },
      options: { scales: { x: { stacked: true }, y: Object.assign({ stacked: true }, percent) } }
    });
    var perClass = data.confusion.per_class;
    draw("chart-per-class", {
      type: "bar",
      data: { labels: data.classes.map(function (c) { return c + " (n=" + perClass[c].support + ")"; }), datasets: [
        { label: "precision", data: data.classes.map(function (c) { return perClass[c].precision; }), backgroundColor: palette[0] },
        { label: "recall", data: data.classes.map(function (c) { return perClass[c].recall; }), backgroundColor: palette[1] }] },
      options: { scales: { y: percent } }
    });
  }

  function detector(data) {
    var daily = data.daily;
    draw("chart-detector", {
      type: "bar",
      data: { labels: daily.map(function (d) { return d.period; }), datasets: [
        { label: "faces added", data: daily.map(function (d) { return d.added; }), backgroundColor: palette[4] },
        { label: "marked not a face", data: daily.map(function (d) { return d.rejected; }), backgroundColor: palette[2] }] },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "boxes" } } } }
    });
  }

  function follow(box) {
    var url = box.getAttribute("data-run-url");
    var timer = setInterval(function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (run) {
          box.querySelector("[data-run-state]").textContent = run.status;
          box.querySelector("[data-run-text]").textContent = run.text + (run.reason ? " · " + run.reason : "");
          if (run.progress && run.progress.percent !== undefined) box.querySelector("[data-run-bar]").value = run.progress.percent;
          if (!run.active) { clearInterval(timer); window.location.reload(); }
        })
        .catch(function () { /* a missed poll is retried on the next tick */ });
    }, 2000);
  }

  if (source) charts(JSON.parse(source.textContent));
  var found = document.getElementById("detector-data");
  if (found) detector(JSON.parse(found.textContent));
  var box = document.getElementById("run-progress");
  if (box) follow(box);
})();
