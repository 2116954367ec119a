/* The composer (a module: the form names it with data-module="composer"): as the person types and
   attaches, the post is checked against the rules of each chosen profile's network, which the form
   carries in data-rules (webapp/network_rules.py, with its sentences): the text's length as each network
   counts it, and what each network says of the attachments. The server checks the same rules when the
   post is scheduled; these only say it sooner, so Schedule stays enabled. The network options show
   while a profile they apply to is chosen. */
(function () {
  "use strict";

  var segmenter = window.Intl && Intl.Segmenter ? new Intl.Segmenter("en", { granularity: "grapheme" }) : null;
  var MB = 1024 * 1024;
  var GB = 1024 * MB;

  // What a reader sees as one character (code points where the browser cannot segment text).
  function graphemes(text) {
    return segmenter ? Array.from(segmenter.segment(text)).length : Array.from(text).length;
  }

  function number(value) { return value.toLocaleString("en-US"); }

  // A file's size in its limit's unit, rounded up as the server does.
  function size(bytes, limit) {
    if (limit % GB === 0) { return (Math.ceil(bytes * 10 / GB) / 10).toFixed(1) + " GB"; }
    if (limit % MB === 0) { return (Math.ceil(bytes * 10 / MB) / 10).toFixed(1) + " MB"; }
    return number(bytes) + " bytes";
  }

  function say(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  // The text as Mastodon counts it: each link as a fixed length, each mention by its local part.
  function mastodonText(text, urlLength, patterns) {
    var linkEnd = new RegExp(patterns.linkEnd, "u");
    var shortened = text.replace(new RegExp(patterns.link, "giu"), function (whole) {
      var kept = whole;
      while (kept && (!linkEnd.test(kept.slice(-1)) ||
                      (kept.slice(-1) === ")" && kept.split("(").length < kept.split(")").length))) {
        kept = kept.slice(0, -1);
      }
      if (kept.indexOf("://") === -1 || /:\/\/$/.test(kept)) { return whole; }
      return new Array(urlLength + 1).join("x") + whole.slice(kept.length);
    });
    return shortened.replace(new RegExp(patterns.mention, "giu"), function (whole, local) { return "@" + local; });
  }

  function length(rules, text, warning, patterns) {
    if (rules.counting === "graphemes") { return graphemes(text); }
    if (rules.counting === "mastodon") { return graphemes(warning + mastodonText(text, rules.urlLength, patterns)); }
    return Array.from(text).length;
  }

  function textProblems(rules, count, warning) {
    if (count <= rules.max) { return []; }
    return [say(warning ? rules.say.longWithWarning : rules.say.long, { count: number(count) })];
  }

  function itemProblems(rules, item) {
    var facts = { item: item.name, width: item.width, height: item.height };
    if (rules.kinds.indexOf(item.kind) === -1) { return [say(rules.say.video, facts)]; }
    if (item.kind === "video") {
      return rules.videoBytes && item.bytes > rules.videoBytes ?
        [say(rules.say.videoBytes, { item: item.name, size: size(item.bytes, rules.videoBytes) })] : [];
    }
    var found = [];
    if (rules.types && rules.types.indexOf(item.type) === -1) { found.push(say(rules.say.type, facts)); }
    if (rules.imageBytes && item.bytes > rules.imageBytes) {
      found.push(say(rules.say.imageBytes, { item: item.name, size: size(item.bytes, rules.imageBytes) }));
    }
    if (item.width && item.height) {
      if (rules.pixels && item.width * item.height > rules.pixels) { found.push(say(rules.say.pixels, facts)); }
      if (rules.aspect) {
        var low = rules.aspect[0];
        var high = rules.aspect[1];
        if (item.width * low[1] < item.height * low[0] || item.width * high[1] > item.height * high[0]) {
          found.push(say(rules.say.aspect, facts));
        }
      }
    }
    return found;
  }

  function mediaProblems(rules, media) {
    var found = [];
    if (rules.needsMedia && !media.length) { found.push(rules.say.none); }
    if (media.length > rules.maxMedia) { found.push(say(rules.say.many, { count: number(media.length) })); }
    if (rules.videoAlone && media.length > 1 && media.some(function (item) { return item.kind === "video"; })) {
      found.push(say(rules.say.alone, { count: number(media.length) }));
    }
    media.forEach(function (item) { found = found.concat(itemProblems(rules, item)); });
    return found;
  }

  // The chosen profiles' rules, each network (Mastodon instance) once, in the order the profiles come.
  function chosenRules(composer, setup) {
    var ids = composer.hasAttribute("data-profile") ? [composer.getAttribute("data-profile")] :
      Array.prototype.map.call(composer.querySelectorAll("input[name=profiles]:checked"), function (box) {
        return box.value;
      });
    var names = [];
    ids.forEach(function (id) {
      var name = setup.profiles[id];
      if (name && names.indexOf(name) === -1) { names.push(name); }
    });
    return names.map(function (name) { return setup.rules[name]; });
  }

  function chosenMedia(composer) {
    var seen = {};
    var media = [];
    composer.querySelectorAll("input[name=media]:checked").forEach(function (box) {
      if (seen[box.value] || !box.hasAttribute("data-kind")) { return; }
      seen[box.value] = true;
      media.push({
        name: box.getAttribute("data-name"), kind: box.getAttribute("data-kind"),
        type: box.getAttribute("data-type"), bytes: Number(box.getAttribute("data-bytes")),
        width: Number(box.getAttribute("data-width")) || 0, height: Number(box.getAttribute("data-height")) || 0
      });
    });
    return media;
  }

  function showCount(counter, rules, counts, text) {
    if (!rules.length) {
      counter.textContent = number(Array.from(text).length) + " characters";
      counter.classList.remove("caption-over");
      return;
    }
    var over = false;
    counter.textContent = rules.map(function (one, index) {
      var left = one.max - counts[index];
      over = over || left < 0;
      return number(counts[index]) + " / " + number(one.max) + " characters for " + one.name +
        (left < 0 ? ": " + number(-left) + " too many" : "");
    }).join(" · ");
    counter.classList.toggle("caption-over", over);
  }

  function showProblems(list, problems) {
    var shown = Array.prototype.map.call(list.querySelectorAll("li"), function (item) { return item.textContent; });
    if (shown.join("\n") === problems.join("\n")) { return; }  // the live region speaks only of a change
    list.textContent = "";
    if (!problems.length) { return; }
    var items = document.createElement("ul");
    problems.forEach(function (problem) {
      var item = document.createElement("li");
      item.textContent = problem;
      items.append(item);
    });
    list.append(items);
  }

  function showOptions(composer, rules) {
    var networks = rules.map(function (one) { return one.network; });
    var parts = composer.querySelectorAll(".composer-options[data-networks], .composer-options [data-networks]");
    parts.forEach(function (part) {
      part.hidden = !part.getAttribute("data-networks").split(" ").some(function (network) {
        return networks.indexOf(network) !== -1;
      });
    });
  }

  function check(composer) {
    var caption = composer.querySelector("#caption");
    var counter = composer.querySelector("#caption-count");
    var list = composer.querySelector("#composer-rules");
    if (!caption || !counter || !list || !composer.hasAttribute("data-rules")) { return; }
    var setup = JSON.parse(composer.getAttribute("data-rules"));
    var rules = chosenRules(composer, setup);
    var warningInput = composer.querySelector("#content_warning");
    var warning = warningInput ? warningInput.value.trim() : "";
    var text = caption.value.replace(/\r\n/g, "\n");
    var counts = rules.map(function (one) { return length(one, text, warning, setup.patterns); });
    showCount(counter, rules, counts, text);
    var strictestFirst = rules.map(function (one, index) { return index; }).sort(function (a, b) {
      return rules[a].max - rules[b].max;
    });
    var problems = [];
    strictestFirst.forEach(function (index) {
      var one = rules[index];
      problems = problems.concat(textProblems(one, counts[index], one.counting === "mastodon" && warning));
    });
    var media = chosenMedia(composer);
    rules.forEach(function (one) { problems = problems.concat(mediaProblems(one, media)); });
    showProblems(list, problems.filter(function (problem, index) { return problems.indexOf(problem) === index; }));
    showOptions(composer, rules);
  }

  function composerOf(target) {
    return target && target.closest ? target.closest("[data-composer]") : null;
  }

  document.addEventListener("input", function (event) {
    var composer = composerOf(event.target);
    if (composer && (event.target.id === "caption" || event.target.id === "content_warning")) { check(composer); }
  });
  document.addEventListener("change", function (event) {
    var composer = composerOf(event.target);
    if (composer && (event.target.name === "profiles" || event.target.name === "media")) { check(composer); }
  });
  Roster.module("composer", function (element) {
    // The whole page, a composer brought in by htmx, or the media picker's new list inside one.
    var composers = element.querySelectorAll ?
      Array.prototype.slice.call(element.querySelectorAll("[data-composer]")) : [];
    var around = composerOf(element);
    if (around && composers.indexOf(around) === -1) { composers.push(around); }
    composers.forEach(check);
  });
})();
