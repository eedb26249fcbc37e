/*
 * shopguard.js — include on the shop's pages:
 *   <script src="https://<shopguard>/stepup/shopguard.js"></script>
 *
 * ShopGuard.stepUp(url)   opens a challenge's hosted_url in a popup and
 *                         resolves with {challenge_id, token} once the
 *                         customer confirmed; the shop's backend then
 *                         checks the token (POST /v1/challenges/verify).
 * ShopGuard.enrol(url)    opens an enrolment link in a popup and resolves
 *                         with what was added when it is closed.
 * ShopGuard.typing(input) measures the typing rhythm of a password field:
 *                         how long each key is held and the gaps between
 *                         keys, never which keys. .keystrokes() returns
 *                         {hold_ms, flight_ms} for POST /v1/logins (or
 *                         null when the entry was edited or too short).
 */
(function (global) {
  'use strict';

  function popup(url) {
    var w = 480, h = 640;
    var left = (global.screenX || 0) + Math.max(0, ((global.outerWidth || w) - w) / 2);
    var top = (global.screenY || 0) + Math.max(0, ((global.outerHeight || h) - h) / 2);
    return global.open(url, 'shopguard', 'popup,width=' + w + ',height=' + h + ',left=' + left + ',top=' + top);
  }

  // listen waits for messages of type from the window opened at url.
  function listen(url, win, onMessage, onClosed) {
    var origin = new URL(url, global.location.href).origin;
    var handler = function (ev) {
      if (ev.origin !== origin || ev.source !== win || !ev.data || typeof ev.data.type !== 'string') return;
      onMessage(ev.data, stop);
    };
    var timer = setInterval(function () {
      if (win.closed) { stop(); onClosed(); }
    }, 400);
    function stop() {
      clearInterval(timer);
      global.removeEventListener('message', handler);
    }
    global.addEventListener('message', handler);
  }

  function stepUp(url) {
    return new Promise(function (resolve, reject) {
      var win = popup(url);
      if (!win) { global.location.assign(url); return; }
      listen(url, win, function (msg, stop) {
        if (msg.type !== 'shopguard:stepup') return;
        stop();
        if (msg.status === 'passed') {
          try { win.close(); } catch (e) { /* already closed */ }
          resolve({ challenge_id: msg.challenge_id, token: msg.token });
        } else {
          reject(new Error('step-up ' + msg.status));
        }
      }, function () { reject(new Error('step-up window closed')); });
    });
  }

  function enrol(url) {
    return new Promise(function (resolve) {
      var added = [];
      var win = popup(url);
      if (!win) { global.location.assign(url); return; }
      listen(url, win, function (msg) {
        if (msg.type === 'shopguard:enrolled') added.push(msg);
      }, function () { resolve(added); });
    });
  }

  var ignored = { Tab: 1, Enter: 1, NumpadEnter: 1, Escape: 1 };

  function typing(input) {
    var downs = [], keys = [], valid = true;
    function reset() { downs = []; keys = []; valid = true; }
    input.addEventListener('keydown', function (ev) {
      if (ignored[ev.key] || ev.repeat) return;
      if (ev.key === 'Backspace' || ev.key === 'Delete' || ev.ctrlKey || ev.metaKey) { valid = false; return; }
      downs[ev.code] = ev.timeStamp;
      keys.push({ code: ev.code, down: ev.timeStamp, up: null });
    });
    input.addEventListener('keyup', function (ev) {
      for (var i = keys.length - 1; i >= 0; i--) {
        if (keys[i].code === ev.code && keys[i].up === null) { keys[i].up = ev.timeStamp; break; }
      }
    });
    input.addEventListener('paste', function () { valid = false; });
    input.addEventListener('input', function () { if (input.value === '') reset(); });
    return {
      keystrokes: function () {
        if (!valid || keys.length < 2 || keys.length > 128) return null;
        var hold = [], flight = [];
        for (var i = 0; i < keys.length; i++) {
          var k = keys[i];
          if (k.up === null) return null;
          var h = k.up - k.down;
          if (h < 0 || h > 2000) return null;
          hold.push(Math.round(h * 10) / 10);
          if (i > 0) {
            var f = k.down - keys[i - 1].up;
            if (f < -2000 || f > 5000) return null;
            flight.push(Math.round(f * 10) / 10);
          }
        }
        return { hold_ms: hold, flight_ms: flight };
      },
      reset: reset
    };
  }

  global.ShopGuard = { stepUp: stepUp, enrol: enrol, typing: typing };
})(window);
