// Draws the home page's charts (Chart.js from npm, served at /vendor) from the JSON the page
// embeds next to each canvas; the same numbers are in a table for those who read them.
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }
  document.querySelectorAll("section[data-chart]").forEach(function (section) {
    var key = section.getAttribute("data-chart");
    var data = JSON.parse(document.getElementById("chart-data-" + key).textContent);
    var canvas = document.getElementById("chart-" + key);
    var brand = getComputedStyle(document.documentElement).getPropertyValue("--brand").trim() || "#0b5f74";
    canvas.chart = new Chart(canvas, {
      type: "bar",
      data: { labels: data.labels, datasets: [{ data: data.values, backgroundColor: brand }] },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
    section.setAttribute("data-drawn", "true");
  });
})();
