// Progressive enhancement only: every page works without this script (they refresh themselves with
// <noscript> meta refresh instead). It polls the live status of queued/running scans and of bulk uploads.
// The Content-Security-Policy allows no inline script, style attribute or event handler: behaviour lives
// here, bound to data- attributes, and sizes are set through the DOM (which the policy allows).
(function () {
  "use strict";
  var POLL_MS = 1500;

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
            if (st) { st.textContent = s.status; st.className = "status " + s.status; }
            var v = el.querySelector("[data-field=verdict]");
            if (v && s.status === "done") v.innerHTML = '<span class="badge ' + s.verdict + '">' + (s.verdict || "").replace(/_/g, " ") + "</span>";
            if (v && s.status === "failed") {
              var why = document.createElement("span");
              why.className = "reason failed";
              why.textContent = s.error || "no reason was recorded";
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
        var el = box.querySelector("[data-field=" + k + "]"); if (el) el.textContent = job[k];
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
