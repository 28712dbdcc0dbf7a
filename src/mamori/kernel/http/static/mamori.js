// mamori staff web app: the CSRF token on every htmx request, and the idle lock warning (seed 001 case 5).
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="mamori-csrf"]');
  if (window.htmx) {
    htmx.config.includeIndicatorStyles = false;
    htmx.config.allowEval = false;
    htmx.config.allowScriptTags = false;
    // refusals (403), not-found (404) and bad input (422) come back as fragments that say why: show them
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "(403|404|422)", swap: true, error: false },
      { code: "...", swap: false, error: true }
    ];
  }
  document.body.addEventListener("htmx:configRequest", function (evt) {
    if (csrf) { evt.detail.headers["X-CSRF-Token"] = csrf.content; }
  });
  var idle = document.querySelector('meta[name="mamori-idle-seconds"]');
  if (!idle) { return; }
  var seconds = parseInt(idle.content, 10);
  var warnAt = Math.max(seconds - 120, Math.floor(seconds / 2));
  var last = Date.now();
  var warning = document.getElementById("idle-warning");
  ["keydown", "mousedown", "touchstart"].forEach(function (name) {
    document.addEventListener(name, function () {
      // the server keeps its own idle clock; any request to it restarts both
      if (warning && !warning.hidden) { fetch("/ping", { credentials: "same-origin" }); }
      last = Date.now();
      if (warning) { warning.hidden = true; }
    }, true);
  });
  setInterval(function () {
    var quiet = (Date.now() - last) / 1000;
    if (quiet >= seconds) { window.location.assign("/locked"); }
    else if (quiet >= warnAt && warning) { warning.hidden = false; }
  }, 1000);
})();
