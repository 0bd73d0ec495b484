// Draws line charts (scorecard and KPI trends) with Chart.js from npm, served at /vendor, from
// the JSON each page embeds next to the canvas; the same numbers are in a table beside it.
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }
  var palette = ["#0b5f74", "#c2410c", "#15803d", "#7c3aed", "#b45309", "#be123c"];
  document.querySelectorAll("[data-line-chart]").forEach(function (section) {
    var key = section.getAttribute("data-line-chart");
    var data = JSON.parse(document.getElementById("line-data-" + key).textContent);
    var canvas = document.getElementById("line-chart-" + key);
    canvas.chart = new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: data.datasets.map(function (set, i) {
          return { label: set.label, data: set.data, borderColor: palette[i % palette.length],
                   backgroundColor: palette[i % palette.length], spanGaps: true,
                   borderDash: i === 1 && data.datasets.length === 2 ? [6, 4] : [] };
        })
      },
      options: { responsive: true, maintainAspectRatio: false, animation: false,
                 plugins: { legend: { position: "bottom" } } }
    });
    section.setAttribute("data-drawn", "true");
  });
})();
