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
  // A dialog whose form was sent by htmx closes once the request is on its way.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var dialog = event.target.closest && event.target.closest("dialog");
    if (dialog && dialog.open) { dialog.close(); }
  });

  // A failed htmx request is told in a toast: see "Feedback while working" below.
})();

/* The media library: multi-select with Shift-click ranges, confirmation dialogs, and uploads
   with a progress bar per file (by picker or dropped onto the library). */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  function checks() {
    return Array.prototype.slice.call(document.querySelectorAll(".media-check"));
  }

  function updateSelection() {
    var bar = document.getElementById("media-selection");
    if (!bar) { return; }
    var all = checks();
    var count = all.filter(function (check) { return check.checked; }).length;
    document.getElementById("selection-count").textContent = count === 0
      ? "No items selected"
      : count + (count === 1 ? " item selected" : " items selected");
    bar.querySelectorAll("[data-needs-selection], [data-clear-selection]").forEach(function (button) {
      button.disabled = count === 0;
    });
    var selectPage = bar.querySelector("[data-select-page]");
    if (selectPage) { selectPage.disabled = all.length === 0 || count === all.length; }
    all.forEach(function (check) {
      check.closest(".media-tile").classList.toggle("selected", check.checked);
    });
  }

  var lastClicked = null;
  document.addEventListener("click", function (event) {
    var check = event.target.closest && event.target.closest(".media-check");
    if (check) {
      // Shift-click gives every item between the last one clicked and this one the same state.
      if (event.shiftKey && lastClicked && lastClicked !== check && document.contains(lastClicked)) {
        var all = checks();
        var from = all.indexOf(lastClicked);
        var to = all.indexOf(check);
        for (var index = Math.min(from, to); index <= Math.max(from, to); index++) {
          all[index].checked = check.checked;
        }
      }
      lastClicked = check;
      updateSelection();
      return;
    }
    if (event.target.closest && event.target.closest("[data-select-page]")) {
      checks().forEach(function (box) { box.checked = true; });
      updateSelection();
    } else if (event.target.closest && event.target.closest("[data-clear-selection]")) {
      checks().forEach(function (box) { box.checked = false; });
      lastClicked = null;
      updateSelection();
      var first = checks()[0];
      if (first) { first.focus(); }
    }
  });
  document.addEventListener("DOMContentLoaded", updateSelection);
  document.addEventListener("htmx:afterSettle", updateSelection);

  // A confirmation loaded into a dialog opens it; one sent back with a problem opens it again.
  document.addEventListener("htmx:afterSettle", function (event) {
    var content = event.detail.target && event.detail.target.querySelector &&
      event.detail.target.querySelector("[data-show-dialog]");
    if (!content) {
      // The confirmed change is done and its button may now be disabled: keep focus in the grid.
      if (event.detail.target && event.detail.target.id === "media-dialog-body") {
        var next = document.querySelector(".media-check") || document.getElementById("main");
        if (next) { next.focus(); }
      }
      return;
    }
    var dialog = content.closest("dialog");
    if (dialog && !dialog.open) { dialog.showModal(); }
    var focus = content.querySelector("[autofocus], input[type=radio]:checked, .button.primary, .button.danger, [data-dialog-close]");
    if (focus) { focus.focus(); }
  });

  // --- uploads -----------------------------------------------------------------------------------

  var queue = [];
  var sending = false;

  function problemOf(xhr) {
    if (xhr.status === 422 || xhr.status === 413) {
      var text = new DOMParser().parseFromString(xhr.responseText, "text/html").body.textContent.trim();
      if (text) { return text; }
    }
    if (xhr.status === 400) { return "The page expired. Reload it and upload again."; }
    if (xhr.status === 403) { return "You are not allowed to upload here."; }
    return "The upload failed (error " + xhr.status + "). Try again.";
  }

  function finish(row, text, failed) {
    row.classList.add(failed ? "failed" : "done");
    row.querySelector(".upload-status").textContent = text;
    if (failed) { row.querySelector(".upload-status").setAttribute("role", "alert"); }
  }

  function sendNext() {
    if (sending || queue.length === 0) { return; }
    sending = true;
    var job = queue.shift();
    var form = document.getElementById("upload-form");
    var data = new FormData();
    data.append("csrf_token", form.querySelector("[name=csrf_token]").value);
    data.append("files", job.file, job.file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("HX-Request", "true");
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) {
        job.bar.value = Math.round((event.loaded / event.total) * 100);
        job.row.querySelector(".upload-status").textContent = job.bar.value + "%";
      }
    });
    xhr.addEventListener("load", function () {
      if (xhr.status === 201) {
        job.bar.value = 100;
        finish(job.row, "Uploaded", false);
        if (document.getElementById("media-grid")) {
          htmx.swap("#media-grid", xhr.responseText, { swapStyle: "afterbegin", swapDelay: 0, settleDelay: 0 }, {});
        }
      } else {
        finish(job.row, problemOf(xhr), true);
      }
      sending = false;
      sendNext();
    });
    xhr.addEventListener("error", function () {
      finish(job.row, "Roster could not be reached. Check your connection and try again.", true);
      sending = false;
      sendNext();
    });
    job.row.querySelector(".upload-status").textContent = "0%";
    xhr.send(data);
  }

  function upload(files) {
    var form = document.getElementById("upload-form");
    var list = document.getElementById("upload-queue");
    if (!form || !list) { return; }
    var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10);
    Array.prototype.forEach.call(files, function (file) {
      var row = document.createElement("li");
      row.className = "upload-row";
      var name = document.createElement("span");
      name.className = "upload-name";
      name.textContent = file.name;
      var bar = document.createElement("progress");
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute("aria-label", "Upload of " + file.name);
      var status = document.createElement("span");
      status.className = "upload-status";
      status.textContent = "Waiting";
      row.append(name, bar, status);
      list.append(row);
      if (file.size > maxBytes) {
        finish(row, "“" + file.name + "” is larger than " + form.getAttribute("data-max-size") +
          ", the most a file may be.", true);
        return;
      }
      queue.push({ file: file, row: row, bar: bar });
    });
    sendNext();
  }

  document.addEventListener("change", function (event) {
    if (event.target.id === "upload-files" && event.target.files.length) {
      upload(event.target.files);
      event.target.value = "";
    }
  });

  function dropZone(event) {
    var zone = event.target.closest && event.target.closest("[data-upload-target=true]");
    var carriesFiles = event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") >= 0;
    return zone && carriesFiles ? zone : null;
  }
  document.addEventListener("dragover", function (event) {
    var zone = dropZone(event);
    if (zone) {
      event.preventDefault();
      zone.classList.add("drop-active");
    }
  });
  document.addEventListener("dragleave", function (event) {
    var zone = dropZone(event);
    if (zone && !zone.contains(event.relatedTarget)) { zone.classList.remove("drop-active"); }
  });
  document.addEventListener("drop", function (event) {
    var zone = dropZone(event);
    if (zone) {
      event.preventDefault();
      zone.classList.remove("drop-active");
      upload(event.dataTransfer.files);
    }
  });
})();

/* Organize: profiles and sets are dragged (SortableJS) or sent with "Move to…"; the staged moves
   are read from where each chip and card now sits compared with where the server put it. */
(function () {
  "use strict";

  function board() { return document.querySelector("[data-organize]"); }

  function stagedMoves(root) {
    var moves = [];
    root.querySelectorAll(".set-card").forEach(function (card) {
      var list = card.closest(".set-list");
      if (list.getAttribute("data-group-id") !== card.getAttribute("data-origin-group")) {
        moves.push({ kind: "set", id: +card.getAttribute("data-set-id"), to: +list.getAttribute("data-group-id"),
                     version: +card.getAttribute("data-version") });
      }
    });
    root.querySelectorAll(".chip").forEach(function (chip) {
      var list = chip.closest(".chip-list");
      if (list.getAttribute("data-set-id") !== chip.getAttribute("data-origin-set")) {
        moves.push({ kind: "profile", id: +chip.getAttribute("data-profile-id"), to: +list.getAttribute("data-set-id"),
                     version: +chip.getAttribute("data-version"),
                     to_version: +list.closest(".set-card").getAttribute("data-version") });
      }
    });
    return moves;
  }

  function refresh() {
    var root = board();
    if (!root) { return; }
    var moves = stagedMoves(root);
    root.querySelector("[data-staged-moves]").value = JSON.stringify(moves);
    root.querySelector("[data-save]").disabled = moves.length === 0;
    root.querySelector("[data-discard]").disabled = moves.length === 0;
    root.querySelector("#pending-count").textContent = moves.length === 0
      ? "No changes"
      : moves.length + (moves.length === 1 ? " change" : " changes") + " not saved yet";
    root.querySelectorAll(".set-card").forEach(function (card) {
      card.classList.toggle("staged", card.closest(".set-list").getAttribute("data-group-id") !== card.getAttribute("data-origin-group"));
    });
    root.querySelectorAll(".chip").forEach(function (chip) {
      chip.classList.toggle("staged", chip.closest(".chip-list").getAttribute("data-set-id") !== chip.getAttribute("data-origin-set"));
    });
  }

  function say(text) {
    var message = document.getElementById("organize-message");
    if (!message) { return; }
    message.textContent = text;
    message.className = text ? "organize-message flash flash-error" : "organize-message";
  }

  // A set holds one profile of each network: the slot for the chip's network must be free.
  function slotTaken(list, chip) {
    return Array.prototype.some.call(list.querySelectorAll(".chip"), function (other) {
      return other !== chip && other.getAttribute("data-network") === chip.getAttribute("data-network");
    });
  }

  function slotTakenMessage(list, chip) {
    return "The " + chip.getAttribute("data-network-label") + " slot of “" +
      list.closest(".set-card").getAttribute("data-name") + "” is taken; a social set holds one profile of each network.";
  }

  // Set while the pointer is over a set whose slot is taken: letting go there puts the chip back
  // where the drag started, even if it crossed a set with a free slot on the way.
  var refusedDrop = false;
  // Where the pointer was last seen during a drag: the list under it at the drop is the one the
  // person chose, whether or not SortableJS saw the pointer enter it.
  var lastPointer = null;
  document.addEventListener("dragover", function (event) {
    lastPointer = { x: event.clientX, y: event.clientY };
  });
  // On touch SortableJS follows the finger itself, without dragover events.
  document.addEventListener("touchmove", function (event) {
    if (event.touches.length) { lastPointer = { x: event.touches[0].clientX, y: event.touches[0].clientY }; }
  }, { capture: true, passive: true });

  function listUnderPointer() {
    var under = lastPointer && document.elementFromPoint(lastPointer.x, lastPointer.y);
    return under && under.closest ? under.closest(".chip-list") : null;
  }

  htmx.onLoad(function (element) {
    var root = element.matches && element.matches("[data-organize]") ? element
      : element.querySelector && element.querySelector("[data-organize]");
    // SortableJS comes with the page, or is fetched when htmx brings the board into another page.
    if (root) {
      withSortable(function () {
        root.querySelectorAll(".set-list").forEach(function (list) {
          Sortable.create(list, { group: "sets", handle: ".drag-handle", draggable: ".set-card", animation: 120,
                                  onStart: function () { say(""); }, onEnd: refresh });
        });
        root.querySelectorAll(".chip-list").forEach(function (list) {
          Sortable.create(list, {
            group: "profiles", draggable: ".chip", animation: 120,
            // On touch a chip is held a moment before it moves, so a swipe across the board scrolls it.
            delayOnTouchOnly: true, delay: 200, touchStartThreshold: 6,
            onStart: function () {
              refusedDrop = false;
              lastPointer = null;
              say("");
            },
            onMove: function (event) {
              refusedDrop = event.to !== event.from && slotTaken(event.to, event.dragged);
              if (refusedDrop) { say(slotTakenMessage(event.to, event.dragged)); }
              return !refusedDrop;
            },
            onEnd: function (event) {
              var dropList = listUnderPointer();
              var refusedHere = dropList && dropList !== event.to && slotTaken(dropList, event.item);
              if (refusedHere) { say(slotTakenMessage(dropList, event.item)); }
              if ((refusedDrop || refusedHere) && event.to !== event.from) {
                event.from.insertBefore(event.item, event.from.children[event.oldIndex] || null);
              } else if (event.to !== event.from) {
                say("");  // a drop that was taken: an earlier refusal no longer applies
              }
              refusedDrop = false;
              refresh();
            }
          });
        });
        refresh();
      });
    }
    // The Undo offer goes away when its time is up (the server refuses a late one anyway).
    var toasts = element.querySelectorAll ? element.querySelectorAll(".toast[data-expires-in]") : [];
    toasts.forEach(function (toast) {
      setTimeout(function () { toast.remove(); }, 1000 * +toast.getAttribute("data-expires-in"));
    });
  });

  // "Move to…": the keyboard path, staging exactly what a drag would.
  var moving = null;
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-move-to]");
    var root = board();
    if (!button || !root) { return; }
    var dialog = document.getElementById("move-to-dialog");
    var select = dialog.querySelector("select");
    var chip = button.closest(".chip");
    moving = chip || button.closest(".set-card");
    select.replaceChildren();
    dialog.querySelector("[data-move-to-problem]").textContent = "";
    if (chip) {
      dialog.querySelector("[data-move-to-label]").textContent = "Move " + chip.getAttribute("data-label") + " to";
      root.querySelectorAll(".set-card").forEach(function (card) {
        var list = card.querySelector(".chip-list");
        if (list === chip.closest(".chip-list")) { return; }
        var option = new Option(card.closest(".set-list").getAttribute("data-group-name") + " › " +
          card.getAttribute("data-name"), list.getAttribute("data-set-id"));
        if (slotTaken(list, chip)) {
          option.disabled = true;
          option.textContent += " (" + chip.getAttribute("data-network-label") + " slot taken)";
        }
        select.append(option);
      });
    } else {
      dialog.querySelector("[data-move-to-label]").textContent = "Move the set " + moving.getAttribute("data-name") + " to";
      root.querySelectorAll(".set-list").forEach(function (list) {
        if (list === moving.closest(".set-list")) { return; }
        select.append(new Option(list.getAttribute("data-group-name"), list.getAttribute("data-group-id")));
      });
    }
    var firstFree = Array.prototype.find.call(select.options, function (option) { return !option.disabled; });
    if (firstFree) { select.value = firstFree.value; }
    dialog.showModal();
    select.focus();
  });

  document.addEventListener("submit", function (event) {
    if (!event.target.matches("[data-move-to-form]")) { return; }
    event.preventDefault();
    var root = board();
    var dialog = document.getElementById("move-to-dialog");
    var value = dialog.querySelector("select").value;
    var problem = dialog.querySelector("[data-move-to-problem]");
    if (!root || !moving || !value) {
      problem.textContent = "There is nowhere to move it.";
      return;
    }
    if (moving.classList.contains("chip")) {
      var list = root.querySelector('.chip-list[data-set-id="' + value + '"]');
      if (slotTaken(list, moving)) {
        problem.textContent = slotTakenMessage(list, moving);
        return;
      }
      list.append(moving);
    } else {
      root.querySelector('.set-list[data-group-id="' + value + '"]').append(moving);
    }
    dialog.close();
    say("");
    refresh();
    moving.querySelector("[data-move-to]").focus();
  });
})();

/* Composer: the caption's length against the strictest chosen network, as the person types. */
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
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-composer]").forEach(updateCount);
  });
})();

/* Calendar: a post dragged (SortableJS) to another day is sent with the calendar's move form, so the
   server keeps its time of day; the answer, a refusal included, redraws the calendar. Reschedule links
   open their form in a dialog, fetched when asked for. */
(function () {
  "use strict";

  // Where the pointer (a mouse's drag or a finger) was last seen while a post is dragged.
  var dragging = false;
  var pointer = null;

  function dayUnderPointer() {
    var under = pointer && document.elementFromPoint(pointer.x, pointer.y);
    return under && under.closest ? under.closest("#calendar li.day[data-date]") : null;
  }

  function markDropDay(day) {
    document.querySelectorAll("#calendar li.day.drop-day").forEach(function (other) {
      if (other !== day) { other.classList.remove("drop-day"); }
    });
    if (day) { day.classList.add("drop-day"); }
  }

  function follow(x, y) {
    if (!dragging) { return null; }
    pointer = { x: x, y: y };
    var day = dayUnderPointer();
    markDropDay(day);
    return day;
  }
  // Captured before the lists see them: SortableJS stops a dragover from going further up.
  document.addEventListener("dragover", function (event) {
    // Over any part of a day, its date number included, the browser shows that a drop is welcome.
    if (follow(event.clientX, event.clientY)) { event.preventDefault(); }
  }, true);
  document.addEventListener("touchmove", function (event) {
    if (event.touches.length) { follow(event.touches[0].clientX, event.touches[0].clientY); }
  }, { capture: true, passive: true });
  document.addEventListener("pointermove", function (event) { follow(event.clientX, event.clientY); }, true);

  function dayLists(element) {
    if (!element.querySelectorAll) { return []; }
    var lists = Array.prototype.slice.call(element.querySelectorAll(".day-posts[data-date]"));
    if (element.matches(".day-posts[data-date]")) { lists.push(element); }
    return lists;
  }

  htmx.onLoad(function makeDaysDroppable(element) {
    // SortableJS comes with the page, or is fetched when htmx brings the calendar into another page.
    if (typeof Sortable === "undefined") {
      if (dayLists(element).length) { withSortable(function () { makeDaysDroppable(element); }); }
      return;
    }
    dayLists(element).forEach(function (list) {
      if (Sortable.get(list)) { return; }
      Sortable.create(list, {
        group: "calendar-posts", draggable: ".calendar-post[data-draggable]", sort: false, animation: 120,
        filter: ".reschedule-open", preventOnFilter: false,
        // On touch a post is held a moment before it moves, so a swipe still scrolls the page; a finger
        // that wanders a few pixels while holding still counts as holding.
        delayOnTouchOnly: true, delay: 200, touchStartThreshold: 6,
        onStart: function () { dragging = true; pointer = null; },
        onEnd: function (event) {
          // The day is the one under the pointer when it is let go (its date number included), not the
          // list the post last passed over; let go outside every day, the post goes back unsaved.
          var day = dayUnderPointer();
          dragging = false;
          markDropDay(null);
          if (!day || day.getAttribute("data-date") === event.from.getAttribute("data-date")) {
            if (event.item.parentNode !== event.from) {
              event.from.insertBefore(event.item, event.from.children[event.oldIndex] || null);
            }
            return;
          }
          var list = day.querySelector(".day-posts");
          if (list && event.item.parentNode !== list) { list.append(event.item); }
          var form = document.getElementById("calendar-move");
          var link = event.item.querySelector("a.reschedule-open");
          form.elements.new_date.value = day.getAttribute("data-date");
          form.setAttribute("data-post", event.item.id);
          htmx.ajax("POST", new URL(link.href).pathname, { source: form, target: "#calendar", swap: "outerHTML" });
        }
      });
    });
  });

  // Reschedule opens its form in the dialog; without scripts the link is a page of its own.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.reschedule-open");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) { return; }
    event.preventDefault();
    htmx.ajax("GET", link.href, { source: link, target: "#reschedule-dialog-body", swap: "innerHTML" });
  });

  // The calendar is redrawn after a reschedule: keep focus on the post that was moved (or refused).
  var moving = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form[data-reschedule]");
    if (form) { moving = form.getAttribute("data-post"); }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!moving || !event.detail.target || event.detail.target.id !== "calendar") { return; }
    var post = document.getElementById(moving);
    moving = null;
    var link = post && post.querySelector(".post-link");
    if (link) { link.focus(); }
  });

  // An answer that could not be shown (an expired page, a server error) leaves a dragged post on the
  // day it was dropped on: draw the calendar again as the server has it.
  document.addEventListener("htmx:responseError", function (event) {
    if (!event.detail.elt.matches || !event.detail.elt.matches("form[data-reschedule]")) { return; }
    moving = null;
    htmx.ajax("GET", window.location.href, { target: "#calendar", select: "#calendar", swap: "outerHTML" });
  });
})();

// Settings › Your account: offer the computer's time zone when it is not the one times show in.
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
  htmx.onLoad(suggestZone);

  // First-run setup: an empty zone field starts with the computer's zone, when the list knows it.
  htmx.onLoad(function (root) {
    var fields = root.querySelectorAll ? root.querySelectorAll("input[data-browser-zone]") : [];
    var browserZone;
    try { browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (error) { return; }
    Array.prototype.forEach.call(fields, function (input) {
      var known = input.list && Array.prototype.some.call(input.list.options, function (option) {
        return option.value === browserZone;
      });
      if (!input.value && known) { input.value = browserZone; }
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

// Newcomers: the invite form ticks the default group for staff roles and leaves a client's groups for the
// inviter to choose, until the inviter ticks or unticks a group themselves. A confirmation marked
// data-reveal is scrolled into view when it arrives, so it shows where the person is looking.
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
  htmx.onLoad(function (root) {
    var shown = root.querySelector ? root.querySelector("[data-reveal]") : null;
    if (shown) { shown.scrollIntoView({ block: "nearest" }); }
  });
})();

/* Feedback while working: while an htmx request is out, what it changes and what sent it are marked
   aria-busy, the button that sent it is disabled and spins, and a bar runs along the top; a failure
   says so in a toast, and a failed answer is never swapped in, so what was typed stays. Messages show
   as toasts in view; SortableJS is fetched for a drag page htmx brings into a page that lacks it. */
(function () {
  "use strict";

  var sortableSource = document.currentScript && document.currentScript.getAttribute("data-sortable-src");
  var waitingForSortable = [];
  window.withSortable = function (run) {
    if (typeof Sortable !== "undefined") { run(); return; }
    waitingForSortable.push(run);
    if (waitingForSortable.length > 1 || !sortableSource) { return; }
    var script = document.createElement("script");
    script.src = sortableSource;
    script.addEventListener("load", function () {
      waitingForSortable.splice(0).forEach(function (next) { next(); });
    });
    script.addEventListener("error", function () { waitingForSortable = []; });
    document.head.append(script);
  };

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

/* Undo offers (toasts after a calendar or media move): where the focus goes once Undo has answered,
   and closing a refusal. */
(function () {
  "use strict";

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

/* Media on touch screens, which have no hover to show the checkmarks: "Select" turns selection mode
   on (checkmarks show, a tap on a tile selects it), and a long press on a tile selects it too. */
(function () {
  "use strict";

  var HOLD_MS = 450;
  var hold = null;

  function setSelecting(library, on) {
    library.classList.toggle("selecting", on);
    var button = library.querySelector("[data-select-mode]");
    if (button) { button.setAttribute("aria-pressed", on ? "true" : "false"); }
  }

  document.addEventListener("click", function (event) {
    if (!event.target.closest) { return; }
    var toggle = event.target.closest("[data-select-mode]");
    if (toggle) {
      var library = toggle.closest(".library");
      setSelecting(library, !library.classList.contains("selecting"));
      return;
    }
    // In selection mode a tap anywhere on a tile selects it (or lets it go) instead of opening it.
    var tile = event.target.closest(".library.selecting .media-tile");
    if (!tile || event.target.closest(".media-check")) { return; }
    var check = tile.querySelector(".media-check");
    if (check) {
      event.preventDefault();
      check.click();
    }
  });

  function cancelHold() {
    if (hold) { clearTimeout(hold.timer); }
  }

  document.addEventListener("pointerdown", function (event) {
    cancelHold();
    hold = null;
    if (event.pointerType !== "touch" || !event.target.closest) { return; }
    var tile = event.target.closest(".library .media-tile");
    var check = tile && tile.querySelector(".media-check");
    if (!check || event.target.closest(".media-check")) { return; }
    var held = { x: event.clientX, y: event.clientY, fired: false };
    held.timer = setTimeout(function () {
      held.fired = true;
      setSelecting(tile.closest(".library"), true);
      if (!check.checked) { check.click(); }
    }, HOLD_MS);
    hold = held;
  });
  document.addEventListener("pointermove", function (event) {
    if (hold && !hold.fired && Math.abs(event.clientX - hold.x) + Math.abs(event.clientY - hold.y) > 10) { cancelHold(); }
  });
  function endHold() {
    cancelHold();
    var ended = hold;
    // The tap a long press ends with comes just after; later clicks (a key's included) count again.
    if (ended && ended.fired) { setTimeout(function () { if (hold === ended) { hold = null; } }, 400); }
  }
  document.addEventListener("pointerup", endHold);
  document.addEventListener("pointercancel", endHold);
  // The tap that ends a long press neither opens the tile nor takes the selection back; nor does the
  // long press open the browser's menu for the link.
  document.addEventListener("click", function (event) {
    if (hold && hold.fired) {
      hold = null;
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);
  document.addEventListener("contextmenu", function (event) {
    if (hold && hold.fired && event.target.closest && event.target.closest(".media-tile")) { event.preventDefault(); }
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
