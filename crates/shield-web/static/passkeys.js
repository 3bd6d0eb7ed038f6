// Passkeys: creating one and signing in with one. Progressive enhancement: every passkey
// control starts `hidden` and is shown only when this script runs in a browser that has
// WebAuthn; without it the page's password path (where there is one) still works.
//
// Each control is an element with
//   data-passkey="create" | "sign-in"
//   data-options="/url"   POST here first: the server starts the ceremony, keeps its state
//                         in the session, and answers {"publicKey": …}
//   data-finish="/url"    POST the browser's answer here as JSON: {"redirect": "/…"}
//   data-csrf="…"         the session's CSRF token, sent as the x-csrf-token header
// containing a <button> and an element with data-passkey-error for messages.
(function () {
  "use strict";

  function fromB64url(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var raw = atob(b64);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function post(url, csrf, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: body === undefined ? "{}" : JSON.stringify(body),
    }).then(function (response) {
      var type = response.headers.get("content-type") || "";
      if (!response.ok || type.indexOf("application/json") !== 0) {
        return response
          .json()
          .catch(function () { return {}; })
          .then(function (json) { throw { serverMessage: json.error }; });
      }
      return response.json();
    });
  }

  function creationOptions(publicKey) {
    publicKey.challenge = fromB64url(publicKey.challenge);
    publicKey.user.id = fromB64url(publicKey.user.id);
    (publicKey.excludeCredentials || []).forEach(function (c) { c.id = fromB64url(c.id); });
    return { publicKey: publicKey };
  }

  function requestOptions(publicKey) {
    publicKey.challenge = fromB64url(publicKey.challenge);
    (publicKey.allowCredentials || []).forEach(function (c) { c.id = fromB64url(c.id); });
    // A button press is a modal request, not conditional (autofill) mediation.
    return { publicKey: publicKey };
  }

  function created(credential) {
    return {
      id: credential.id,
      rawId: toB64url(credential.rawId),
      type: credential.type,
      response: {
        attestationObject: toB64url(credential.response.attestationObject),
        clientDataJSON: toB64url(credential.response.clientDataJSON),
      },
      extensions: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
    };
  }

  function asserted(credential) {
    var r = credential.response;
    return {
      id: credential.id,
      rawId: toB64url(credential.rawId),
      type: credential.type,
      response: {
        authenticatorData: toB64url(r.authenticatorData),
        clientDataJSON: toB64url(r.clientDataJSON),
        signature: toB64url(r.signature),
        userHandle: r.userHandle ? toB64url(r.userHandle) : null,
      },
      extensions: {},
    };
  }

  function setUp(control) {
    var mode = control.getAttribute("data-passkey");
    var button = control.querySelector("button");
    var error = control.querySelector("[data-passkey-error]");
    var csrf = control.getAttribute("data-csrf") || "";
    if (!button) return;
    control.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      if (error) error.hidden = true;
      post(control.getAttribute("data-options"), csrf)
        .then(function (options) {
          return mode === "create"
            ? navigator.credentials.create(creationOptions(options.publicKey)).then(created)
            : navigator.credentials.get(requestOptions(options.publicKey)).then(asserted);
        })
        .then(function (answer) { return post(control.getAttribute("data-finish"), csrf, answer); })
        .then(function (done) { window.location.assign(done.redirect); })
        .catch(function (e) {
          button.disabled = false;
          if (error) {
            error.textContent =
              e && e.serverMessage
                ? e.serverMessage
                : e && e.name === "NotAllowedError"
                  ? "The passkey request was cancelled or timed out. Try again."
                  : "That did not work. Try again, or contact the coordination team.";
            error.hidden = false;
          }
        });
    });
  }

  function start() {
    if (!window.PublicKeyCredential || !navigator.credentials) return;
    var controls = document.querySelectorAll("[data-passkey]");
    for (var i = 0; i < controls.length; i++) setUp(controls[i]);
    var fallbacks = document.querySelectorAll("[data-passkey-fallback]");
    for (var j = 0; j < fallbacks.length; j++) fallbacks[j].hidden = true;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
