// Commune's pages: draw plotly figures, switch the Sankey's item, poll running jobs.
// Plain JavaScript, no build step; every page works without it (it only adds).
(function () {
  "use strict";

  function drawCharts() {
    if (typeof window.Plotly === "undefined") return;
    document.querySelectorAll("[data-figure]").forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-figure"));
      if (!source) return;
      var fig;
      try { fig = JSON.parse(source.textContent); } catch (e) { return; }
      window.Plotly.newPlot(el, fig.data, fig.layout, {
        responsive: true,
        displaylogo: false,
        modeBarButtonsToRemove: ["select2d", "lasso2d", "toImage"]
      }).then(function () { el.setAttribute("data-drawn", "1"); });
    });
    document.querySelectorAll("select[data-sankey]").forEach(function (select) {
      select.addEventListener("change", function () {
        var chart = document.querySelector('[data-figure="' + select.getAttribute("data-sankey") + '"]');
        if (!chart || !chart.data) return;
        var shown = parseInt(select.value, 10);
        var visible = chart.data.map(function (_, i) { return i === shown; });
        window.Plotly.restyle(chart, { visible: visible });
      });
    });
  }

  function poll(el) {
    var url = el.getAttribute("data-poll");
    var started = Date.now();
    var limit = 30 * 60 * 1000; // stop polling after half an hour
    var delay = 1000;
    function tick() {
      if (Date.now() - started > limit) return;
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (!s) { delay = Math.min(delay * 2, 10000); window.setTimeout(tick, delay); return; }
          var status = el.querySelector('[data-field="status"]');
          if (status) {
            status.innerHTML = "";
            var badge = document.createElement("span");
            badge.className = "badge badge-" + s.status;
            badge.textContent = String(s.status).replace(/_/g, " ");
            status.appendChild(badge);
          }
          var progress = el.querySelector('[data-field="progress"]');
          if (progress && s.job) {
            progress.textContent = s.job.progress || (s.job.state === "queued" ? "waiting for a worker" : "solving");
          }
          if (s.final) {
            el.removeAttribute("data-poll");
            if (el.getAttribute("data-reload")) {
              window.location.reload();
            }
            return;
          }
          window.setTimeout(tick, delay);
        })
        .catch(function () { delay = Math.min(delay * 2, 10000); window.setTimeout(tick, delay); });
    }
    window.setTimeout(tick, delay);
  }

  function focusProblems() {
    // After a refused save, move focus to the first list of problems so it is read out.
    var box = document.querySelector(".alert-error[tabindex]");
    if (box) { box.focus(); return; }
    var saved = document.getElementById("saved-message");
    if (saved) saved.scrollIntoView({ block: "start" });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts();
    document.querySelectorAll("[data-poll]").forEach(poll);
    focusProblems();
  });
})();
