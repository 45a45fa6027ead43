// Passkeys (WebAuthn): the browser's half of the desk's ceremonies. The
// desk sends the options and keeps the challenge; this script turns the
// options' base64url fields into bytes for navigator.credentials, and the
// credential back into JSON for the desk. Its words come from the page
// (data-msg-*), which has them from the catalogs. Three uses, named by
// data-passkey: "register" (a form on /account/2fa), "second-factor"
// (after the password on /login/2fa) and "sign-in" (on /login).
(function () {
  "use strict";
  var box = document.querySelector("[data-passkey]");
  if (!box) {
    return;
  }
  var mode = box.getAttribute("data-passkey");
  var errorLine = box.querySelector("[data-passkey-error]");
  var needs = document.querySelector("[data-passkey-needs]");
  var button = mode === "register" ? box : box.querySelector("#passkey-use");

  function say(msg) {
    errorLine.textContent = msg;
    errorLine.hidden = false;
  }

  if (!window.PublicKeyCredential || !navigator.credentials || !window.isSecureContext) {
    if (needs) {
      needs.textContent = box.getAttribute("data-msg-unsupported");
    }
    return;
  }
  if (needs) {
    needs.hidden = true;
  }
  button.hidden = false;

  function bytes(s) {
    var b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) {
      b64 += "=";
    }
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return out.buffer;
  }

  function text(buf) {
    if (!buf) {
      return undefined;
    }
    var b = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < b.length; i++) {
      bin += String.fromCharCode(b[i]);
    }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function ids(list) {
    return (list || []).map(function (c) {
      return Object.assign({}, c, { id: bytes(c.id) });
    });
  }

  function credentialJSON(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: text(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: text(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = text(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = text(r.authenticatorData);
      out.response.signature = text(r.signature);
      out.response.userHandle = text(r.userHandle);
    }
    return out;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": box.getAttribute("data-csrf") },
      body: JSON.stringify(body)
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (j) {
        if (!resp.ok) {
          var e = new Error(j.error || box.getAttribute("data-msg-failed"));
          e.fromDesk = true;
          throw e;
        }
        return j;
      });
    });
  }

  function failed(e) {
    if (e && e.fromDesk) {
      say(e.message);
    } else if (e && (e.name === "NotAllowedError" || e.name === "AbortError")) {
      say(box.getAttribute("data-msg-cancelled"));
    } else if (e && e.name === "InvalidStateError") {
      say(box.getAttribute("data-msg-exists"));
    } else {
      say(box.getAttribute("data-msg-failed"));
    }
    button.disabled = false;
    if (mode === "register") {
      box.querySelector("button").disabled = false;
    }
  }

  function register(ev) {
    ev.preventDefault();
    errorLine.hidden = true;
    var name = box.querySelector("[name=name]").value;
    var password = box.querySelector("[name=password]").value;
    box.querySelector("button").disabled = true;
    post(box.getAttribute("data-begin"), { name: name, password: password }).then(function (start) {
      var pk = start.publicKey;
      pk.challenge = bytes(pk.challenge);
      pk.user.id = bytes(pk.user.id);
      pk.excludeCredentials = ids(pk.excludeCredentials);
      return navigator.credentials.create({ publicKey: pk }).then(function (cred) {
        return post(box.getAttribute("data-finish"), { handle: start.handle, name: name, credential: credentialJSON(cred) });
      });
    }).then(function (done) {
      window.location.assign(done.next);
    }).catch(failed);
  }

  function signIn() {
    errorLine.hidden = true;
    button.disabled = true;
    post(box.getAttribute("data-begin"), {}).then(function (start) {
      var pk = start.publicKey;
      pk.challenge = bytes(pk.challenge);
      pk.allowCredentials = ids(pk.allowCredentials);
      return navigator.credentials.get({ publicKey: pk }).then(function (cred) {
        return post(box.getAttribute("data-finish"), { handle: start.handle, next: box.getAttribute("data-next"), credential: credentialJSON(cred) });
      });
    }).then(function (done) {
      window.location.assign(done.next);
    }).catch(failed);
  }

  if (mode === "register") {
    box.addEventListener("submit", register);
  } else {
    button.addEventListener("click", signIn);
  }
})();
