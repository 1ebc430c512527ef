// Every button with data-confirm asks first: deleting a photo, a session or an account cannot be undone.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) event.preventDefault();
  }, true);
})();
