// The charts of the overview pages (aid_portal/charts.py, templates/_chart.html): each
// <canvas data-chart="ID"> reads its figures from the JSON script element #ID that the page
// embeds with json_script. A static file, so no inline script is needed (CSP).
//
// Printed in black and white, colours alone would merge: each series has a fill of its
// own lightness and, from the second on, a hatching; lines get their own dash and marker.
(function () {
  "use strict";
  if (typeof Chart === "undefined") return;

  // Dark to light in alternation, so neighbours in a stack differ in grey as well.
  var COLOURS = ["#1f3b73", "#f2b134", "#4f8fc9", "#8c2d19", "#9cc88e", "#4d4d4d", "#e07b91", "#c7c7c7"];
  var HATCHES = ["", "diagonal", "dots", "cross", "horizontal", "reverse", "vertical", "grid"];
  var DASHES = [[], [6, 4], [2, 3], [10, 3, 2, 3]];
  var MARKERS = ["circle", "rect", "triangle", "rectRot", "crossRot", "star"];

  function pattern(colour, hatch) {
    if (!hatch) return colour;
    var size = 8;
    var tile = document.createElement("canvas");
    tile.width = tile.height = size;
    var ctx = tile.getContext("2d");
    ctx.fillStyle = colour;
    ctx.fillRect(0, 0, size, size);
    ctx.strokeStyle = "rgba(255,255,255,0.85)";
    ctx.fillStyle = "rgba(255,255,255,0.85)";
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    if (hatch === "diagonal" || hatch === "cross") { ctx.moveTo(0, size); ctx.lineTo(size, 0); }
    if (hatch === "reverse" || hatch === "cross") { ctx.moveTo(0, 0); ctx.lineTo(size, size); }
    if (hatch === "horizontal" || hatch === "grid") { ctx.moveTo(0, size / 2); ctx.lineTo(size, size / 2); }
    if (hatch === "vertical" || hatch === "grid") { ctx.moveTo(size / 2, 0); ctx.lineTo(size / 2, size); }
    ctx.stroke();
    if (hatch === "dots") { ctx.beginPath(); ctx.arc(size / 2, size / 2, 1.6, 0, 2 * Math.PI); ctx.fill(); }
    return ctx.createPattern(tile, "repeat");
  }

  function style(dataset, i, type) {
    var colour = COLOURS[i % COLOURS.length];
    dataset.borderColor = colour;
    if (type === "line") {
      dataset.backgroundColor = colour;
      dataset.borderDash = DASHES[i % DASHES.length];
      dataset.pointStyle = MARKERS[i % MARKERS.length];
      dataset.pointRadius = 4;
      dataset.spanGaps = true;
    } else {
      dataset.backgroundColor = pattern(colour, HATCHES[i % HATCHES.length]);
      dataset.borderWidth = 1;
      dataset.borderColor = "#222";
    }
    return dataset;
  }

  Chart.defaults.color = "#222";
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    var data = JSON.parse(source.textContent);
    var unit = data.percent ? "%" : "";
    var valueAxis = data.horizontal ? "x" : "y";
    var scales = {x: {stacked: data.stacked}, y: {stacked: data.stacked}};
    scales[valueAxis].beginAtZero = true;
    scales[valueAxis].title = {display: true, text: data.yTitle};
    scales[valueAxis].ticks = {
      precision: data.percent ? undefined : 0,
      callback: function (value) { return value + unit; }
    };
    new Chart(canvas, {
      type: data.type,
      data: {
        labels: data.labels,
        datasets: data.datasets.map(function (d, i) { return style(d, i, data.type); })
      },
      options: {
        indexAxis: data.horizontal ? "y" : "x",
        animation: false,
        maintainAspectRatio: false,
        scales: scales,
        plugins: {
          legend: {display: data.datasets.length > 1, position: "bottom"},
          tooltip: {
            callbacks: {
              label: function (item) {
                var value = data.horizontal ? item.parsed.x : item.parsed.y;
                return item.dataset.label + ": " + value + unit;
              }
            }
          }
        }
      }
    });
  });
})();
