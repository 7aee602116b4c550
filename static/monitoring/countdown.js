// Counts the window's remaining time down every second between htmx refreshes.
// Without JavaScript the server-rendered value (refreshed every few seconds) is shown.
(function () {
  function format(seconds) {
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
  }
  function tick() {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var left = parseInt(el.getAttribute("data-countdown"), 10);
      if (isNaN(left) || left <= 0) { return; }
      left -= 1;
      el.setAttribute("data-countdown", String(left));
      el.textContent = format(left);
    });
  }
  setInterval(tick, 1000);
})();
