// Refreshes the overview's live part every few seconds without reloading
// the page. The server renders the fragment (tables and SVG chart); this
// script only swaps it in. Passkeys (below) need it too; nothing else does.
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
// Passkeys: sign in with one, and add one on the account page.
(function () {
  "use strict";
  var wa = window.ShopGuardWebAuthn;
  if (!wa || !wa.supported()) { return; }
  function post(url, body, csrf) {
    var headers = { "Content-Type": "application/json" };
    if (csrf) { headers["X-CSRF-Token"] = csrf; }
    return fetch(url, { method: "POST", credentials: "same-origin", headers: headers, body: JSON.stringify(body || {}) })
      .then(function (r) {
        return r.json().then(function (data) {
          if (!r.ok) { throw new Error(data.error || ("HTTP " + r.status)); }
          return data;
        });
      });
  }
  function fail(e) {
    var el = document.getElementById("passkey-error");
    if (!el) { return; }
    el.textContent = e && e.name === "NotAllowedError" ? "The passkey request was cancelled or timed out." :
      (e && e.name === "InvalidStateError" ? "This device already has a passkey for you." : (e && e.message) || "Something went wrong.");
  }
  var signin = document.getElementById("passkey-signin");
  if (signin) {
    signin.hidden = false;
    document.getElementById("passkey-signin-button").addEventListener("click", function () {
      post("/dashboard/signin/passkey/options").then(function (start) {
        return wa.get(start.options).then(function (cred) {
          return post("/dashboard/signin/passkey", { ceremony_id: start.ceremony_id, credential: cred, next: signin.getAttribute("data-next") });
        });
      }).then(function (out) { window.location.assign(out.redirect); }, fail);
    });
  }
  var add = document.getElementById("add-passkey");
  if (add) {
    var csrf = add.getAttribute("data-csrf");
    add.addEventListener("click", function () {
      post("/dashboard/account/passkeys/options", {}, csrf).then(function (start) {
        return wa.create(start.options).then(function (cred) {
          return post("/dashboard/account/passkeys", { ceremony_id: start.ceremony_id, credential: cred }, csrf);
        });
      }).then(function (out) { window.location.assign(out.redirect); }, fail);
    });
  }
})();
