/* Roster's small app script: behaviour htmx does not cover, on every page. What only one area uses is a
   module of its own under static/js/, loaded where it is used (see "Script modules" below). No inline
   scripts anywhere. */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

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

  // A <details> open before htmx was ready, opened by a quick click or drawn open, missed the "toggle"
  // that loads what it shows (the switcher's groups, a picker's candidates): send it again once htmx
  // has read the page. Those load once, so a toggle htmx did see is not fetched twice.
  htmx.onLoad(function (element) {
    if (element !== document.body) { return; }
    document.querySelectorAll("details[open]").forEach(function (details) {
      htmx.trigger(details, "toggle");
    });
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
  // A confirmation loaded into a dialog opens it; one sent back with a problem opens it again.
  document.addEventListener("htmx:afterSettle", function (event) {
    var content = event.detail.target && event.detail.target.querySelector &&
      event.detail.target.querySelector("[data-show-dialog]");
    if (!content) { return; }
    var dialog = content.closest("dialog");
    if (dialog && !dialog.open) { dialog.showModal(); }
    var focus = content.querySelector("[autofocus], input[type=radio]:checked, .button.primary, .button.danger, [data-dialog-close]");
    if (focus) { focus.focus(); }
  });
  // A dialog whose form was sent by htmx closes once the request is on its way.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var dialog = event.target.closest && event.target.closest("dialog");
    if (dialog && dialog.open) { dialog.close(); }
  });

  // A failed htmx request is told in a toast: see "Feedback while working" below.
})();

/* Script modules: code that one area uses (static/js/) runs only where it is used. A page names its
   module on an element (data-module="calendar"), and a full page also lists the module's scripts in its
   head, so they have run before htmx reads the page. When htmx brings such a page into another one, the
   module's scripts are fetched here, once each, in the order the server gives them (data-modules on this
   script tag: each module's URLs, from url_for), so SortableJS runs before the modules that drag.
   A module registers its initialiser with Roster.module: it runs once over the whole page when the
   module arrives, then on whatever htmx loads, as an htmx.onLoad handler would. Until it has run, the
   elements that wait for it are busy and inert, so nothing done there is lost to a missing handler. */
(function () {
  "use strict";

  var sources = JSON.parse(document.currentScript.getAttribute("data-modules"));
  var initialisers = {};
  var asked = {};  // script URLs fetched here or found in the page
  var started = false;  // htmx has read the page: a module that arrives later catches up on all of it
  var waiting = {};  // module name: the elements waiting for it

  function ready(name) {
    (waiting[name] || []).forEach(function (holder) {
      holder.removeAttribute("aria-busy");
      holder.inert = false;
    });
    delete waiting[name];
  }

  window.Roster = {
    module: function (name, initialise) {
      initialisers[name] = initialise;
      if (started) { initialise(document.body); }
      ready(name);
    }
  };

  function fetchModule(name, holder) {
    holder.setAttribute("aria-busy", "true");
    holder.inert = true;
    (waiting[name] = waiting[name] || []).push(holder);
    (sources[name] || []).forEach(function (source) {
      if (!asked[source] && !document.querySelector('script[src="' + source + '"]')) {
        var script = document.createElement("script");
        script.src = source;
        script.async = false;  // run in the order given, whichever arrives first
        // Without its module the page still shows and its links and forms work as plain HTML.
        script.addEventListener("error", function () { delete asked[source]; script.remove(); ready(name); });
        document.head.append(script);
      }
      asked[source] = true;
    });
  }

  htmx.onLoad(function (element) {
    started = true;
    Object.keys(initialisers).forEach(function (name) { initialisers[name](element); });
    if (!element.querySelectorAll) { return; }
    var holders = Array.prototype.slice.call(element.querySelectorAll("[data-module]"));
    if (element.matches("[data-module]")) { holders.push(element); }
    holders.forEach(function (holder) {
      var name = holder.getAttribute("data-module");
      if (!initialisers[name]) { fetchModule(name, holder); }
    });
  });
})();

// A card decided in place (data-keep-height) keeps its height while its content changes, so the cards
// below it do not jump under the reader's finger.
document.addEventListener("htmx:beforeSwap", function (event) {
  var card = event.detail.target;
  if (card && card.matches && card.matches("[data-keep-height]") && !card.style.minHeight) {
    // Its height as it sat in the list: a feedback or reason form opened in it does not count.
    card.querySelectorAll("details[open]").forEach(function (details) { details.open = false; });
    card.style.minHeight = card.offsetHeight + "px";
  }
});

/* Feedback while working: while an htmx request is out, what it changes and what sent it are marked
   aria-busy, the button that sent it is disabled and spins, and a bar runs along the top; a failure
   says so in a toast, and a failed answer is never swapped in, so what was typed stays. Messages show
   as toasts in view. */
(function () {
  "use strict";

  // --- in flight ---------------------------------------------------------------------------------

  var busyCount = new Map();  // an element marked busy, and by how many requests
  var inFlight = 0;
  var bar = null;

  function markBusy(element, change) {
    var count = (busyCount.get(element) || 0) + change;
    if (count > 0) {
      busyCount.set(element, count);
      element.setAttribute("aria-busy", "true");
    } else {
      busyCount.delete(element);
      element.removeAttribute("aria-busy");
    }
  }

  function progressBar() {
    if (!bar || !bar.isConnected) {
      bar = document.createElement("div");
      bar.className = "progress-bar";
      bar.setAttribute("aria-hidden", "true");  // aria-busy tells assistive technology
      document.body.append(bar);
    }
    return bar;
  }

  // The button that sent the request: the form's submit buttons, or the button itself. Fields are
  // left alone (their values are already in the request, and the person may go on typing).
  function triggers(source) {
    if (source.tagName === "FORM") {
      return Array.prototype.filter.call(source.elements, function (control) { return control.type === "submit"; });
    }
    return source.tagName === "BUTTON" ? [source] : [];
  }

  // htmx:beforeSend comes once the request is built, so nothing disabled here is left out of it.
  document.addEventListener("htmx:beforeSend", function (event) {
    var source = event.detail.elt;
    var marked = [source, event.detail.target].filter(function (element, index, both) {
      return element && element !== document.body && both.indexOf(element) === index;
    });
    var disabled = triggers(source).filter(function (button) { return !button.disabled; });
    var focused = disabled.indexOf(document.activeElement) >= 0 ? document.activeElement : null;
    marked.forEach(function (element) { markBusy(element, 1); });
    disabled.forEach(function (button) {
      button.disabled = true;
      button.classList.add("is-sending");
    });
    inFlight += 1;
    progressBar().classList.add("active");
    event.detail.xhr.addEventListener("loadend", function () {
      marked.forEach(function (element) { markBusy(element, -1); });
      disabled.forEach(function (button) {
        button.disabled = false;
        button.classList.remove("is-sending");
      });
      // A disabled button loses focus: give it back if nothing else took it meanwhile.
      if (focused && focused.isConnected && (!document.activeElement || document.activeElement === document.body)) {
        focused.focus({ preventScroll: true });
      }
      inFlight -= 1;
      if (inFlight === 0) { progressBar().classList.remove("active"); }
    });
  });

  // --- toasts --------------------------------------------------------------------------------------

  var SUCCESS_SECONDS = 8;

  function toastRegion() {
    var region = document.getElementById("flashes");
    if (!region) {
      region = document.createElement("div");
      region.id = "flashes";
      region.className = "flashes toasts";
      region.setAttribute("aria-live", "polite");
      document.body.append(region);
    }
    return region;
  }

  // Each message gets a Dismiss button; good news goes by itself unless the pointer or focus is on it.
  function asToast(message) {
    if (message.querySelector(".toast-dismiss")) { return; }
    var dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.className = "toast-dismiss";
    dismiss.setAttribute("aria-label", "Dismiss this message");
    dismiss.addEventListener("click", function () { message.remove(); });
    message.append(dismiss);
    if (message.classList.contains("flash-success") || message.classList.contains("flash-info")) {
      var fade = function () {
        if (message.matches(":hover, :focus-within")) { setTimeout(fade, 2000); } else { message.remove(); }
      };
      setTimeout(fade, SUCCESS_SECONDS * 1000);
    }
  }

  htmx.onLoad(function (element) {
    if (!element.querySelectorAll) { return; }
    var messages = element.matches("#flashes .flash") ? [element] : element.querySelectorAll("#flashes .flash");
    messages.forEach(asToast);
  });

  // The words an error response offers (errors/_message.html), if any.
  function serverMessage(xhr) {
    if ((xhr.getResponseHeader("Content-Type") || "").indexOf("text/html") !== 0) { return null; }
    var said = new DOMParser().parseFromString(xhr.responseText, "text/html").querySelector("[data-error-message]");
    return said ? said.textContent.trim() : null;
  }

  function failureWords(status) {
    if (status === 403) { return "You are not allowed to do that here."; }
    if (status === 404) { return "That is no longer here. Reload the page to see what changed."; }
    if (status >= 500) { return "Something went wrong on our side, so that did not go through. Try again in a moment."; }
    return "That did not go through (error " + status + "). Try again.";
  }

  // A failure from a form in a dialog is said in the dialog, opened again with what was typed in it.
  function sayFailure(source, text, reassure) {
    var form = source.closest && source.closest("form");
    if (reassure && form && form.querySelector("textarea, input:not([type=hidden]):not([type=checkbox]):not([type=radio])")) {
      text += " What you typed is still here.";
    }
    var message = document.createElement("p");
    message.className = "flash flash-error";
    message.setAttribute("role", "alert");
    message.setAttribute("data-request-problem", "");
    message.textContent = text;
    var dialog = source.closest && source.closest("dialog");
    if (dialog && dialog.isConnected) {
      var old = dialog.querySelector("[data-request-problem]");
      if (old) { old.remove(); }
      (form || dialog).prepend(message);
      if (!dialog.open) { dialog.showModal(); }
      return;
    }
    asToast(message);
    toastRegion().replaceChildren(message);
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var said = serverMessage(xhr);
    sayFailure(event.detail.elt, said || failureWords(xhr.status), !said);
  });
  document.addEventListener("htmx:sendError", function (event) {
    sayFailure(event.detail.elt, "Roster could not be reached. Check your connection and try again.", true);
  });
})();

/* Undo offers (toasts after a calendar, media or Organize change): they go away when their time is up,
   focus goes where it belongs once Undo has answered, and a refusal closes. */
(function () {
  "use strict";

  // The Undo offer goes away when its time is up (the server refuses a late one anyway).
  htmx.onLoad(function (element) {
    var toasts = element.querySelectorAll ? element.querySelectorAll(".toast[data-expires-in]") : [];
    toasts.forEach(function (toast) {
      setTimeout(function () { toast.remove(); }, 1000 * +toast.getAttribute("data-expires-in"));
    });
  });

  var focusAfter = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form[data-undo]");
    if (form) { focusAfter = form.getAttribute("data-undo-focus") || ""; }
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (focusAfter === null) { return; }
    var refusal = document.querySelector(".toast-error [data-toast-close]");
    var target = refusal || (focusAfter && document.querySelector(focusAfter)) || document.getElementById("main");
    focusAfter = null;
    if (target) { target.focus(); }
  });
  document.addEventListener("click", function (event) {
    var closer = event.target.closest && event.target.closest("[data-toast-close]");
    if (closer) { closer.closest(".toast").remove(); }
  });
})();

/* The phone and tablet menu: the navigation panel is a popover (the browser closes it on Escape and
   on a tap outside); this keeps the Menu button's aria-expanded true to it, puts focus on the first
   link when it opens, and closes it when a link is followed, before Back saves the page, or when the
   window grows to desktop width, where the sidebar shows the navigation itself. */
(function () {
  "use strict";

  function menu() { return document.getElementById("sidebar-menu"); }
  function isOpen(panel) { return panel && panel.matches(":popover-open"); }
  function close() {
    var panel = menu();
    if (isOpen(panel)) { panel.hidePopover(); }
  }

  document.addEventListener("toggle", function (event) {
    var panel = event.target;
    if (panel.id !== "sidebar-menu") { return; }
    var open = event.newState === "open";
    document.querySelectorAll('[aria-controls="sidebar-menu"]').forEach(function (button) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
    if (open) {
      var first = panel.querySelector('.nav a[aria-current="page"]') || panel.querySelector(".nav a");
      if (first) { first.focus(); }
    }
  }, true);

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("#sidebar-menu a")) { close(); }
  });
  document.addEventListener("htmx:beforeHistorySave", close);
  var desktop = window.matchMedia("(min-width: 768px)");
  desktop.addEventListener("change", function (change) { if (change.matches) { close(); } });
})();
