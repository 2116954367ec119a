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
    var focus = content.querySelector("input[type=radio]:checked, .button.primary, .button.danger, [data-dialog-close]");
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
