// The breached-password check (templates/passwords/check.html). The password is hashed here
// with SHA-1; only the first 5 hex digits of the hash are sent (GET /range/XXXXX, padded, no
// cookies); the other 35 are compared here. The password and its full hash never leave the
// browser.
(function () {
  'use strict';
  var form = document.getElementById('password-check');
  if (!form || !window.crypto || !window.crypto.subtle || !window.fetch || !window.TextEncoder) {
    return;
  }
  var fallback = document.getElementById('password-check-fallback');
  var input = document.getElementById('password-to-check');
  var result = document.getElementById('password-check-result');
  form.hidden = false;
  if (fallback) {
    fallback.hidden = true;
  }

  function hex(buffer) {
    var bytes = new Uint8Array(buffer);
    var out = '';
    for (var i = 0; i < bytes.length; i++) {
      out += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
    }
    return out.toUpperCase();
  }

  function show(outcome, text, count) {
    result.textContent = '';
    var p = document.createElement('p');
    p.className = outcome === 'found' ? 'error-message' : 'body';
    p.textContent = text;
    result.appendChild(p);
    result.setAttribute('data-outcome', outcome);
    if (count !== undefined) {
      result.setAttribute('data-count', String(count));
    } else {
      result.removeAttribute('data-count');
    }
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var password = input.value;
    if (!password) {
      show('empty', 'Enter a password to check.');
      return;
    }
    show('checking', 'Checking…');
    crypto.subtle.digest('SHA-1', new TextEncoder().encode(password))
      .then(function (digest) {
        var hash = hex(digest);
        var prefix = hash.slice(0, 5);
        var suffix = hash.slice(5);
        return fetch(form.getAttribute('data-range') + prefix, {
          method: 'GET',
          headers: { 'Add-Padding': 'true' },
          credentials: 'omit',
          referrerPolicy: 'no-referrer'
        }).then(function (response) {
          if (response.status === 429) {
            throw new Error('busy');
          }
          if (!response.ok) {
            throw new Error('unavailable');
          }
          return response.text();
        }).then(function (body) {
          var count = 0;
          body.split('\n').forEach(function (line) {
            var parts = line.trim().split(':');
            if (parts.length === 2 && parts[0].toUpperCase() === suffix) {
              count = parseInt(parts[1], 10) || 0;
            }
          });
          if (count > 0) {
            show('found', 'Found ' + count.toLocaleString('en-GB') + ' times in data breaches. ' +
              'Do not use this password. If you use it anywhere, change it there now.', count);
          } else {
            show('not-found', 'Not found in the list of breached passwords. That does not make ' +
              'it strong: use a long password you use nowhere else.', 0);
          }
        });
      })
      .catch(function (error) {
        show('error', error && error.message === 'busy'
          ? 'Too many checks from your connection. Wait a minute and try again.'
          : 'The check is not available right now. Try again later.');
      });
  });
}());
