// The header checkbox of a list with a bulk bar (mailboxes/_select_all.html) ticks every row
// of the page; hidden without JavaScript, where each row is ticked by hand.
(function () {
  "use strict";
  function reveal(root) {
    root.querySelectorAll("input[data-select-all][hidden]").forEach(function (box) {
      box.hidden = false;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    reveal(document);
  });
  document.addEventListener("htmx:load", function (event) {
    reveal(event.target);
  });
  document.addEventListener("change", function (event) {
    var box = event.target.closest("input[data-select-all]");
    if (!box) {
      return;
    }
    var rows = document.querySelectorAll(
      'input[type="checkbox"][name="pk"][form="' + box.dataset.selectAll + '"]'
    );
    rows.forEach(function (row) {
      row.checked = box.checked;
    });
  });
})();
