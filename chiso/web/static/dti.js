/* The DTI pages (chiso/dti/templates/dti). Loaded as a file: no inline script, so the CSP
 * can forbid them. Figures come formatted by the server; this file only wires things up.
 *
 * 1. Forms that submit on change (year, unit, framework pickers): class js-autosubmit.
 * 2. Forms that ask before submitting: data-confirm="question".
 * 3. The ranking chart (JSON block #dti-chart-data: name, value, label, own, illustrative).
 * 4. The profile chart (JSON block #dti-profile-data: rows, locale, series names).
 * 5. The what-if form: sends the values as typed and shows the server's formatted answer.
 */
(function () {
  "use strict";

  function json(id) {
    var block = document.getElementById(id);
    return block ? JSON.parse(block.textContent) : null;
  }

  function tick(locale) {  // axis ticks 0,2 / 0.2 (the figures themselves come formatted)
    return function (v) { return locale === "vi" ? String(v).replace(".", ",") : String(v); };
  }

  document.querySelectorAll(".js-autosubmit").forEach(function (field) {
    field.addEventListener("change", function () { field.form.submit(); });
  });

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  function rankingChart() {
    var element = document.getElementById("dti-chart");
    var data = json("dti-chart-data");
    if (!element || !data || !window.echarts) return;
    element.style.height = Math.max(220, 28 * data.length + 60) + "px";
    var labels = new Map(data.map(function (d) { return [d.value, d.label]; }));
    var chart = window.echarts.init(element);
    chart.setOption({
      grid: {left: 24, right: 60, top: 10, bottom: 20, containLabel: true},
      xAxis: {type: "value", min: 0, max: 1,
              axisLabel: {formatter: tick(document.documentElement.lang)}},
      yAxis: {type: "category", inverse: true, data: data.map(function (d) { return d.name; }),
              axisLabel: {width: 110, overflow: "break"}},
      tooltip: {trigger: "axis", valueFormatter: function (v) { return labels.get(v); }},
      series: [{type: "bar",
                data: data.map(function (d) {
                  return {value: d.value, itemStyle: {color: d.own ? "#b3261e"
                          : (d.illustrative ? "#c9b26b" : "#0b5cad")}};
                }),
                label: {show: true, position: "right",
                        formatter: function (p) { return labels.get(p.value); }}}]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function profileChart() {
    var element = document.getElementById("dti-profile-chart");
    var data = json("dti-profile-data");
    if (!element || !data || !window.echarts) return;
    var rows = data.rows;
    var vi = data.locale === "vi";
    var chart = window.echarts.init(element);
    var series = [["score", "#b3261e"], ["median", "#9aa5b1"], ["best", "#1b7f3b"]];
    chart.setOption({
      legend: {top: 0},
      grid: {left: 10, right: 20, top: 30, bottom: 20, containLabel: true},
      tooltip: {trigger: "axis"},
      xAxis: {type: "value", min: 0, max: 1, axisLabel: {formatter: tick(data.locale)}},
      yAxis: {type: "category", inverse: true,
              data: rows.map(function (r) { return vi ? r.name_vi : (r.name_en || r.name_vi); }),
              axisLabel: {width: 120, overflow: "break"}},
      series: series.map(function (s, i) {
        return {name: data.series[i], type: "bar", itemStyle: {color: s[1]},
                data: rows.map(function (r) { return r[s[0]]; })};
      })
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function whatIf() {
    var form = document.getElementById("what-if-form");
    if (!form) return;
    var request = JSON.parse(form.dataset.request);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var changes = {};
      form.querySelectorAll("input[name]").forEach(function (input) {
        var text = input.value.trim();
        if (text !== "" && text !== input.defaultValue.trim()) changes[input.name] = text;
      });
      var body = Object.assign({}, request, {changes: changes});
      fetch("/api/dti/what-if", {method: "POST", body: JSON.stringify(body),
        headers: {"Content-Type": "application/json", "X-CSRF-Token": form.dataset.csrf}})
        .then(function (response) {
          return response.json().then(function (r) { return [response.ok, r]; });
        })
        .then(function (answer) {
          var ok = answer[0], r = answer[1];
          var error = document.getElementById("wi-error");
          if (!ok) {
            error.hidden = false;
            error.textContent = (form.dataset.locale === "vi" ? r.message_vi : r.message_en)
              || r.detail;
            return;
          }
          error.hidden = true;
          document.getElementById("wi-total").textContent = r.display.total_after;
          document.getElementById("wi-rank").textContent = r.display.rank;
          document.getElementById("wi-points").textContent = r.display.points_gained;
        });
    });
  }

  rankingChart();
  profileChart();
  whatIf();
})();
