/*
 * Adapts the chart's layout to its width, in the browser, before Plotly draws it (the server
 * does not know the screen). Narrow charts (< 600 px, phones) get the legend below the chart,
 * no pause labels over the bars (the bands, colours and hover still tell), fewer date ticks and
 * smaller fonts; every width gets as many x ticks as fit. Wraps Plotly.react/newPlot (what
 * dcc.Graph calls) and plots again when a resize changes the adaptation.
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

  function axisTitle(axis) {
    var title = axis && axis.title;
    return typeof title === "string" ? title : (title && title.text) || "";
  }

  // The layout for a chart ``width`` px wide, from the server's (desktop) layout.
  function adaptLayout(original, width) {
    var layout = Object.assign({}, original);
    var narrow = width < NARROW_PX;
    layout.font = Object.assign({}, layout.font || {}, { size: narrow ? 11 : 12 });
    layout.xaxis = Object.assign({}, layout.xaxis || {}, {
      nticks: Math.max(3, Math.floor(width / (narrow ? 90 : 110))),
    });
    if (!narrow) {
      layout.legend = Object.assign({}, layout.legend || {}, {
        xref: "paper", yref: "paper", font: { size: 12 },
      });
      return layout;
    }
    // Phone: the legend goes below the chart; the y titles become horizontal captions above
    // their panels (a rotated title and "25,000" labels took a fifth of the width); ticks are
    // short ("25k"); pause labels are hidden (bands, colours and the hover still tell).
    layout.legend = Object.assign({}, layout.legend || {}, {
      orientation: "h", x: 0, xanchor: "left", xref: "container", y: 0, yanchor: "bottom",
      yref: "container", font: { size: 11 },
    });
    layout.margin = { l: 2, r: 2, t: 18, b: 6, pad: 0 };
    var notes = (layout.annotations || []).map(function (note) {
      return Object.assign({}, note, { visible: false });
    });
    ["yaxis", "yaxis2"].forEach(function (name) {
      var axis = layout[name];
      if (!axis) {
        return;
      }
      var text = axisTitle(axis);
      var top = axis.domain ? axis.domain[1] : 1;
      if (text) {
        notes.push({
          text: text, xref: "paper", x: 0, xanchor: "left", yref: "paper", y: top,
          yanchor: "bottom", showarrow: false, font: { size: 11 }, name: "caption-" + name,
        });
      }
      layout[name] = Object.assign({}, axis, {
        title: { text: "" },
        tickformat: ".3~s",
        tickfont: { size: 10 },
      });
    });
    layout.annotations = notes;
    return layout;
  }

  function wrap(name) {
    var original = Plotly[name];
    Plotly[name] = function (gd, data, layout, config) {
      var element = typeof gd === "string" ? document.getElementById(gd) : gd;
      var width = widthOf(element);
      if (data && !Array.isArray(data) && data.layout) {
        // Plotly.react(gd, {data, layout, config}), as dcc.Graph calls it.
        if (element) {
          element.shopdataLayout = data.layout;
          element.shopdataConfig = data.config;
        }
        data = Object.assign({}, data, { layout: adaptLayout(data.layout, width) });
      } else if (layout) {
        if (element) {
          element.shopdataLayout = layout;
          element.shopdataConfig = config;
        }
        layout = adaptLayout(layout, width);
      }
      if (element) {
        element.dataset.narrow = String(width < NARROW_PX);
        element.dataset.width = String(width);
      }
      return original.call(this, gd, data, layout, config);
    };
  }
  wrap("react");
  wrap("newPlot");

  // A resize that changes the adaptation (the breakpoint, or the number of date ticks) plots
  // the server's layout again, adapted to the new width. (Plotly.relayout would leak the
  // adapted values into dcc.Graph's copy of the figure.)
  var resize = Plotly.Plots.resize;
  Plotly.Plots.resize = function (gd) {
    var result = resize.apply(this, arguments);
    var element = typeof gd === "string" ? document.getElementById(gd) : gd;
    if (!element || !element._fullLayout || !element.shopdataLayout) {
      return result;
    }
    var width = widthOf(element);
    var before = JSON.stringify(adaptLayout(element.shopdataLayout, Number(element.dataset.width)));
    if (before === JSON.stringify(adaptLayout(element.shopdataLayout, width))) {
      return result;
    }
    return Promise.resolve(result).then(function () {
      return Plotly.react(element, element.data, element.shopdataLayout, element.shopdataConfig);
    });
  };
})();
