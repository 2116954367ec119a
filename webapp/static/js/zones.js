/* Time zones (a module: Your account's suggestion and first-run setup name it with data-module="zones"):
   offer the computer's time zone when it is not the one times show in. */
(function () {
  "use strict";
  function suggestZone(root) {
    var forms = root.querySelectorAll ? root.querySelectorAll("form[data-zone-suggestion]") : [];
    var browserZone;
    try { browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (error) { return; }
    Array.prototype.forEach.call(forms, function (form) {
      if (!browserZone || browserZone === form.getAttribute("data-current-zone")) { form.hidden = true; return; }
      form.querySelector("input[name=time_zone]").value = browserZone;
      var city = browserZone.split("/").pop().replace(/_/g, " ");
      form.querySelector("[data-zone-suggestion-text]").textContent = "Your computer is on " + city + " time: use it?";
      form.querySelector("button").textContent = "Use " + browserZone;
      form.hidden = false;
    });
  }

  // First-run setup: an empty zone field starts with the computer's zone, when the list knows it.
  function offerBrowserZone(root) {
    var fields = root.querySelectorAll ? root.querySelectorAll("input[data-browser-zone]") : [];
    var browserZone;
    try { browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (error) { return; }
    Array.prototype.forEach.call(fields, function (input) {
      var known = input.list && Array.prototype.some.call(input.list.options, function (option) {
        return option.value === browserZone;
      });
      if (!input.value && known) { input.value = browserZone; }
    });
  }

  Roster.module("zones", function (root) {
    suggestZone(root);
    offerBrowserZone(root);
  });
})();
