// The dashboard's chart: warnings and breaches recorded per day (Chart.js).
"use strict";

(() => {
  const canvas = document.getElementById("trend");
  if (!canvas || typeof Chart === "undefined") return;
  const days = JSON.parse(canvas.dataset.trend);
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: days.map((d) => d.day),
      datasets: [
        { label: canvas.dataset.atRisk, data: days.map((d) => d.at_risk), backgroundColor: "#e0a800" },
        { label: canvas.dataset.breached, data: days.map((d) => d.breached), backgroundColor: "#c0392b" },
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
  canvas.dataset.drawn = "true";
})();
