// Refreshes the overview's live part every few seconds without reloading
// the page. The server renders the fragment (tables and SVG chart); this
// script only swaps it in. Nothing else on the dashboard needs JavaScript.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) { return; }
  var url = live.getAttribute("data-src");
  var every = 5000;
  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (r.status === 401) { window.location.reload(); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (html !== null && html !== undefined) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.getElementById("live");
          if (fresh) { live.replaceChildren.apply(live, Array.prototype.slice.call(fresh.childNodes)); }
        }
      })
      .catch(function () { /* keep the last view; try again next tick */ })
      .finally(function () { setTimeout(refresh, every); });
  }
  setTimeout(refresh, every);
})();
// Confirms destructive buttons (data-confirm) before their form is sent.
document.addEventListener("submit", function (e) {
  var b = e.submitter;
  if (b && b.getAttribute("data-confirm") && !window.confirm(b.getAttribute("data-confirm"))) { e.preventDefault(); }
});
