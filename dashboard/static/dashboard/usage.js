// The Usage and Overview charts: the page embeds its figures as JSON (json_script,
// #usage-data) and every <canvas data-chart="..."> gets the chart of that name,
// drawn with the vendored Chart.js (vendor/chart.umd.min.js, loaded before this).
// Amounts arrive as decimal strings; they become numbers here only to be drawn.
(function () {
  "use strict";

  var source = document.getElementById("usage-data");
  if (!source || !window.Chart) return;
  var data = JSON.parse(source.textContent);

  // The dashboard's accent first, then hues that stay apart for colour-blind eyes.
  var PALETTE = ["#4f46e5", "#0ea5e9", "#f59e0b", "#10b981", "#ec4899", "#8b5cf6", "#14b8a6", "#f97316"];
  var OTHER = "#98a2b3";
  var ERROR = "#d92d20";
  var GRID = "#eaecf0";

  var css = getComputedStyle(document.body);
  Chart.defaults.font.family = css.fontFamily;
  Chart.defaults.font.size = 12;
  Chart.defaults.color = "#667085";
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.animation.duration = 300;
  Chart.defaults.plugins.legend.labels.boxWidth = 12;
  Chart.defaults.plugins.legend.labels.boxHeight = 12;

  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  var labels = data.days.map(function (iso) {
    var parts = iso.split("-");
    return MONTHS[Number(parts[1]) - 1] + " " + Number(parts[2]);
  });
  var number = function (values) { return values.map(Number); };
  var compact = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });
  var whole = new Intl.NumberFormat("en");

  function usd(value) {
    var v = Number(value);
    if (v === 0) return "$0";
    if (Math.abs(v) >= 1000) return "$" + compact.format(v);
    if (Math.abs(v) >= 1) return "$" + v.toFixed(2);
    // Small amounts keep their significant digits: $0.0042, not $0.00.
    return "$" + v.toPrecision(2).replace(/0+$/, "").replace(/\.$/, "");
  }

  function axes(yTick, stacked) {
    return {
      x: {
        stacked: !!stacked,
        grid: { display: false },
        ticks: { maxRotation: 0, autoSkip: true, autoSkipPadding: 12 },
      },
      y: {
        stacked: !!stacked,
        beginAtZero: true,
        grid: { color: GRID },
        border: { display: false },
        ticks: { callback: yTick, maxTicksLimit: 6 },
      },
    };
  }

  function options(yTick, tooltipValue, stacked) {
    return {
      interaction: { mode: "index", intersect: false },
      scales: axes(yTick, stacked),
      plugins: {
        legend: { position: "bottom" },
        tooltip: {
          callbacks: {
            label: function (item) {
              return " " + item.dataset.label + ": " + tooltipValue(item.raw);
            },
          },
        },
      },
    };
  }

  var counts = function (v) { return compact.format(v); };
  var exactCount = function (v) { return whole.format(v); };
  var ms = function (v) { return v === null ? "no requests" : whole.format(v) + " ms"; };

  var charts = {
    "cost-by-model": function () {
      return {
        type: "bar",
        data: {
          labels: labels,
          datasets: data.cost_by_model.map(function (series, i) {
            return {
              label: series.label,
              data: number(series.values),
              backgroundColor: series.label === "Other" ? OTHER : PALETTE[i % PALETTE.length],
              borderRadius: 2,
              maxBarThickness: 32,
            };
          }),
        },
        options: options(usd, usd, true),
      };
    },
    cost: function () {
      return {
        type: "bar",
        data: {
          labels: labels,
          datasets: [{ label: "Spend", data: number(data.cost), backgroundColor: PALETTE[0],
                       borderRadius: 2, maxBarThickness: 24 }],
        },
        options: Object.assign(options(usd, usd, false), { plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (item) { return " " + usd(item.raw); } } },
        } }),
      };
    },
    requests: function () {
      var succeeded = data.requests.map(function (n, i) { return n - data.errors[i]; });
      return {
        type: "bar",
        data: {
          labels: labels,
          datasets: [
            { label: "Succeeded", data: succeeded, backgroundColor: PALETTE[0], borderRadius: 2,
              maxBarThickness: 32 },
            { label: "Errors", data: data.errors, backgroundColor: ERROR, borderRadius: 2,
              maxBarThickness: 32 },
          ],
        },
        options: options(counts, exactCount, true),
      };
    },
    tokens: function () {
      return {
        type: "line",
        data: {
          labels: labels,
          datasets: [
            { label: "Input", data: data.input_tokens, borderColor: PALETTE[0],
              backgroundColor: "rgba(79, 70, 229, 0.12)", fill: true, cubicInterpolationMode: "monotone", pointRadius: 2 },
            { label: "Output", data: data.output_tokens, borderColor: PALETTE[1],
              backgroundColor: "rgba(14, 165, 233, 0.12)", fill: true, cubicInterpolationMode: "monotone", pointRadius: 2 },
          ],
        },
        options: options(counts, exactCount, false),
      };
    },
    latency: function () {
      return {
        type: "line",
        data: {
          labels: labels,
          datasets: [
            { label: "p50", data: data.latency_p50, borderColor: PALETTE[0],
              backgroundColor: PALETTE[0], cubicInterpolationMode: "monotone", pointRadius: 2, spanGaps: true },
            { label: "p95", data: data.latency_p95, borderColor: PALETTE[2],
              backgroundColor: PALETTE[2], cubicInterpolationMode: "monotone", pointRadius: 2, spanGaps: true },
          ],
        },
        options: options(function (v) { return compact.format(v) + " ms"; }, ms, false),
      };
    },
  };

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var build = charts[canvas.getAttribute("data-chart")];
    if (build) new Chart(canvas, build());
  });
})();
