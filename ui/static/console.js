// Keyboard shortcuts for the queue: a progressive enhancement. Every
// action has a visible control; this file only adds keys to reach them.
// n take next · j/k move through the list · Enter open · / search · ? help
(function () {
  "use strict";
  var links = Array.prototype.slice.call(document.querySelectorAll("#queue-list tbody th a"));
  var search = document.getElementById("q");
  var take = document.getElementById("take-next");
  var help = document.getElementById("shortcuts");
  var opener = document.getElementById("shortcuts-open");
  var current = -1;

  if (opener) {
    opener.parentNode.hidden = false;
    opener.addEventListener("click", showHelp);
  }

  function showHelp() {
    if (help && typeof help.showModal === "function" && !help.open) {
      help.showModal();
    }
  }

  // typing: a field, or anything editable, has the keyboard.
  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  function select(i) {
    if (links.length === 0) return;
    i = Math.max(0, Math.min(links.length - 1, i));
    if (current >= 0) links[current].closest("tr").classList.remove("selected");
    current = i;
    var row = links[i].closest("tr");
    row.classList.add("selected");
    links[i].focus();
    row.scrollIntoView({ block: "nearest" });
  }

  // Focus moved by Tab or a click keeps j/k in step.
  links.forEach(function (a, i) {
    a.addEventListener("focus", function () {
      if (current !== i) {
        if (current >= 0) links[current].closest("tr").classList.remove("selected");
        current = i;
        a.closest("tr").classList.add("selected");
      }
    });
  });

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    if (help && help.open) return; // the dialog handles its own keys (Esc closes)
    switch (e.key) {
      case "j":
        select(current + 1);
        break;
      case "k":
        select(current < 0 ? 0 : current - 1);
        break;
      case "n":
        if (!take) return;
        if (typeof take.requestSubmit === "function") take.requestSubmit();
        else take.submit();
        break;
      case "/":
        if (!search) return;
        search.focus();
        search.select();
        break;
      case "?":
        showHelp();
        break;
      case "Enter":
        // A focused link opens by itself; a selection without focus opens here.
        if (current < 0 || document.activeElement === links[current]) return;
        links[current].click();
        break;
      default:
        return;
    }
    e.preventDefault();
  });
})();

// On a phone the queue's filters fold away, so the list is on the first
// screen; the page sends them open, which is what a desktop and a browser
// without script keep. The summary names the filters in force.
(function () {
  "use strict";
  if (!window.matchMedia || !window.matchMedia("(max-width: 40rem)").matches) return;
  Array.prototype.forEach.call(document.querySelectorAll("details[data-fold-narrow]"), function (d) {
    d.open = false;
  });
})();
