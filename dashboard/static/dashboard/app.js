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
    // A page can hold several Copy buttons; each names what it copies in its
    // aria-label, which must say "Copied" too while the text does.
    var named = button.getAttribute("aria-label");
    var done = function () {
      label.textContent = "Copied";
      if (named) button.setAttribute("aria-label", "Copied");
      button.classList.add("copied");
      setTimeout(function () {
        label.textContent = "Copy";
        if (named) button.setAttribute("aria-label", named);
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

  // Route editor: a row's key select offers only keys that serve its provider, and
  // picks the org's own key for it by default, else the platform's, else none.
  // Without JS the server resolves "automatic" the same way (route_forms.resolve_key).
  document.querySelectorAll("select[data-provider-keys]").forEach(function (keys) {
    var provider = keys.form && keys.form.querySelector(
      "select[name='" + keys.name.replace(/provider_key$/, "provider") + "']");
    if (!provider) return;
    var serves = function (option) {
      var providers = option.getAttribute("data-providers");
      return providers === null || providers.split(" ").indexOf(provider.value) >= 0;
    };
    var sync = function (keepChoice) {
      var usable = [];
      Array.prototype.forEach.call(keys.options, function (option) {
        var shown = option.value === "" || serves(option);
        option.hidden = !shown;
        option.disabled = !shown;
        if (shown && option.value !== "") usable.push(option);
      });
      var current = keys.selectedOptions[0];
      if (keepChoice && current && !current.disabled && current.value !== "") return;
      // The org's own keys first; then the platform's key or "no key", whichever serves.
      var own = usable.filter(function (o) { return o.value !== "platform" && o.value !== "none"; });
      var pick = own[0] || usable[0];
      if (pick) pick.selected = true; else keys.value = "";
    };
    provider.addEventListener("change", function () { sync(false); });
    sync(true);
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
