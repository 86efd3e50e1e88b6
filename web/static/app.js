// Progressive enhancement only: every page works without this script (they refresh themselves with
// <noscript> meta refresh instead). It polls the live status of queued/running scans and of bulk uploads.
// The Content-Security-Policy allows no inline script, style attribute or event handler: behaviour lives
// here, bound to data- attributes, and sizes are set through the DOM (which the policy allows).
(function () {
  "use strict";
  var POLL_MS = 1500;

  // A stored code (queued, unattributed_reuse) as the page's language words it: the page gives the words
  // in data-terms (web.i18n.translated_terms); without them, the code with spaces.
  function term(holder, code) {
    var words = holder && holder.dataset.terms ? JSON.parse(holder.dataset.terms) : {};
    return words[code] || (code || "").replace(/_/g, " ");
  }

  function pendingScans() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-scan-id][data-status]")).filter(function (el) {
      return el.dataset.status === "queued" || el.dataset.status === "running";
    });
  }

  function pollScans() {
    var rows = pendingScans();
    if (!rows.length) return;
    var holder = document.querySelector("[data-status-url]");
    var ids = rows.map(function (el) { return el.dataset.scanId; }).join(",");
    fetch(holder.dataset.statusUrl + "?ids=" + encodeURIComponent(ids), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : {scans: []}; })
      .then(function (data) {
        var reload = false;
        data.scans.forEach(function (s) {
          rows.filter(function (el) { return el.dataset.scanId === String(s.id); }).forEach(function (el) {
            if (el.dataset.status === s.status) return;
            el.dataset.status = s.status;
            var st = el.querySelector("[data-field=status]");
            if (st) { st.textContent = term(holder, s.status); st.className = "status " + s.status; }
            var v = el.querySelector("[data-field=verdict]");
            if (v && s.status === "done") {
              var badge = document.createElement("span");
              badge.className = "badge " + (s.verdict || "pending");
              badge.textContent = term(holder, s.verdict || "pending");
              v.textContent = "";
              v.appendChild(badge);
            }
            if (v && s.status === "failed") {
              var why = document.createElement("span");
              why.className = "reason failed";
              why.textContent = s.error || holder.dataset.noReason || "no reason was recorded";
              v.textContent = "";
              v.appendChild(why);
            }
            var m = el.querySelector("[data-field=matches]");
            if (m && s.status === "done") m.textContent = s.matches;
            if ((s.status === "done" || s.status === "failed") && el.dataset.reloadWhenDone) reload = true;
          });
        });
        if (reload) { window.location.reload(); return; }
        setTimeout(pollScans, POLL_MS);
      })
      .catch(function () { setTimeout(pollScans, POLL_MS * 4); });
  }

  function pollImport() {
    var box = document.querySelector("[data-import-url]");
    if (!box || box.dataset.importStatus !== "running") return;
    fetch(box.dataset.importUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (job) {
      var bar = box.querySelector("[data-field=progress]");
      bar.max = job.total || 1; bar.value = job.total ? job.processed : 1;
      ["status", "processed", "registered", "skipped"].forEach(function (k) {
        var el = box.querySelector("[data-field=" + k + "]"); if (el) el.textContent = k === "status" ? term(box, job[k]) : job[k];
      });
      if (job.status === "running") setTimeout(pollImport, POLL_MS); else window.location.reload();
    }).catch(function () { setTimeout(pollImport, POLL_MS * 4); });
  }

  // Upload progress: send the bulk-upload form with XHR so the bar shows the bytes sent.
  function uploadProgress() {
    var form = document.getElementById("upload-form");
    if (!form || !window.FormData) return;
    form.addEventListener("submit", function (ev) {
      var bar = document.getElementById("upload-progress");
      var xhr = new XMLHttpRequest();
      ev.preventDefault();
      bar.hidden = false;
      xhr.upload.onprogress = function (e) { if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total); };
      xhr.onload = function () {
        if (xhr.responseURL && xhr.status < 400) { window.location.href = xhr.responseURL; return; }
        document.open(); document.write(xhr.responseText); document.close();
      };
      xhr.open("POST", form.action || window.location.href);
      xhr.send(new FormData(form));
    });
  }

  // Verdict mix bars: each part as wide as its count (data-flex).
  function mixWidths() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-flex]"), function (el) {
      el.style.flex = el.dataset.flex;
    });
  }

  // Print buttons (hidden without this script).
  function printButtons() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (el) {
      el.hidden = false;
      el.addEventListener("click", function () { window.print(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    mixWidths();
    printButtons();
    setTimeout(pollScans, POLL_MS);
    setTimeout(pollImport, POLL_MS);
    uploadProgress();
  });
})();

// -- The match page leads to the copy (issue 10, point 3) -----------------------------------------------
// The passage list, Next/Previous and the keys n/j and p/k make a passage current: both text panes
// scroll (inside their own box, not the page) so that passage is near their top, and it is outlined in
// both panes and marked aria-current in the list. Without this script the list's links and the badges
// still jump to the passages by their anchors (#s1, #o1).
(function () {
  "use strict";
  var MARGIN = 16;  // px left above the current passage inside its pane

  function matchPage() {
    var list = document.querySelector("section.passages[data-passages]");
    var suspect = document.getElementById("suspect-text");
    var original = document.getElementById("original-text");
    if (!list || !suspect || !original) return;
    var total = parseInt(list.dataset.passages, 10) || 0;
    var links = Array.prototype.slice.call(list.querySelectorAll(".passage-link[data-passage]"));
    var nav = list.querySelector("[data-passage-nav]");
    var status = list.querySelector("[data-passage-status]");
    var current = 0;

    // Scroll ``pane`` (and only it) so that ``mark`` starts MARGIN px below its top edge.
    function scrollPane(pane, mark) {
      if (!mark) return;
      var offset = mark.getBoundingClientRect().top - pane.getBoundingClientRect().top;
      pane.scrollTop = Math.max(0, pane.scrollTop + offset - MARGIN);
    }

    function mark(pane, prefix, n) { return pane.querySelector("mark#" + prefix + n); }

    function select(n, fromUser) {
      if (!total) return;
      n = Math.min(Math.max(n, 1), total);
      current = n;
      Array.prototype.forEach.call(document.querySelectorAll(".match-panes mark.current"), function (el) {
        el.classList.remove("current");
      });
      [[suspect, "s"], [original, "o"]].forEach(function (side) {
        var el = mark(side[0], side[1], n);
        if (el) { el.classList.add("current"); scrollPane(side[0], el); }
      });
      links.forEach(function (a) {
        var on = a.dataset.passage === String(n);
        a.classList.toggle("current", on);
        if (on) a.setAttribute("aria-current", "true"); else a.removeAttribute("aria-current");
      });
      if (status) status.textContent = status.dataset.template
        ? status.dataset.template.replace("{n}", n).replace("{total}", total) : n + " / " + total;
      if (fromUser) {
        // The panes must be on screen to show the passage: bring the suspect pane's top into view.
        var box = suspect.getBoundingClientRect();
        if (box.top < 0 || box.top > window.innerHeight * 0.6) suspect.closest(".match-panes").scrollIntoView({block: "start"});
      }
    }

    links.forEach(function (a) {
      a.addEventListener("click", function (ev) {
        ev.preventDefault();
        select(parseInt(a.dataset.passage, 10), true);
      });
    });
    // A badge in a text: the same passage, both sides (the address still names the counterpart).
    Array.prototype.forEach.call(document.querySelectorAll(".match-panes a.passage-n[data-passage]"), function (a) {
      a.addEventListener("click", function (ev) {
        ev.preventDefault();
        select(parseInt(a.dataset.passage, 10), false);
        if (window.history && history.replaceState) history.replaceState(null, "", a.getAttribute("href"));
      });
    });
    Array.prototype.forEach.call(list.querySelectorAll("[data-passage-step]"), function (button) {
      button.addEventListener("click", function () { select(current + parseInt(button.dataset.passageStep, 10), true); });
    });
    document.addEventListener("keydown", function (ev) {
      if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.defaultPrevented) return;
      var t = ev.target;
      if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
      var step = {n: 1, j: 1, p: -1, k: -1}[ev.key];
      if (!step) return;
      ev.preventDefault();
      select(current + step, true);
    });
    if (nav) nav.hidden = false;
    // On load: the passage the address names (#s2, #o2), else the first.
    var named = /^#[so](\d+)$/.exec(window.location.hash);
    select(named ? parseInt(named[1], 10) : 1, false);
  }

  document.addEventListener("DOMContentLoaded", matchPage);
})();
