/* Roster's small app script: behaviour htmx does not cover. No inline scripts anywhere. */
(function () {
  "use strict";

  // Close the access group switcher when the user clicks elsewhere or presses Escape.
  document.addEventListener("click", function (event) {
    var switcher = document.getElementById("switcher");
    if (switcher && switcher.open && !switcher.contains(event.target)) {
      switcher.open = false;
    }
  });
  document.addEventListener("keydown", function (event) {
    var switcher = document.getElementById("switcher");
    if (event.key === "Escape" && switcher && switcher.open) {
      switcher.open = false;
      switcher.querySelector("summary").focus();
    }
  });

  // Close the switcher before htmx saves the page for the back button, so Back does not reopen it.
  document.addEventListener("htmx:beforeHistorySave", function () {
    var switcher = document.getElementById("switcher");
    if (switcher) { switcher.open = false; }
  });

  // When the switcher opens, put the cursor in its filter box if it has one.
  document.addEventListener("toggle", function (event) {
    if (event.target.id === "switcher" && event.target.open) {
      var filter = document.getElementById("switcher-filter");
      if (filter) { filter.focus(); }
    }
  }, true);

  // After the main content is swapped, move focus there so screen readers announce the new page.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "main") {
      event.detail.target.focus({ preventScroll: true });
      window.scrollTo(0, 0);
    }
  });

  // Confirmation dialogs: a button with data-dialog-open="ID" opens <dialog id="ID"> as a modal
  // (focus moves into it, Escape closes it); data-dialog-close closes the dialog it sits in.
  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-dialog-open]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-dialog-open"));
      if (dialog && !dialog.open) { dialog.showModal(); }
      return;
    }
    var closer = event.target.closest("[data-dialog-close]");
    if (closer) {
      var parent = closer.closest("dialog");
      if (parent) { parent.close(); }
    }
  });
  // A dialog whose form was sent by htmx closes once the request is on its way.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var dialog = event.target.closest && event.target.closest("dialog");
    if (dialog && dialog.open) { dialog.close(); }
  });

  // A failed htmx request says so instead of failing silently.
  document.addEventListener("htmx:responseError", function (event) {
    var flashes = document.getElementById("flashes");
    if (!flashes) { return; }
    var message = document.createElement("p");
    message.className = "flash flash-error";
    message.textContent = event.detail.xhr.status === 403
      ? "You are not allowed to do that here."
      : "That did not work (error " + event.detail.xhr.status + "). Reload the page and try again.";
    flashes.replaceChildren(message);
  });
  document.addEventListener("htmx:sendError", function () {
    var flashes = document.getElementById("flashes");
    if (!flashes) { return; }
    var message = document.createElement("p");
    message.className = "flash flash-error";
    message.textContent = "Roster could not be reached. Check your connection and try again.";
    flashes.replaceChildren(message);
  });
})();
