/* The invite form (a module: the form names it with data-module="invite"): it ticks the default group for
   staff roles and leaves a client's groups for the inviter to choose, until the inviter ticks or unticks a
   group themselves. A confirmation marked data-reveal is scrolled into view when it arrives, so it shows
   where the person is looking. */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var input = event.target;
    var form = input.closest && input.closest("form[data-invite-form]");
    if (!form) { return; }
    if (input.name === "access_groups") { form.setAttribute("data-groups-chosen", ""); return; }
    if (input.name !== "role" || form.hasAttribute("data-groups-chosen")) { return; }
    var defaultGroup = form.querySelector("input[data-default-group]");
    if (defaultGroup) { defaultGroup.checked = input.getAttribute("data-staff-role") === "true"; }
  });
  Roster.module("invite", function (root) {
    var shown = root.querySelector ? root.querySelector("[data-reveal]") : null;
    if (shown) { shown.scrollIntoView({ block: "nearest" }); }
  });
})();
