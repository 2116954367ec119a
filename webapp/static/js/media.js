/* The media library (a module: pages name it with data-module="media"): multi-select with Shift-click
   ranges, uploads with a progress bar per file (by picker or dropped onto the library), and selection on
   touch screens. */
(function () {
  "use strict";

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
  Roster.module("media", updateSelection);
  document.addEventListener("htmx:afterSettle", updateSelection);

  // The confirmed change is done and its button may now be disabled: keep focus in the grid.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (target && target.id === "media-dialog-body" && !target.querySelector("[data-show-dialog]")) {
      var next = document.querySelector(".media-check") || document.getElementById("main");
      if (next) { next.focus(); }
    }
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

  // --- touch screens -------------------------------------------------------------------------------
  // Touch screens have no hover to show the checkmarks: "Select" turns selection mode on (checkmarks
  // show, a tap on a tile selects it), and a long press on a tile selects it too.

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
