/*
 * dcc.Graph calls Plotly.Plots.resize right after the first plot, and its resize observer calls
 * it again: each is a full relayout (0.1-0.4 s on a loaded 2-core machine) although the chart
 * already has the size of its box. Skip a resize when nothing changed; real window or layout
 * resizes still go through. Loaded after plotly-basic-*.js (Dash loads assets by name).
 */
(function () {
  var Plotly = window.Plotly;
  if (!Plotly || !Plotly.Plots || !Plotly.Plots.resize) {
    return;
  }
  var resize = Plotly.Plots.resize;
  Plotly.Plots.resize = function (gd) {
    var full = gd && gd._fullLayout;
    if (
      full &&
      Math.round(full.width) === Math.round(gd.clientWidth) &&
      Math.round(full.height) === Math.round(gd.clientHeight)
    ) {
      return Promise.resolve(gd);
    }
    return resize.apply(this, arguments);
  };
})();
