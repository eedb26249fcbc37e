// ShopGuardWebAuthn runs WebAuthn ceremonies from the JSON options
// shopguard sends ({"publicKey": {...}}, binary fields base64url) and
// returns the browser's answer as the JSON shopguard takes back.
(function (global) {
  'use strict';

  function b64uToBuf(s) {
    s = s.replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) s += '=';
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function bufToB64u(buf) {
    var bytes = new Uint8Array(buf), bin = '';
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function withIDs(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: b64uToBuf(c.id) }); });
  }
  function creationOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = b64uToBuf(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: b64uToBuf(pk.user.id) });
    pk.excludeCredentials = withIDs(pk.excludeCredentials);
    return { publicKey: pk };
  }
  function requestOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = b64uToBuf(pk.challenge);
    pk.allowCredentials = withIDs(pk.allowCredentials);
    return { publicKey: pk };
  }
  function credentialJSON(c) {
    if (typeof c.toJSON === 'function') return c.toJSON();
    var r = c.response, out = { id: c.id, rawId: bufToB64u(c.rawId), type: c.type,
      authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {}, response: {} };
    out.response.clientDataJSON = bufToB64u(r.clientDataJSON);
    if (r.attestationObject) {
      out.response.attestationObject = bufToB64u(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = bufToB64u(r.authenticatorData);
      out.response.signature = bufToB64u(r.signature);
      if (r.userHandle) out.response.userHandle = bufToB64u(r.userHandle);
    }
    return out;
  }

  global.ShopGuardWebAuthn = {
    supported: function () { return !!(global.PublicKeyCredential && navigator.credentials); },
    create: function (options) {
      return navigator.credentials.create(creationOptions(options)).then(credentialJSON);
    },
    get: function (options) {
      return navigator.credentials.get(requestOptions(options)).then(credentialJSON);
    }
  };
})(window);
