// shopguard hosted pages: the step-up page (confirm one action with a
// passkey or an authenticator app) and the enrolment page (add them).
// No inline script: the pages' Content-Security-Policy allows this file only.
(function () {
  'use strict';

  var webauthn = window.ShopGuardWebAuthn;

  function post(cfg, path, body) {
    return fetch(cfg.base + path + '?' + cfg.query, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, credentials: 'omit',
      body: JSON.stringify(body || {})
    }).then(function (res) {
      return res.json().then(function (data) {
        if (!res.ok) {
          var e = new Error((data.error && data.error.message) || ('HTTP ' + res.status));
          e.code = data.error && data.error.code;
          e.field = data.error && data.error.field;
          throw e;
        }
        return data;
      });
    });
  }
  function say(text, kind) {
    var el = document.getElementById('status');
    if (!el) return;
    el.textContent = text;
    el.className = 'msg' + (kind ? ' ' + kind : '');
  }
  // tell sends the outcome to the shop's page that opened or framed this
  // one, on the shop's own origins only.
  function tell(cfg, msg) {
    var targets = [];
    if (window.opener) targets.push(window.opener);
    if (window.parent && window.parent !== window) targets.push(window.parent);
    targets.forEach(function (t) {
      (cfg.origins || []).forEach(function (o) {
        try { t.postMessage(msg, o); } catch (e) { /* another origin */ }
      });
    });
  }
  // Messages for the customer, by the API's error code.
  var friendly = {
    no_factor: 'There is no passkey for this account any more. Use another way below.',
    ceremony_unusable: 'That took too long. Try again.',
    passkey_rejected: 'Your passkey could not be verified. Try again, or use another way below.',
    expired: 'This request has expired. Go back to the shop and try again.',
    challenge_closed: 'This request was already answered. Go back to the shop.',
    rate_limited: 'Too many wrong codes. Wait a few minutes and try again.',
    not_found: 'This link is not valid any more. Go back to the shop and try again.'
  };
  function message(e) {
    return (e && e.code && friendly[e.code]) || (e && e.field === 'code' && 'That code is not right.') ||
      'Something went wrong. Try again.';
  }
  function busy(on) {
    document.querySelectorAll('button').forEach(function (b) { b.disabled = on; });
  }

  // The step-up page.
  var stepup = document.getElementById('stepup');
  if (stepup) {
    var cfg = JSON.parse(stepup.dataset.config);
    var done = function (out) {
      if (out.token) {
        say('Confirmed. Returning you to the shop…', 'ok');
        var methods = document.getElementById('methods');
        if (methods) methods.hidden = true;
        tell(cfg, { type: 'shopguard:stepup', status: 'passed', challenge_id: cfg.challenge_id, token: out.token });
        if (out.redirect) window.location.assign(out.redirect);
        return;
      }
      if (out.status === 'failed') {
        say('Too many attempts. This request is refused; go back to the shop.', 'error');
        var m = document.getElementById('methods');
        if (m) m.hidden = true;
        tell(cfg, { type: 'shopguard:stepup', status: 'failed', challenge_id: cfg.challenge_id });
        return;
      }
      say((out.reason ? 'That did not work: ' + out.reason + '. ' : 'That code is not right. ') +
        out.attempts_left + ' attempt' + (out.attempts_left === 1 ? '' : 's') + ' left.', 'error');
    };
    var fail = function (e) {
      busy(false);
      if (e && e.name === 'NotAllowedError') { say('The passkey request was cancelled or timed out. Try again.', 'error'); return; }
      say(message(e), 'error');
      if (e && (e.code === 'expired' || e.code === 'challenge_closed')) {
        tell(cfg, { type: 'shopguard:stepup', status: e.code, challenge_id: cfg.challenge_id });
      }
    };
    var passkeyButton = document.getElementById('use-passkey');
    if (passkeyButton) {
      passkeyButton.addEventListener('click', function () {
        busy(true);
        say('Follow the prompt on your device…');
        post(cfg, '/passkey-options').then(function (start) {
          return webauthn.get(start.options).then(function (cred) {
            return post(cfg, '/answer', { method: 'passkey', ceremony_id: start.ceremony_id, credential: cred });
          });
        }).then(function (out) { busy(false); done(out); }, fail);
      });
    }
    [['totp-form', 'totp-code', 'totp'], ['recovery-form', 'recovery-code', 'recovery_code']].forEach(function (f) {
      var form = document.getElementById(f[0]);
      if (!form) return;
      form.addEventListener('submit', function (ev) {
        ev.preventDefault();
        var input = document.getElementById(f[1]);
        busy(true);
        post(cfg, '/answer', { method: f[2], code: input.value.trim() }).then(function (out) {
          busy(false); input.value = ''; done(out);
        }, fail);
      });
    });
  }

  // The enrolment page.
  var enrol = document.getElementById('enrol');
  if (enrol) {
    var ecfg = JSON.parse(enrol.dataset.config);
    var efail = function (e) {
      busy(false);
      if (e && e.name === 'InvalidStateError') { say('This device already has a passkey for your account.', 'error'); return; }
      if (e && e.name === 'NotAllowedError') { say('The passkey request was cancelled or timed out. Try again.', 'error'); return; }
      say(message(e), 'error');
    };
    var add = document.getElementById('add-passkey');
    if (add) {
      add.addEventListener('click', function () {
        busy(true);
        say('Follow the prompt on your device…');
        var name = document.getElementById('passkey-name').value.trim();
        post(ecfg, '/passkey-options', { passkey_name: name }).then(function (start) {
          return webauthn.create(start.options).then(function (cred) {
            return post(ecfg, '/passkey', { ceremony_id: start.ceremony_id, credential: cred });
          });
        }).then(function (pk) {
          busy(false);
          var li = document.createElement('li');
          li.textContent = pk.name;
          document.getElementById('passkey-list').appendChild(li);
          say('Passkey added.', 'ok');
          tell(ecfg, { type: 'shopguard:enrolled', factor: 'passkey', passkey_id: pk.id });
        }, efail);
      });
    }
    var startTotp = document.getElementById('start-totp');
    if (startTotp) {
      startTotp.addEventListener('click', function () {
        busy(true);
        post(ecfg, '/totp').then(function (en) {
          busy(false);
          startTotp.hidden = true;
          document.getElementById('totp-qr').src = en.qr_code;
          document.getElementById('totp-secret').textContent = en.secret;
          document.getElementById('totp-setup').hidden = false;
          say('');
        }, efail);
      });
      document.getElementById('totp-confirm').addEventListener('submit', function (ev) {
        ev.preventDefault();
        busy(true);
        var input = document.getElementById('totp-code');
        post(ecfg, '/totp/confirm', { code: input.value.trim() }).then(function (out) {
          busy(false);
          document.getElementById('totp-setup').hidden = true;
          var list = document.getElementById('recovery-list');
          out.recovery_codes.forEach(function (c) {
            var li = document.createElement('li'); li.textContent = c; list.appendChild(li);
          });
          document.getElementById('recovery-codes').hidden = false;
          say('');
          tell(ecfg, { type: 'shopguard:enrolled', factor: 'totp' });
        }, efail);
      });
    }
  }
})();
