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
