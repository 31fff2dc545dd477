/* The one-stop records page (chiso/records/templates/records/unit.html). Loaded as a file:
 * no inline script, so the CSP can forbid them. The figures come formatted by the server
 * (JSON block #records-charts: per card the months, the values, the values as the page
 * writes them, the target); this file only draws the monthly charts. */
(function () {
  "use strict";
  var block = document.getElementById("records-charts");
  if (!block || !window.echarts) { return; }
  var data = JSON.parse(block.textContent);

  function draw(element, chart) {
    var plot = echarts.init(element, null, {renderer: "svg"});
    var series = {type: "line", smooth: true, symbolSize: 5, connectNulls: false,
      data: chart.values, lineStyle: {color: "#0b5cad", width: 2},
      itemStyle: {color: "#0b5cad"}, areaStyle: {color: "rgba(11,92,173,0.08)"}};
    if (chart.target !== null) {
      series.markLine = {symbol: "none", silent: true,
        lineStyle: {type: "dashed", color: "#b3261e"},
        label: {formatter: data.target + " " + chart.target_shown, position: "insideEndTop",
                fontSize: 10},
        data: [{yAxis: chart.target}]};
    }
    plot.setOption({
      grid: {left: 34, right: 10, top: 12, bottom: 22},
      tooltip: {trigger: "axis", formatter: function (points) {
        var at = points[0].dataIndex;
        return chart.months[at] + ": " + chart.shown[at];
      }},
      xAxis: {type: "category", data: chart.months, axisLabel: {fontSize: 10}},
      yAxis: {type: "value", min: 0, max: 100, axisLabel: {fontSize: 10}, splitNumber: 2},
      series: [series]
    });
    window.addEventListener("resize", function () { plot.resize(); });
  }

  document.querySelectorAll(".rec-chart[data-chart]").forEach(function (element) {
    var chart = data.charts[Number(element.dataset.chart)];
    if (chart) { draw(element, chart); }
  });
})();
