// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Copy buttons: <button data-copy="#element-id">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var target = document.querySelector(button.getAttribute("data-copy"));
    if (!target) return;
    var text = "value" in target ? target.value : target.textContent;
    var label = button.querySelector("span") || button;
    var done = function () {
      label.textContent = "Copied";
      button.classList.add("copied");
      setTimeout(function () {
        label.textContent = "Copy";
        button.classList.remove("copied");
      }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {});
    } else {
      // Plain-HTTP deployments have no Clipboard API; select the text for Ctrl-C instead.
      if (target.select) target.select();
      try { if (document.execCommand("copy")) done(); } catch (e) { /* selected is enough */ }
    }
  });

  // Role pickers save on change; the Save button stays for browsers without JS.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    var fallback = select.form && select.form.querySelector("[data-autosubmit-fallback]");
    if (fallback) fallback.hidden = true;
    select.addEventListener("change", function () { select.form.requestSubmit(); });
  });

  // Budget form: offer only the objects of the chosen scope (one <optgroup data-scope> per scope).
  document.querySelectorAll("select[data-scope-objects]").forEach(function (objects) {
    var scope = objects.form && objects.form.querySelector("select[name='scope']");
    if (!scope) return;
    var groups = objects.querySelectorAll("optgroup");
    var sync = function () {
      var shown = null;
      Array.prototype.forEach.call(groups, function (group) {
        var match = group.getAttribute("data-scope") === scope.value;
        group.hidden = !match;
        group.disabled = !match;
        if (match) shown = group;
      });
      var current = objects.selectedOptions[0];
      if (shown && (!current || current.parentNode !== shown)) {
        var first = shown.querySelector("option");
        if (first) first.selected = true;
      }
    };
    scope.addEventListener("change", sync);
    sync();
  });

  // Close the org switcher when clicking elsewhere or pressing Escape.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.switcher[open]").forEach(function (details) {
      if (!details.contains(event.target)) details.open = false;
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.switcher[open]").forEach(function (details) {
      details.open = false;
    });
  });
})();
