// Charts of the funding pages (chiso/funding/templates/funding/*.html), drawn by ECharts
// (shipped in /static/vendor). Each chart reads its data from the element's data-chart
// attribute, so the page works (tables, warning) without this script.
(function () {
  "use strict";
  if (typeof echarts === "undefined") return;
  const css = getComputedStyle(document.documentElement);
  const colour = (name) => css.getPropertyValue("--" + name).trim();
  const narrow = () => window.matchMedia("(max-width: 600px)").matches;

  function number(value, locale, digits) {
    if (value === null || value === undefined) return "–";
    return new Intl.NumberFormat(locale === "en" ? "en-GB" : "vi-VN",
      { maximumFractionDigits: digits === undefined ? 1 : digits }).format(value);
  }

  function read(el) {
    return { data: JSON.parse(el.dataset.chart), labels: JSON.parse(el.dataset.labels),
             locale: el.dataset.locale || "vi" };
  }

  function draw(el, option) {
    const chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption(option);
    window.addEventListener("resize", () => chart.resize());
  }

  function months(el) {
    const { data, labels, locale } = read(el);
    draw(el, {
      grid: { left: 8, right: 16, top: 48, bottom: 8, containLabel: true },
      legend: { top: 0, type: "scroll" },
      tooltip: { trigger: "axis", valueFormatter: (v) => number(v, locale) + " " + labels.unit },
      xAxis: { type: "category", data: data.labels },
      yAxis: { type: "value", axisLabel: { formatter: (v) => number(v, locale, 0) } },
      series: [
        { name: labels.disbursed, type: "bar", data: data.disbursed, barMaxWidth: 28,
          itemStyle: { color: colour("accent") } },
        { name: labels.plan, type: "line", data: data.plan, symbol: "none",
          lineStyle: { width: 2, color: colour("muted") }, itemStyle: { color: colour("muted") } },
        { name: labels.expected, type: "line", data: data.expected, symbol: "diamond",
          symbolSize: 8, lineStyle: { type: "dashed", width: 2, color: colour("brand") },
          itemStyle: { color: colour("brand") } },
      ],
    });
  }

  function groups(el) {
    const { data, labels, locale } = read(el);
    const horizontal = el.id === "funding-units";
    // Category names wrap within their own room: beside a bar (horizontal) or under its
    // group (vertical), so long names such as "Ngân sách địa phương" never overlap.
    const room = horizontal ? (narrow() ? 110 : 190)
      : Math.max(48, (el.clientWidth - 60) / Math.max(1, data.labels.length) - 8);
    const category = { type: "category", data: data.labels, inverse: horizontal,
      axisLabel: { width: room, overflow: "break", interval: 0, lineHeight: 14 } };
    const value = { type: "value", axisLabel: { formatter: (v) => number(v, locale, 0) } };
    const bar = (name, values, colourName) => ({ name: name, type: "bar", data: values,
      barMaxWidth: 18, itemStyle: { color: colour(colourName) } });
    if (horizontal) {
      el.style.height = Math.max(260, (narrow() ? 58 : 46) * data.labels.length + 80) + "px";
    }
    draw(el, {
      grid: { left: 8, right: 24, top: 40, bottom: 8, containLabel: true },
      legend: { top: 0 },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" },
                 valueFormatter: (v) => number(v, locale) + " " + labels.unit },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? category : value,
      series: [bar(labels.estimate, data.estimate, "no-data"),
               bar(labels.plan, data.plan, "muted"),
               bar(labels.disbursed, data.disbursed, "accent")],
    });
  }

  document.querySelectorAll("#funding-months").forEach(months);
  document.querySelectorAll("#funding-sources, #funding-units").forEach(groups);
})();
