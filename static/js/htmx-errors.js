// htmx swaps nothing for an error response or a failed connection, and says nothing: the
// action looked ignored. Say it in the page's alert box (base.html), in the page's language.
(function () {
  "use strict";
  function box() {
    return document.getElementById("htmx-error");
  }
  function show(kind, detail) {
    var alert = box();
    if (!alert) {
      return;
    }
    alert.textContent = alert.dataset[kind] + (detail ? " (" + detail + ")" : "");
    alert.hidden = false;
  }
  document.addEventListener("htmx:beforeRequest", function () {
    var alert = box();
    if (alert) {
      alert.hidden = true;
    }
  });
  document.addEventListener("htmx:responseError", function (event) {
    show("refused", "HTTP " + event.detail.xhr.status);
  });
  document.addEventListener("htmx:sendError", function () {
    show("unreachable", "");
  });
})();
