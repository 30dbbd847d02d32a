// The portal's only script: no build step, no framework.
// - task form: show the condition fields that apply, and a live segment preview (S3);
// - tracking matrix: reload the table when the library's progress feed says something
//   changed (B1, server-sent events), without reloading the page.
(function () {
  "use strict";

  function taskForm() {
    var form = document.getElementById("task-form");
    if (!form) return;
    var condition = document.getElementById("condition");
    function sync() {
      var auto = form.querySelector('input[name="mode"][value="automatic"]').checked;
      form.querySelectorAll("[data-show-when]").forEach(function (el) {
        el.hidden = !auto;
      });
      var kind = condition.value;
      form.querySelectorAll("[data-kinds]").forEach(function (el) {
        el.hidden = el.getAttribute("data-kinds").split(" ").indexOf(kind) < 0;
      });
    }
    form.addEventListener("change", sync);
    sync();

    var segment = document.getElementById("segment");
    var out = document.querySelector(segment.getAttribute("data-preview"));
    var asked = 0; // only the answer to the latest question is shown
    function preview() {
      var mine = ++asked;
      out.textContent = "Counting…";
      fetch("/admin/segments/preview?segment=" + encodeURIComponent(segment.value))
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (p) {
          if (mine !== asked) return;
          out.textContent = "Targets " + p.count + " participant" + (p.count === 1 ? "" : "s") +
            (p.members.length ? ": " + p.members.join(", ") + (p.count > p.members.length ? ", …" : "") : "");
          out.setAttribute("data-count", p.count);
        })
        .catch(function () { if (mine === asked) out.textContent = "The preview is not available."; });
    }
    segment.addEventListener("change", preview);
    preview();
  }

  function liveMatrix() {
    var status = document.getElementById("live-status");
    var matrix = document.getElementById("matrix");
    if (!status || !matrix || !window.EventSource) return;
    var pending = null;
    var asked = 0; // a slow older answer never replaces a newer table
    function reload() {
      if (pending) return;
      pending = setTimeout(function () {
        pending = null;
        var mine = ++asked;
        var url = new URL(window.location.href);
        url.searchParams.set("fragment", "1");
        fetch(url).then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
          .then(function (html) {
            if (mine !== asked) return;
            matrix.innerHTML = html;
            status.textContent = "live · updated " + new Date().toLocaleTimeString();
            status.setAttribute("data-updates", String(Number(status.getAttribute("data-updates") || 0) + 1));
          })
          .catch(function () { status.textContent = "live · reload failed"; });
      }, 150);
    }
    var source = new EventSource(status.getAttribute("data-live"));
    source.addEventListener("open", function () { status.classList.add("on"); status.setAttribute("data-open", "1"); });
    source.addEventListener("progress", reload);
    source.addEventListener("lagged", reload);
    source.addEventListener("error", function () { status.classList.remove("on"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    taskForm();
    liveMatrix();
  });
})();
