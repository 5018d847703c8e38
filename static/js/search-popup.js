// The top bar's search results (templates/base.html) close on Escape and on a click outside
// the search; typing again opens them. Without JavaScript the box opens the search page.
(function () {
  "use strict";
  function close() {
    var popup = document.getElementById("search-popup");
    if (popup) {
      popup.replaceChildren();
    }
  }
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && event.target.closest(".global-search")) {
      close();
    }
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest(".global-search")) {
      close();
    }
  });
})();
