// The status page's copy button: a progressive enhancement. Without
// script (or without a clipboard, as on plain HTTP) the button is a link
// to ?copy=1, where the address stands selected in a field to copy by hand.
(function () {
  "use strict";
  var field = document.querySelector("input[data-select]");
  if (field) {
    field.focus();
    field.select();
    field.addEventListener("focus", function () { field.select(); });
  }
  var button = document.querySelector("a[data-copy]");
  if (!button || !navigator.clipboard || !window.isSecureContext) {
    return;
  }
  button.setAttribute("role", "button");
  button.addEventListener("click", function (e) {
    e.preventDefault();
    navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
      button.textContent = button.getAttribute("data-copied");
      button.setAttribute("aria-live", "polite");
    }, function () {
      window.location.href = button.href; // the page that works without a clipboard
    });
  });
})();
