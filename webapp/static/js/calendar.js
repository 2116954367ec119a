/* Calendar (a module: the calendar names it with data-module="calendar"; SortableJS comes before it):
   a post dragged to another day is sent with the calendar's move form, so the server keeps its time of
   day; the answer, a refusal included, redraws the calendar. Reschedule links open their form in a
   dialog, fetched when asked for. */
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

  Roster.module("calendar", function (element) {
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
