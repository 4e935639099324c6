/*
 * Adapts the chart's layout to its width, in the browser, before Plotly draws it (the server
 * does not know the screen). Narrow charts (< 600 px, phones) get the legend below the chart,
 * no pause labels over the bars (the bands, colours and hover still tell), fewer date ticks and
 * smaller fonts; every width gets as many x ticks as fit. Wraps Plotly.react/newPlot (what
 * dcc.Graph calls) and re-applies the adaptation when a resize crosses the breakpoint.
 * Loaded after plotly-basic-*.js and resize-guard.js (Dash loads assets by name).
 */
(function () {
  var Plotly = window.Plotly;
  if (!Plotly || !Plotly.react || !Plotly.Plots || !Plotly.Plots.resize) {
    return;
  }
  var NARROW_PX = 600;

  function widthOf(gd) {
    var width = gd && gd.clientWidth;
    return width > 0 ? width : window.innerWidth;
  }

  function adaptation(width) {
    var narrow = width < NARROW_PX;
    var ticks = Math.max(3, Math.floor(width / (narrow ? 90 : 110)));
    return {
      narrow: narrow,
      legend: narrow
        ? { orientation: "h", x: 0, xanchor: "left", xref: "container", y: 0, yanchor: "bottom",
            yref: "container", font: { size: 11 } }
        : { orientation: "h", x: 0, xanchor: "left", xref: "paper", y: 1.02, yanchor: "bottom",
            yref: "paper", font: { size: 12 } },
      margin: narrow ? { l: 4, r: 8, t: 8, b: 8 } : { l: 10, r: 12, t: 10, b: 10 },
      nticks: ticks,
      font: narrow ? 11 : 12,
    };
  }

  function adaptLayout(layout, width) {
    var a = adaptation(width);
    layout.legend = Object.assign({}, layout.legend || {}, a.legend);
    layout.margin = Object.assign({}, layout.margin || {}, a.margin);
    layout.xaxis = Object.assign({}, layout.xaxis || {}, { nticks: a.nticks });
    layout.font = Object.assign({}, layout.font || {}, { size: a.font });
    (layout.annotations || []).forEach(function (note) {
      note.visible = !a.narrow;
    });
    return layout;
  }

  function wrap(name) {
    var original = Plotly[name];
    Plotly[name] = function (gd, data, layout, config) {
      var element = typeof gd === "string" ? document.getElementById(gd) : gd;
      if (data && !Array.isArray(data) && data.layout) {
        // Plotly.react(gd, {data, layout, config}), as dcc.Graph calls it.
        data = Object.assign({}, data, { layout: adaptLayout(Object.assign({}, data.layout), widthOf(element)) });
      } else if (layout) {
        layout = adaptLayout(Object.assign({}, layout), widthOf(element));
      }
      if (element) {
        element.dataset.narrow = String(widthOf(element) < NARROW_PX);
      }
      return original.call(this, gd, data, layout, config);
    };
  }
  wrap("react");
  wrap("newPlot");

  var resize = Plotly.Plots.resize;
  Plotly.Plots.resize = function (gd) {
    var result = resize.apply(this, arguments);
    var element = typeof gd === "string" ? document.getElementById(gd) : gd;
    if (element && element._fullLayout) {
      var width = widthOf(element);
      var narrow = width < NARROW_PX;
      var a = adaptation(width);
      var ticks = element.layout && element.layout.xaxis && element.layout.xaxis.nticks;
      if (String(narrow) !== element.dataset.narrow || ticks !== a.nticks) {
        element.dataset.narrow = String(narrow);
        var update = { legend: a.legend, margin: a.margin, "xaxis.nticks": a.nticks,
                       "font.size": a.font };
        (element.layout.annotations || []).forEach(function (_note, i) {
          update["annotations[" + i + "].visible"] = !narrow;
        });
        return Promise.resolve(result).then(function () {
          return Plotly.relayout(element, update);
        });
      }
    }
    return result;
  };
})();
