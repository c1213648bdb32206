// The agreement rate of the last 12 months (templates/cases/payments/reconciliations.html):
// each <canvas id="rates-<county code>"> reads its figures from the JSON script element
// named by the county code. A static file, so no inline script is needed (CSP).
document.querySelectorAll("canvas[id^=rates-]").forEach(function (canvas) {
  var data = JSON.parse(document.getElementById(canvas.id.slice(6)).textContent);
  new Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [{label: canvas.dataset.label, data: data.rates, borderColor: "#1f5f99", spanGaps: true}]
    },
    options: {scales: {y: {suggestedMin: 99, suggestedMax: 100}}, animation: false}
  });
});
