// shopguard support assistant widget. A shop's page includes it with the
// conversation its backend opened (POST /v1/assistant/conversations):
//
//   <script src="https://GUARD/assistant/widget.js" defer
//           data-conversation="conv_..." data-token="sgc_..."
//           data-greeting="Hello! ..." data-title="Help" data-open="false"></script>
//
// data-step-up="ch_..." on the page a step-up returned to (when the
// browser blocked the step-up's window and it opened in place) tells the
// assistant at once that the check is done.
//
// It talks to shopguard with the conversation's client token only (never an
// API key), shows the replies, opens the hosted step-up page when the
// assistant asks for one, and tells the assistant when that page closes.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.dataset.conversation || !script.dataset.token) {
    if (window.console) console.error("shopguard widget: data-conversation and data-token are required");
    return;
  }
  var base = new URL(script.src, location.href);
  var api = base.origin + "/assistant/v1/conversations/" + encodeURIComponent(script.dataset.conversation) + "/messages";
  var token = script.dataset.token;

  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = new URL("widget.css", base).href;
  document.head.appendChild(css);

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  var root = el("div", "sga-root");
  root.id = "shopguard-assistant";
  var launcher = el("button", "sga-launcher", script.dataset.title || "Help");
  launcher.type = "button";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "sga-panel");
  var panel = el("section", "sga-panel");
  panel.id = "sga-panel";
  panel.setAttribute("aria-label", "Support chat");
  var head = el("div", "sga-head");
  head.appendChild(el("span", null, script.dataset.title || "Help"));
  var close = el("button", null, "\u00d7");
  close.type = "button";
  close.setAttribute("aria-label", "Close the chat");
  head.appendChild(close);
  var log = el("ol", "sga-log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", "Conversation");
  var form = el("form", "sga-form");
  var label = el("label", "sga-sr", "Your message");
  label.htmlFor = "sga-input";
  var input = el("textarea");
  input.id = "sga-input";
  input.rows = 2;
  input.maxLength = 8000;
  input.placeholder = "Ask, or paste a message to check";
  var send = el("button", null, "Send");
  send.type = "submit";
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(send);
  panel.appendChild(head);
  panel.appendChild(log);
  panel.appendChild(form);
  root.appendChild(launcher);
  root.appendChild(panel);
  document.body.appendChild(root);

  function setOpen(open) {
    root.classList.toggle("sga-open", open);
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    (open ? input : launcher).focus();
  }
  launcher.addEventListener("click", function () { setOpen(true); });
  close.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") setOpen(false); });

  function add(node) {
    var li = el("li");
    li.appendChild(node);
    li.style.display = "contents";
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
    return node;
  }
  function say(role, text, extra) {
    var m = add(el("div", "sga-msg sga-" + role + (extra ? " " + extra : ""), text));
    m.dataset.role = role;
    return m;
  }

  var busy = false;
  function post(body, shown) {
    if (busy) return;
    busy = true;
    send.disabled = true;
    if (shown) say("customer", shown);
    fetch(api, {
      method: "POST",
      headers: { "Authorization": "Bearer " + token, "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) { return { status: resp.status, data: data }; });
    }).then(function (r) {
      if (r.status === 200) { render(r.data); return; }
      var msg = {
        401: "This chat has expired. Reload the page to start a new one.",
        409: "This chat has ended. Reload the page to start a new one.",
        429: "You're sending messages very quickly. Please wait a moment."
      }[r.status] || (r.data && r.data.error && r.data.error.message) || "Something went wrong. Please try again.";
      say("assistant", msg, "sga-unknown");
    }).catch(function () {
      say("assistant", "I can't be reached right now. Please try again in a moment.", "sga-unknown");
    }).then(function () {
      busy = false;
      send.disabled = false;
    });
  }

  function render(reply) {
    var verdict = "";
    (reply.actions || []).forEach(function (a) { if (a.type === "message_verdict") verdict = "sga-" + a.verdict; });
    var m = say("assistant", reply.text, verdict);
    if (reply.intent) m.dataset.intent = reply.intent;
    (reply.actions || []).forEach(function (a) {
      if (a.type === "step_up" && a.hosted_url) stepUpButton(a);
      if (a.type === "handoff") add(el("div", "sga-note", "A colleague from our team will join this chat."));
    });
    if (reply.choices && reply.choices.length) {
      var box = add(el("div", "sga-choices"));
      reply.choices.forEach(function (c) {
        var b = el("button", null, c.label);
        b.type = "button";
        b.addEventListener("click", function () {
          box.remove();
          post({ choice: c.value }, c.label);
        });
        box.appendChild(b);
      });
    }
  }

  // The step-up opens in its own window (the hosted page, on the shop's or
  // shopguard's origin); when it closes the assistant is asked how it went.
  function stepUpButton(a) {
    var b = add(el("button", "sga-stepup", "Verify it's me"));
    b.type = "button";
    b.dataset.challenge = a.challenge_id;
    var page = new URL(a.hosted_url, base).href; // a path is on shopguard's origin
    b.addEventListener("click", function () {
      var w = window.open(page, "sga-stepup", "width=480,height=640");
      if (!w) { location.href = page; return; }
      var timer = setInterval(function () {
        if (w.closed) {
          clearInterval(timer);
          b.remove();
          post({ step_up: a.challenge_id }, null);
        }
      }, 500);
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    post({ text: text }, text);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });

  say("assistant", script.dataset.greeting || "Hello! How can I help? I can also check whether a message that claims to be from us is genuine: just paste it here.");
  if (script.dataset.open === "true") setOpen(true);
  if (script.dataset.stepUp) {
    setOpen(true);
    post({ step_up: script.dataset.stepUp }, null);
  }
  // For the shop's page and its tests: open the chat, send a message.
  window.shopguardAssistant = { open: function () { setOpen(true); }, send: function (t) { post({ text: t }, t); } };
})();
