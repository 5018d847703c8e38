// A list's search form sends its filters with every search; those left at "any" are empty and
// stay out of the request and of the URL htmx pushes (?q=bor, not ?q=bor&status=&format=).
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.verb !== "get") {
      return;
    }
    var params = event.detail.parameters;
    var names = typeof params.keys === "function" ? Array.from(params.keys()) : Object.keys(params);
    names.forEach(function (name) {
      var value = typeof params.get === "function" ? params.get(name) : params[name];
      if (value === "" && name !== "q") {
        if (typeof params.delete === "function") {
          params.delete(name);
        } else {
          delete params[name];
        }
      }
    });
  });
})();
