(function () {
  "use strict";
  // Filters, search, expand/collapse all, copy buttons and deep links of the adfs-readiness report.
  // The page is complete without this script; it only shows the tools it drives.
  var d = document;
  var findings = d.getElementById("findings");
  if (!findings) { return; }
  var items = Array.prototype.slice.call(findings.querySelectorAll("[data-status]"));
  var chosen = { status: [], area: [], severity: [] };
  var query = "";
  var shown = d.getElementById("shown");
  function show(el, visible) { el.hidden = !visible; }
  function matches(el) {
    for (var key in chosen) {
      if (chosen[key].length && chosen[key].indexOf(el.getAttribute("data-" + key)) < 0) { return false; }
    }
    return !query || el.textContent.toLowerCase().indexOf(query) >= 0;
  }
  function apply() {
    var active = query || chosen.status.length || chosen.area.length || chosen.severity.length;
    var visible = 0;
    items.forEach(function (el) { var ok = matches(el); show(el, ok); if (ok) { visible += 1; } });
    Array.prototype.forEach.call(findings.querySelectorAll(".area"), function (area) {
      var rows = area.querySelectorAll(".passed-row:not([hidden])").length;
      var passed = area.querySelector(".passed");
      if (passed) { show(passed, rows > 0 || !active); if (active && rows) { passed.open = true; } }
      var skipped = area.querySelector(".skipped");
      if (skipped) { show(skipped, area.querySelectorAll(".skip-line:not([hidden])").length > 0); }
      var any = area.querySelectorAll("[data-status]:not([hidden])").length > 0;
      show(area, any || !active);
    });
    if (shown) { shown.textContent = active ? visible + " of " + items.length + " entries shown" : ""; }
  }
  Array.prototype.forEach.call(d.querySelectorAll("#tools, .bar-search, .copy"), function (el) { el.hidden = false; });
  // On a phone the contents start closed, so the first screen shows the verdict and the plan.
  var toc = d.getElementById("toc");
  if (toc && window.matchMedia && window.matchMedia("(max-width: 1100px)").matches) { toc.open = false; }
  Array.prototype.forEach.call(d.querySelectorAll(".chip"), function (chip) {
    chip.addEventListener("click", function () {
      var list = chosen[chip.getAttribute("data-filter")];
      var value = chip.getAttribute("data-value");
      var on = chip.getAttribute("aria-pressed") !== "true";
      chip.setAttribute("aria-pressed", on ? "true" : "false");
      if (on) { list.push(value); } else { list.splice(list.indexOf(value), 1); }
      apply();
    });
  });
  var search = d.getElementById("q");
  var timer = null;
  if (search) {
    search.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { query = search.value.trim().toLowerCase(); apply(); }, 120);
    });
    search.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { clearTimeout(timer); query = search.value.trim().toLowerCase(); apply(); findings.scrollIntoView(); }
    });
  }
  Array.prototype.forEach.call(d.querySelectorAll("[data-expand]"), function (button) {
    button.addEventListener("click", function () {
      var open = button.getAttribute("data-expand") === "1";
      Array.prototype.forEach.call(d.querySelectorAll("main details"), function (el) { el.open = open; });
    });
  });
  Array.prototype.forEach.call(d.querySelectorAll("[data-reset]"), function (button) {
    button.addEventListener("click", function () {
      chosen = { status: [], area: [], severity: [] };
      query = "";
      if (search) { search.value = ""; }
      Array.prototype.forEach.call(d.querySelectorAll(".chip"), function (c) { c.setAttribute("aria-pressed", "false"); });
      apply();
    });
  });
  function copied(button, ok) {
    button.textContent = ok ? "Copied" : "Select and copy";
    setTimeout(function () { button.textContent = "Copy"; }, 1600);
  }
  Array.prototype.forEach.call(d.querySelectorAll(".copy"), function (button) {
    button.addEventListener("click", function () {
      var text = button.parentNode.querySelector("pre").textContent;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { copied(button, true); }, function () { copied(button, false); });
        return;
      }
      var range = d.createRange();
      range.selectNodeContents(button.parentNode.querySelector("pre"));
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      var ok = false;
      try { ok = d.execCommand("copy"); } catch (e) { ok = false; }
      copied(button, ok);
    });
  });
  // A link to a finding inside a closed <details> (a passed check) opens it; one hidden by a
  // filter clears the filters first.
  function reveal(id) {
    var target = id && d.getElementById(id);
    if (!target) { return; }
    if (target.closest && target.closest("[hidden]")) { d.querySelector("[data-reset]").click(); }
    for (var el = target; el && el !== d; el = el.parentNode) {
      if (el.tagName === "DETAILS") { el.open = true; }
    }
    target.scrollIntoView();
  }
  d.addEventListener("click", function (e) {
    var link = e.target.closest ? e.target.closest("a[href^='#']") : null;
    if (link && link.getAttribute("href").length > 1) { reveal(link.getAttribute("href").slice(1)); }
  });
  if (location.hash) { reveal(location.hash.slice(1)); }
  d.addEventListener("keydown", function (e) {
    if (e.key === "/" && search && d.activeElement !== search && !/^(INPUT|TEXTAREA)$/.test(d.activeElement.tagName)) {
      e.preventDefault();
      search.focus();
    }
  });
}());
