// Charts of the dashboard pages, drawn by ECharts (shipped in /static/vendor).
(function () {
  "use strict";
  const css = getComputedStyle(document.documentElement);
  const colour = (name) => css.getPropertyValue("--" + name).trim();
  const statusColours = {
    achieved: colour("achieved"), on_track: colour("on-track"), at_risk: colour("at-risk"),
    off_track: colour("off-track"), no_data: colour("no-data"),
    met: colour("achieved"), missed: colour("off-track"), not_implemented: colour("not-implemented"),
  };

  function viNumber(value, locale) {
    if (value === null || value === undefined) return "–";
    return new Intl.NumberFormat(locale === "en" ? "en-GB" : "vi-VN",
      { maximumFractionDigits: 2 }).format(value);
  }

  function monthLabel(id) { return id.slice(4) + "/" + id.slice(0, 4); }

  function donut(el) {
    const counts = JSON.parse(el.dataset.counts);
    const labels = JSON.parse(el.dataset.labels);
    const chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      tooltip: { trigger: "item" },
      series: [{
        type: "pie", radius: ["55%", "85%"], label: { show: false },
        data: Object.keys(counts).filter((k) => counts[k] > 0).map((k) => ({
          name: labels[k] || k, value: counts[k], itemStyle: { color: statusColours[k] },
        })),
      }],
    });
    window.addEventListener("resize", () => chart.resize());
  }

  function trend(el) {
    const data = JSON.parse(el.dataset.chart);
    const labels = JSON.parse(el.dataset.labels);
    const locale = el.dataset.locale;
    const months = data.periods.slice();
    data.path.forEach((p) => { if (!months.includes(p[0])) months.push(p[0]); });
    months.sort();
    const byMonth = (ids, values) => months.map((m) => {
      const i = ids.indexOf(m); return i < 0 ? null : values[i];
    });
    const series = [
      { name: labels.monthly, type: "bar", data: byMonth(data.periods, data.values),
        itemStyle: { color: "#b9cfe6" }, barMaxWidth: 14 },
      { name: labels.ytd, type: "line", data: byMonth(data.ytd_periods, data.ytd_values),
        lineStyle: { width: 3, color: colour("accent") }, itemStyle: { color: colour("accent") },
        connectNulls: true, symbolSize: 6 },
    ];
    if (data.path.length) {
      series.push({ name: labels.path, type: "line",
        data: byMonth(data.path.map((p) => p[0]), data.path.map((p) => p[1])),
        connectNulls: true, lineStyle: { type: "dashed", color: colour("brand"), width: 2 },
        itemStyle: { color: colour("brand") }, symbol: "diamond", symbolSize: 9 });
    }
    const chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      grid: { left: 56, right: 24, top: 40, bottom: 40 },
      legend: { top: 0 },
      tooltip: { trigger: "axis", valueFormatter: (v) => viNumber(v, locale) },
      xAxis: { type: "category", data: months.map(monthLabel) },
      yAxis: { type: "value", axisLabel: { formatter: (v) => viNumber(v, locale) } },
      series: series,
    });
    window.addEventListener("resize", () => chart.resize());
  }

  document.querySelectorAll("#status-donut").forEach(donut);
  document.querySelectorAll("#trend-chart").forEach(trend);
})();
