/* chiso's one chart module: every chart on every page is declared in the page and drawn
 * here with ECharts (loaded from /static/vendor only when a page has a chart). No page
 * writes chart code. Described in docs/frontend.md.
 *
 *   <div class="chart" data-chart='{"type": "cartesian", ...}'></div>
 *   <div class="chart" data-chart-src="block-id"></div>  + <script type="application/json" id="block-id">
 *
 * Specs (the server writes names and formatted figures; colours are CSS variable names such
 * as "accent", "achieved", or literal "#hex"):
 *   cartesian: {categories, series: [{name, type: bar|line, data, color, colors, dashed, area,
 *               symbol, shown: [text per point], stack}], horizontal, value: {min, max,
 *               percent (0..1 shown as %), decimals, unit}, target: {value, label}, labels,
 *               legend, rowHeight, rotate, wrap, compact}
 *   pie:       {items: [{name, value, color}], donut}
 *   map:       {parent: unit code, points: [{code, name, value, shown, color}], missing:
 *               {label, color}, boundaries: URL of the province's GeoJSON (optional)}
 *   map with "source": {url, indicator, target, direction, labels}: points fetched from the
 *               API (overview: the indicator chosen in select[data-map-indicator])
 */
(function () {
  "use strict";
  var css = getComputedStyle(document.documentElement);
  var charts = [];

  function colour(token) {
    if (!token) { return undefined; }
    if (token.charAt(0) === "#" || token.indexOf("rgb") === 0) { return token; }
    return css.getPropertyValue("--" + token).trim() || token;
  }

  function fmt(value, spec) {
    var v = spec.value || {};
    if (value === null || value === undefined) { return "–"; }
    if (v.percent) { return window.chiso.number(value * 100, v.decimals || 0) + "%"; }
    var text = window.chiso.number(value, v.decimals === undefined ? 2 : v.decimals);
    return v.unit ? (v.unit === "%" ? text + "%" : text + " " + v.unit) : text;
  }

  function shownOr(series, index, value, spec) {
    if (Array.isArray(value)) { value = value[1]; }  // a [category, value] pair
    return series.shown && series.shown[index] !== undefined ? series.shown[index]
      : fmt(value, spec);
  }

  // A tooltip as elements, not HTML text: ECharts' own markers are '<span style="…">'
  // strings and the CSP ('style-src self') refuses a style attribute; a marker here is a
  // .swatch whose colour is set through CSSOM. Names go in as text, never as markup.
  // rows: [{text, color}]; head: bold first line (optional).
  function tip(head, rows) {
    var box = document.createElement("div");
    if (head) {
      var b = document.createElement("b");
      b.textContent = head;
      box.appendChild(b);
    }
    rows.forEach(function (row) {
      var line = document.createElement("div");
      if (typeof row.color === "string") {
        var swatch = document.createElement("i");
        swatch.className = "swatch";
        swatch.style.backgroundColor = row.color;
        line.appendChild(swatch);
      }
      line.appendChild(document.createTextNode(row.text));
      box.appendChild(line);
    });
    return box;
  }

  function cartesianSeries(spec, s) {
    var out = {name: s.name, type: s.type || "bar", stack: s.stack,
      itemStyle: {color: colour(s.color)}, barMaxWidth: spec.horizontal ? 22 : 28,
      connectNulls: s.connectNulls !== false, smooth: !!s.smooth,
      data: s.data.map(function (value, i) {
        var item = {value: value};
        if (s.colors && s.colors[i]) { item.itemStyle = {color: colour(s.colors[i])}; }
        return item;
      })};
    if (s.type === "line") {
      out.lineStyle = {width: s.width || 2, color: colour(s.color),
                       type: s.dashed ? "dashed" : "solid"};
      out.symbol = s.symbol || "circle";
      out.symbolSize = s.symbolSize || 6;
      if (s.area) { out.areaStyle = {opacity: 0.08}; }
    }
    if (spec.labels) {
      out.label = {show: true, position: spec.horizontal ? "right" : "top",
        fontSize: 11, formatter: function (p) { return shownOr(s, p.dataIndex, p.value, spec); }};
    }
    return out;
  }

  function cartesian(el, spec) {
    var v = spec.value || {};
    var small = spec.compact ? 10 : 12;
    if (spec.horizontal && spec.rowHeight) {
      el.style.height = Math.max(220, spec.rowHeight * spec.categories.length + 70) + "px";
    }
    var category = {type: "category", data: spec.categories, inverse: !!spec.horizontal,
      axisLabel: {fontSize: small, interval: spec.horizontal || spec.rotate ? 0 : "auto",
                  rotate: spec.rotate || 0, width: spec.wrap, overflow: spec.wrap ? "break" : "none"}};
    var value = {type: "value", min: v.min, max: v.max, splitNumber: spec.compact ? 2 : 5,
      axisLabel: {fontSize: small, formatter: function (x) {
        return v.percent ? window.chiso.number(x * 100, 0) + "%" : window.chiso.number(x, 2);
      }}};
    var series = spec.series.map(function (s) { return cartesianSeries(spec, s); });
    if (spec.target && spec.target.value !== null && spec.target.value !== undefined && series[0]) {
      var line = {};
      line[spec.horizontal ? "xAxis" : "yAxis"] = spec.target.value;
      series[0].markLine = {symbol: "none", silent: true, data: [line],
        lineStyle: {type: "dashed", color: colour("brand")},
        label: {formatter: spec.target.label || "", position: "insideEndTop", fontSize: 10}};
    }
    return {
      grid: spec.compact ? {left: 4, right: 10, top: 12, bottom: 4, containLabel: true}
        : {left: 8, right: spec.labels ? 60 : 20, top: spec.legend === false ? 12 : 40,
           bottom: 8, containLabel: true},
      legend: spec.legend === false || spec.compact ? undefined
        : {top: 0, type: spec.legend === "scroll" ? "scroll" : "plain"},
      tooltip: {trigger: "axis", axisPointer: {type: spec.horizontal ? "shadow" : "line"},
        formatter: function (points) {
          var head = points.length ? points[0].axisValueLabel : "";
          return tip(null, [{text: head}].concat(points.filter(function (p) {
            var y = Array.isArray(p.value) ? p.value[1] : p.value;
            return y !== null && y !== undefined;
          }).map(function (p) {
            return {color: p.color, text: (spec.series.length > 1 ? p.seriesName + ": " : "") +
              shownOr(spec.series[p.seriesIndex], p.dataIndex, p.value, spec)};
          })));
        }},
      xAxis: spec.horizontal ? value : category,
      yAxis: spec.horizontal ? category : value,
      series: series,
    };
  }

  function pie(el, spec) {
    return {
      tooltip: {trigger: "item", confine: true, formatter: function (p) {
        return tip(null, [{color: p.color, text: p.name + ": " + window.chiso.number(p.value, 0)}]);
      }},
      series: [{type: "pie", radius: spec.donut === false ? "80%" : ["55%", "85%"],
        label: {show: false},
        data: spec.items.filter(function (i) { return i.value > 0; }).map(function (i) {
          return {name: i.name, value: i.value, itemStyle: {color: colour(i.color)}};
        })}],
    };
  }

  // A map of communes: their centroids as points on the province's shape (longitude and
  // latitude axes kept in proportion), or the province's own boundaries when given.
  // The tooltip is confined to the chart: ECharts draws no arrow then (the arrow it adds to
  // a tip shown for a point, 'showTip', is a '<div style="…">' the CSP refuses).
  function mapOption(el, spec, points, geo) {
    var tooltip = {trigger: "item", confine: true, formatter: function (p) {
      var d = p.data || {};
      return tip(d.label || p.name, [{text: d.shown || spec.missing.label}]);
    }};
    if (geo) {
      return {tooltip: tooltip, series: [{type: "map", map: geo, roam: false,
        emphasis: {label: {show: false}}, select: {disabled: true},
        data: points.map(function (p) {
          return {name: p.code, label: p.name, shown: p.shown,
                  itemStyle: {areaColor: colour(p.color || spec.missing.color)}};
        })}]};
    }
    var placed = points.filter(function (p) { return p.lon !== null && p.lat !== null; });
    var lons = placed.map(function (p) { return p.lon; });
    var lats = placed.map(function (p) { return p.lat; });
    var box = {x0: Math.min.apply(null, lons), x1: Math.max.apply(null, lons),
               y0: Math.min.apply(null, lats), y1: Math.max.apply(null, lats)};
    var pad = 0.04 * Math.max(box.x1 - box.x0, box.y1 - box.y0, 0.1);
    var stretch = Math.cos(((box.y0 + box.y1) / 2) * Math.PI / 180);
    var ratio = (box.y1 - box.y0 + 2 * pad) / ((box.x1 - box.x0 + 2 * pad) * stretch);
    el.style.height = Math.round(Math.min(640, Math.max(260, el.clientWidth * ratio))) + "px";
    var axis = function (lo, hi) {
      return {type: "value", show: false, min: lo - pad, max: hi + pad, scale: true};
    };
    return {
      tooltip: tooltip, grid: {left: 6, right: 6, top: 6, bottom: 6},
      xAxis: axis(box.x0, box.x1), yAxis: axis(box.y0, box.y1),
      series: [{type: "scatter", symbolSize: placed.length > 150 ? 8 : 13,
        data: placed.map(function (p) {
          return {value: [p.lon, p.lat], label: p.name, shown: p.shown, name: p.code,
                  itemStyle: {color: colour(p.color || spec.missing.color),
                              borderColor: "#fff", borderWidth: 1}};
        })}],
    };
  }

  function getJSON(url) {
    return fetch(url, {credentials: "same-origin"}).then(function (r) {
      return r.ok ? r.json() : null;
    }).catch(function () { return null; });
  }

  function boundaries(spec) {
    if (!spec.boundaries) { return Promise.resolve(null); }
    return getJSON(spec.boundaries).then(function (geojson) {
      if (!geojson || !geojson.features || !geojson.features.length) { return null; }
      var name = "chiso-" + spec.parent;
      window.echarts.registerMap(name, geojson);
      return name;
    });
  }

  // The overview's map: the indicator chosen in the select, each commune's figure from
  // /api/breakdown, coloured against the province's target.
  function fetchedPoints(spec) {
    var source = spec.source;
    var select = document.querySelector(source.select || "select[data-map-indicator]");
    var option = select ? select.options[select.selectedIndex] : null;
    if (!option) { return Promise.resolve([]); }
    var url = source.url + "&indicator=" + encodeURIComponent(option.value);
    return getJSON(url).then(function (answer) {
      var target = option.dataset.target === "" ? null : Number(option.dataset.target);
      var lower = option.dataset.direction === "lower";
      var decimals = Number(option.dataset.decimals || 1);
      var unit = option.dataset.unit || "";
      return ((answer && answer.rows) || []).filter(function (r) { return !r.former; })
        .map(function (r) {
          var has = r.value !== null && r.value !== undefined;
          var met = has && target !== null && ((r.value >= target) !== lower);
          var text = has ? window.chiso.number(r.value, decimals) + (unit === "%" ? "%" : (unit ? " " + unit : "")) : null;
          return {code: r.unit_code, name: r.unit_name, value: r.value, shown: text,
                  color: !has ? null : (target === null ? "accent" : (met ? "achieved" : "at-risk"))};
        });
    });
  }

  function placePoints(spec, points) {
    return getJSON("/api/units?parent=" + encodeURIComponent(spec.parent)).then(function (units) {
      var byCode = {};
      points.forEach(function (p) { byCode[p.code] = p; });
      return (units || []).filter(function (u) {
        return u.latitude !== null && u.longitude !== null;
      }).map(function (u) {
        var p = byCode[u.code] || {};
        return {code: u.code, name: p.name || u.name, value: p.value, shown: p.shown,
                color: p.color, lon: u.longitude, lat: u.latitude};
      });
    });
  }

  function drawMap(el, spec, chart) {
    var pointsReady = spec.source ? fetchedPoints(spec) : Promise.resolve(spec.points || []);
    return Promise.all([pointsReady, boundaries(spec)]).then(function (both) {
      return placePoints(spec, both[0]).then(function (points) {
        el.dataset.points = String(points.length);
        var card = el.closest("[data-map-card]") || el;
        card.hidden = !points.length;
        if (!points.length) { return; }
        chart.setOption(mapOption(el, spec, points, both[1]), true);
        chart.resize();
        el.dataset.drawn = both[1] ? "boundaries" : "points";
      });
    });
  }

  function specOf(el) {
    if (el.dataset.chartSrc) {
      var block = document.getElementById(el.dataset.chartSrc);
      return block ? JSON.parse(block.textContent) : null;
    }
    return JSON.parse(el.dataset.chart);
  }

  function draw(el) {
    var spec = specOf(el);
    if (!spec) { return; }
    var chart = window.echarts.init(el, null, {renderer: "svg"});
    charts.push(chart);
    if (spec.type === "map") {
      var redraw = function () { drawMap(el, spec, chart); };
      redraw();
      var select = document.querySelector("select[data-map-indicator]");
      if (spec.source && select) { select.addEventListener("change", redraw); }
      return;
    }
    chart.setOption(spec.type === "pie" ? pie(el, spec) : cartesian(el, spec));
    el.dataset.drawn = "1";
  }

  function start() {
    var elements = document.querySelectorAll("[data-chart], [data-chart-src]");
    if (!elements.length) { return; }
    var script = document.createElement("script");
    script.src = document.querySelector('meta[name="echarts"]').content;
    script.onload = function () {
      Array.prototype.forEach.call(elements, draw);
      window.addEventListener("resize", function () {
        charts.forEach(function (c) { c.resize(); });
      });
    };
    document.head.appendChild(script);
  }

  document.addEventListener("DOMContentLoaded", start);
})();
