// notme's "did you mean …?" helper for a sign-up form. On the form's page:
//
//   <input type="email" name="email" data-notme-suggest>
//   <script src="https://DESK/static/suggest.js" data-desk="https://DESK" defer></script>
//
// When the address is left (or changed), the desk's public helper is asked
// for a typo suggestion; a suggestion shows under the field with a button
// that puts it in. The helper knows typos only: it tells nothing of who
// reported what. The page's origin must be in guard.suggest_origins.
(function () {
  "use strict";
  var me = document.currentScript;
  var desk = ((me && me.getAttribute("data-desk")) || "").replace(/\/$/, "");
  var lang = document.documentElement.lang || "";
  var inputs = document.querySelectorAll("input[data-notme-suggest]");
  Array.prototype.forEach.call(inputs, function (input) {
    var note = document.createElement("p");
    note.className = "notme-suggest";
    note.setAttribute("aria-live", "polite");
    note.hidden = true;
    input.insertAdjacentElement("afterend", note);
    var asked = "";
    function ask() {
      var typed = input.value.trim();
      if (typed === asked) {
        return;
      }
      asked = typed;
      if (typed.indexOf("@") < 1) {
        note.hidden = true;
        return;
      }
      var url = desk + "/api/v1/suggest?address=" + encodeURIComponent(typed) + "&lang=" + encodeURIComponent(lang);
      fetch(url, { credentials: "omit" }).then(function (r) {
        return r.ok ? r.json() : null;
      }).then(function (a) {
        if (!a || !a.suggestion || input.value.trim() !== typed) {
          note.hidden = true;
          return;
        }
        var use = document.createElement("button");
        use.type = "button";
        use.textContent = a.use;
        use.addEventListener("click", function () {
          input.value = a.suggestion;
          asked = a.suggestion;
          note.hidden = true;
          input.focus();
        });
        note.textContent = a.text + " ";
        note.appendChild(use);
        note.hidden = false;
      }).catch(function () {
        note.hidden = true; // no helper, no hint: the form works as before
      });
    }
    input.addEventListener("blur", ask);
    input.addEventListener("change", ask);
  });
})();
