/* Organize (a module: the board names it with data-module="organize"; SortableJS comes before it):
   profiles and sets are dragged or sent with "Move to…"; the staged moves are read from where each chip
   and card now sits compared with where the server put it. */
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

  Roster.module("organize", function (element) {
    var root = element.matches && element.matches("[data-organize]") ? element
      : element.querySelector && element.querySelector("[data-organize]");
    if (!root) { return; }
    root.querySelectorAll(".set-list").forEach(function (list) {
      if (Sortable.get(list)) { return; }
      Sortable.create(list, { group: "sets", handle: ".drag-handle", draggable: ".set-card", animation: 120,
                              onStart: function () { say(""); }, onEnd: refresh });
    });
    root.querySelectorAll(".chip-list").forEach(function (list) {
      if (Sortable.get(list)) { return; }
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
