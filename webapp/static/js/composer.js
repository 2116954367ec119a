/* The composer (a module: the form names it with data-module="composer"): the caption's length against the
   strictest chosen network, as the person types. */
(function () {
  "use strict";

  var NETWORK_NAMES = {
    instagram: "Instagram", facebook: "Facebook", tiktok: "TikTok", linkedin: "LinkedIn", x: "X",
    pinterest: "Pinterest", youtube: "YouTube", threads: "Threads", google_business: "Google Business Profile"
  };

  function updateCount(composer) {
    var caption = composer.querySelector("#caption");
    var counter = composer.querySelector("#caption-count");
    if (!caption || !counter) { return; }
    var limits = JSON.parse(caption.getAttribute("data-limits"));
    var networks = caption.hasAttribute("data-network") ? [caption.getAttribute("data-network")] :
      Array.prototype.map.call(composer.querySelectorAll("input[name=profiles]:checked"), function (box) {
        return box.getAttribute("data-network");
      });
    var length = caption.value.length;
    var strictest = null;
    networks.forEach(function (network) {
      if (strictest === null || limits[network] < limits[strictest]) { strictest = network; }
    });
    if (strictest === null) {
      counter.textContent = length + " characters";
      counter.classList.remove("caption-over");
      return;
    }
    var left = limits[strictest] - length;
    counter.textContent = length + " / " + limits[strictest] + " characters (" + NETWORK_NAMES[strictest] + ")" +
      (left < 0 ? ": " + (-left) + " too many" : "");
    counter.classList.toggle("caption-over", left < 0);
  }

  document.addEventListener("input", function (event) {
    var composer = event.target.closest && event.target.closest("[data-composer]");
    if (composer && event.target.id === "caption") { updateCount(composer); }
  });
  document.addEventListener("change", function (event) {
    var composer = event.target.closest && event.target.closest("[data-composer]");
    if (composer && event.target.name === "profiles") { updateCount(composer); }
  });
  Roster.module("composer", function (element) {
    var composers = element.querySelectorAll ? Array.prototype.slice.call(element.querySelectorAll("[data-composer]")) : [];
    if (element.matches && element.matches("[data-composer]")) { composers.push(element); }
    composers.forEach(updateCount);
  });
})();
