// The dashboard's charts, drawn with the vendored Chart.js from the JSON the page carries.
(function () {
  "use strict";
  var gettext = window.gettext || function (text) { return text; };
  function draw() {
    var source = document.getElementById("dashboard-data");
    if (!source || typeof window.Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    var Chart = window.Chart;
    var common = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom" } },
    };
    var charts = [
      ["chart-volume", "bar", [
        { label: "Created", data: data.created, backgroundColor: "#7aa7d9" },
        { label: "Solved", data: data.solved, backgroundColor: "#3d8b5a" },
      ], { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }],
      ["chart-quality", "line", [
        { label: "CSAT %", data: data.csat, borderColor: "#3d8b5a", spanGaps: true },
        { label: "FCR %", data: data.fcr, borderColor: "#2f6db5", spanGaps: true },
        { label: "SLA %", data: data.sla, borderColor: "#b5652f", spanGaps: true },
      ], { scales: { y: { min: 0, max: 100 } } }],
      ["chart-speed", "line", [
        { label: gettext("First response (min)"), data: data.first_response_minutes, borderColor: "#2f6db5", spanGaps: true, yAxisID: "y" },
        { label: gettext("Resolution (h)"), data: data.resolution_hours, borderColor: "#8a4fb5", spanGaps: true, yAxisID: "y1" },
      ], { scales: { y: { beginAtZero: true, position: "left" }, y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } } }],
    ];
    charts.forEach(function (spec) {
      var canvas = document.getElementById(spec[0]);
      if (!canvas) return;
      var options = Object.assign({}, common, spec[3]);
      var chart = new Chart(canvas, { type: spec[1], data: { labels: data.labels, datasets: spec[2] }, options: options });
      canvas.dataset.drawn = String(chart.data.datasets.length);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
