// mamori: draws each chart of a page with Chart.js (installed from npm by `make install`, served by the app under
// /static/vendor/chart.js/, ADR 0024). A chart is an element [data-chart] holding its ChartData in a
// <script type="application/json"> child (data, never code), a hidden canvas, and the same data as a table. The
// table stays: it is what screen readers and tests read. Without Chart.js (not installed) the table is all.
(function () {
  "use strict";
  // Okabe–Ito colours: told apart with the common colour-vision deficiencies, and each with a legend entry.
  var COLOURS = ["#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9", "#8a6d00", "#333333"];
  var KINDS = { bar: true, line: true, doughnut: true };

  function lang() {
    return document.documentElement.lang === "en" ? "en" : "ja";
  }

  function reducedMotion() {
    return !!(window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);
  }

  function words(ja, en) {
    return lang() === "en" && en ? en : ja;
  }

  function readData(el) {
    // a <template> (htmx strips <script> elements from the content it swaps in, so the data is not a script)
    var block = el.querySelector("template.chart-data");
    if (!block) { return null; }
    try {
      var data = JSON.parse(block.content ? block.content.textContent : block.textContent);
    } catch (e) {
      return null;
    }
    if (!data || !KINDS[data.kind] || !Array.isArray(data.labels) || !Array.isArray(data.datasets)) { return null; }
    return data;
  }

  function config(data) {
    var doughnut = data.kind === "doughnut";
    var datasets = data.datasets.map(function (s, i) {
      var colour = COLOURS[i % COLOURS.length];
      var series = {
        label: words(s.label_ja, s.label_en),
        data: s.data.map(function (v) { return v === null || v === undefined ? null : Number(v); })
      };
      if (doughnut) {
        series.backgroundColor = data.labels.map(function (_, j) { return COLOURS[j % COLOURS.length]; });
        series.borderColor = "#ffffff";
      } else {
        series.backgroundColor = colour;
        series.borderColor = colour;
        if (data.kind === "line") { series.fill = false; series.tension = 0; series.spanGaps = false; }
      }
      return series;
    });
    var options = {
      locale: lang() === "en" ? "en-US" : "ja-JP",
      responsive: true,
      maintainAspectRatio: true,
      aspectRatio: doughnut ? 2.2 : 2,
      animation: reducedMotion() ? false : { duration: 400 },
      plugins: {
        legend: { display: doughnut || datasets.length > 1, position: doughnut ? "right" : "top" },
        title: { display: false }  // the figure's caption is the title
      }
    };
    if (!doughnut) {
      options.scales = { y: { beginAtZero: true } };
    }
    return { type: data.kind, data: { labels: data.labels, datasets: datasets }, options: options };
  }

  function draw(root) {
    var Chart = window.Chart;
    if (!Chart || !root || !root.querySelectorAll) { return; }
    Chart.defaults.font.family = window.getComputedStyle(document.body).fontFamily;
    Chart.defaults.color = "#1b1b1b";
    if (reducedMotion()) { Chart.defaults.animation = false; }
    var found = Array.prototype.slice.call(root.querySelectorAll("[data-chart]"));
    if (root.matches && root.matches("[data-chart]")) { found.push(root); }
    found.forEach(function (el) {
      var canvas = el.querySelector("canvas");
      var data = readData(el);
      if (!canvas || !data || Chart.getChart(canvas)) { return; }
      var frame = canvas.parentElement;
      if (frame && frame !== el) { frame.hidden = false; }  // shown only once there is something to draw
      canvas.hidden = false;
      new Chart(canvas, config(data));
      el.classList.add("chart-drawn");
    });
  }

  draw(document);
  // pages or fragments brought in by htmx
  document.body.addEventListener("htmx:load", function (evt) { draw(evt.detail && evt.detail.elt); });
})();
