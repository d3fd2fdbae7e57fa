// Confirmation before destructive actions: <form data-confirm="...">
document.addEventListener("submit", function (ev) {
  var msg = (ev.submitter && ev.submitter.getAttribute("data-confirm")) || ev.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) { ev.preventDefault(); }
});

// Long work: downloads (PDF documents, Excel/CSV exports) are fetched behind a "正在生成" panel that
// counts the seconds, then saved — or, when the server answers 202 (a background job), the panel
// gives way to the job's page; uploads show the panel until the next page arrives.
(function () {
  var DOWNLOAD = /^\/documents\/.+|\.(pdf|xlsx|csv)$/;
  var panel, timer;

  function show(text) {
    if (!panel) {
      panel = document.createElement("div");
      panel.id = "busy-panel";
      panel.className = "busy-panel shadow";
      panel.setAttribute("role", "status");
      document.body.appendChild(panel);
    }
    var started = Date.now();
    panel.innerHTML = '<span class="spinner-border spinner-border-sm me-2"></span><span class="busy-text"></span>';
    var label = panel.querySelector(".busy-text");
    var tick = function () {
      label.textContent = text + "（已用 " + Math.round((Date.now() - started) / 1000) + " 秒）";
    };
    tick();
    clearInterval(timer);
    timer = setInterval(tick, 1000);
    panel.style.display = "block";
  }

  function hide() {
    clearInterval(timer);
    if (panel) { panel.style.display = "none"; }
  }

  function filenameOf(resp, url) {
    var cd = resp.headers.get("Content-Disposition") || "";
    var star = /filename\*=UTF-8''([^;]+)/i.exec(cd);
    if (star) { return decodeURIComponent(star[1]); }
    var plain = /filename="?([^";]+)"?/i.exec(cd);
    return plain ? plain[1] : url.split("/").pop().split("?")[0];
  }

  function download(url) {
    show("正在生成文件，请稍候");
    fetch(url, { credentials: "same-origin" }).then(function (resp) {
      var type = resp.headers.get("Content-Type") || "";
      // Handed to a background job: follow it to its page (progress bar, then the download).
      if (resp.status === 202 && resp.headers.get("Location")) {
        window.location.href = resp.headers.get("Location") + "#download";
        return null;
      }
      if (!resp.ok || type.indexOf("text/html") === 0) { window.location.href = url; return null; }
      return resp.blob().then(function (blob) {
        var a = document.createElement("a");
        a.href = URL.createObjectURL(blob);
        a.download = filenameOf(resp, url);
        document.body.appendChild(a);
        a.click();
        setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
      });
    }).catch(function () { window.location.href = url; }).then(hide, hide);
  }

  document.addEventListener("click", function (ev) {
    var a = ev.target.closest && ev.target.closest("a[href]");
    if (!a || a.target || ev.ctrlKey || ev.metaKey || ev.shiftKey || !window.fetch) { return; }
    var url = new URL(a.href, window.location.href);
    if (url.origin !== window.location.origin || !DOWNLOAD.test(url.pathname)) { return; }
    ev.preventDefault();
    download(url.pathname + url.search);
  });

  document.addEventListener("submit", function (ev) {
    var form = ev.target, button = ev.submitter;
    if (ev.defaultPrevented) { return; }
    // the button's formaction/formmethod win over the form's, as in a plain submit
    var action = (button && button.getAttribute("formaction")) || form.getAttribute("action");
    var method = (button && button.getAttribute("formmethod")) || form.method || "get";
    var url = new URL(action || window.location.href, window.location.href);
    if (method.toLowerCase() === "get" && DOWNLOAD.test(url.pathname) && window.fetch) {
      ev.preventDefault();
      url.search = new URLSearchParams(new FormData(form)).toString();
      download(url.pathname + url.search);
    } else if (form.enctype === "multipart/form-data" && form.querySelector("input[type=file]")) {
      show("正在上传并校验，请稍候");
    } else if (form.hasAttribute("data-busy")) {  // long work without an upload (an import)
      show(form.getAttribute("data-busy") + "，请稍候");
    }
  });

  window.addEventListener("pageshow", hide);
})();

// "Select all" controls: <button data-check-all="SELECTOR"> ticks every match; a checkbox with
// data-check-all copies its own state to them. (No inline onclick: the CSP allows no inline script.)
document.addEventListener("click", function (ev) {
  var ctl = ev.target.closest && ev.target.closest("[data-check-all]");
  if (!ctl) { return; }
  var state = ctl.type === "checkbox" ? ctl.checked : true;
  document.querySelectorAll(ctl.getAttribute("data-check-all")).forEach(function (box) {
    if (box !== ctl) { box.checked = state; }
  });
});

// Print buttons: <button data-print>.
document.addEventListener("click", function (ev) {
  if (ev.target.closest && ev.target.closest("[data-print]")) { window.print(); }
});

// A background job's page (/jobs/<id>): poll its JSON status, move the bar, then offer the file
// (and start the download once, when it finishes while the page is open).
(function () {
  var box = document.getElementById("job");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-job-url");
  var bar = box.querySelector("[data-job-bar]");
  var label = box.querySelector("[data-job-label]");
  var error = box.querySelector("[data-job-error]");
  var note = box.querySelector("[data-job-message]");
  var link = box.querySelector("[data-job-download]");
  var LABELS = { queued: "排队中，马上开始生成……", running: "正在生成……", done: "已生成，可以下载。", failed: "生成失败。" };
  var wasOpen = box.getAttribute("data-state") === "queued" || box.getAttribute("data-state") === "running";
  // Arrived from a download link (app.js followed the 202): fetch the file once it is ready, even
  // when it already is; a later visit to the page only offers the button.
  var autoDownload = wasOpen || window.location.hash === "#download";
  if (window.location.hash === "#download" && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.pathname);
  }

  function render(s) {
    var pct = Math.round((s.progress || 0) * 100);
    bar.style.width = pct + "%";
    bar.textContent = pct + "%";
    bar.parentNode.setAttribute("aria-valuenow", pct);
    label.textContent = s.state === "done" && !s.download_url ? "已完成。" : (LABELS[s.state] || s.state);
    box.setAttribute("data-state", s.state);
    if (s.state === "failed") {
      bar.classList.remove("progress-bar-striped", "progress-bar-animated");
      bar.classList.add("bg-danger");
      error.textContent = s.message || "生成失败";
      error.classList.remove("d-none");
      note.classList.add("d-none");
    } else {
      note.textContent = s.message || "";
      note.classList.toggle("d-none", !s.message);
    }
    if (s.state === "done" && s.download_url) {
      bar.classList.remove("progress-bar-striped", "progress-bar-animated");
      link.href = s.download_url;
      link.classList.remove("d-none");
      if (autoDownload) { autoDownload = false; window.location.href = s.download_url; }
    }
  }

  bar.style.width = (bar.parentNode.getAttribute("aria-valuenow") || 0) + "%";
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (resp) { return resp.ok ? resp.json() : null; })
      .then(function (s) {
        if (!s) { return; }
        render(s);
        if (s.state === "queued" || s.state === "running") { setTimeout(poll, 1000); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  if (wasOpen || autoDownload) { setTimeout(poll, wasOpen ? 500 : 0); }
})();

// Expiry boxes that follow an issue date (<input data-expiry-from="issued_on" data-validity-years="5">):
// left empty, the server saves issue date + validity years − 1 day; this shows that date beside the
// box (and as its placeholder) and keeps it in step as the issue date is typed.
(function () {
  function parseDay(text) {
    var t = (text || "").trim(), m;
    if ((m = /^(\d{4})(\d{2})(\d{2})$/.exec(t)) ||
        (m = /^(\d{4})\s*[-\/.年]\s*(\d{1,2})\s*[-\/.月]\s*(\d{1,2})\s*日?$/.exec(t))) {
      var y = +m[1], mo = +m[2], d = +m[3];
      var day = new Date(Date.UTC(y, mo - 1, d));
      if (day.getUTCFullYear() === y && day.getUTCMonth() === mo - 1 && day.getUTCDate() === d) { return day; }
    }
    return null;
  }

  function expiry(issued, years) {
    var y = issued.getUTCFullYear() + years, mo = issued.getUTCMonth(), d = issued.getUTCDate();
    var end = new Date(Date.UTC(y, mo, d));
    if (end.getUTCMonth() !== mo) { end = new Date(Date.UTC(y, mo + 1, 1)); }  // 29 February: 1 March
    return new Date(end.getTime() - 86400000);
  }

  function cn(day) {
    return day.getUTCFullYear() + "年" + (day.getUTCMonth() + 1) + "月" + day.getUTCDate() + "日";
  }

  function wire(box) {
    var form = box.form, years = parseInt(box.getAttribute("data-validity-years"), 10);
    var source = form && form.elements.namedItem(box.getAttribute("data-expiry-from"));
    if (!source || !(years > 0)) { return; }
    var note = document.createElement("div");
    note.className = "form-text expiry-preview";
    note.setAttribute("aria-live", "polite");
    box.insertAdjacentElement("afterend", note);
    var shown = box.getAttribute("placeholder") || "";
    function update() {
      var issued = parseDay(source.value);
      if (!issued) {
        box.setAttribute("placeholder", shown);
        note.textContent = "填写发证日期后，留空的有效期将按发证日期计算";
        return;
      }
      var end = cn(expiry(issued, years));
      box.setAttribute("placeholder", end);
      note.textContent = box.value.trim()
        ? "按发证日期计算应为 " + end + "（已填写的日期优先）"
        : "留空将保存为 " + end + "（发证日期起 " + years + " 年）";
    }
    source.addEventListener("input", update);
    source.addEventListener("change", update);
    box.addEventListener("input", update);
    update();
  }

  function init() {
    var boxes = document.querySelectorAll("input[data-expiry-from][data-validity-years]");
    for (var i = 0; i < boxes.length; i++) { wire(boxes[i]); }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();

// The one date picker: every date box (input[data-date]: CnDateField and the date_input macro) stays a
// text box that takes 2024年3月1日 / 2024-03-01 / 20240301 as typed, and gains a calendar button that
// opens the browser's own calendar and writes the chosen day back as 2024年3月1日.
(function () {
  var ICON = '<svg xmlns="http://www.w3.org/2000/svg" width="14" height="14" viewBox="0 0 16 16" aria-hidden="true">' +
    '<path fill="currentColor" d="M4 0h1v2h6V0h1v2h2.5A1.5 1.5 0 0 1 16 3.5v11a1.5 1.5 0 0 1-1.5 1.5h-13A1.5 1.5 0 0 1 0 14.5v-11A1.5 1.5 0 0 1 1.5 2H4zM1 6v8.5a.5.5 0 0 0 .5.5h13a.5.5 0 0 0 .5-.5V6zm2 2h2v2H3zm4 0h2v2H7zm4 0h2v2h-2z"/></svg>';

  function iso(text) {
    var t = (text || "").trim(), m;
    if ((m = /^(\d{4})(\d{2})(\d{2})$/.exec(t)) ||
        (m = /^(\d{4})\s*[-\/.年]\s*(\d{1,2})\s*[-\/.月]\s*(\d{1,2})\s*日?$/.exec(t))) {
      return m[1] + "-" + ("0" + m[2]).slice(-2) + "-" + ("0" + m[3]).slice(-2);
    }
    return "";
  }

  function wire(box) {
    if (box.getAttribute("data-date-wired")) { return; }
    box.setAttribute("data-date-wired", "1");
    var wrap = document.createElement("span");
    wrap.className = "date-wrap";
    box.parentNode.insertBefore(wrap, box);
    wrap.appendChild(box);
    var native = document.createElement("input");
    native.type = "date";
    native.className = "date-native";
    native.tabIndex = -1;
    native.setAttribute("aria-hidden", "true");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-link date-button";
    button.title = "选择日期";
    button.setAttribute("aria-label", "选择日期：" + (box.getAttribute("aria-label") || box.name));
    button.innerHTML = ICON;
    wrap.appendChild(native);
    wrap.appendChild(button);
    button.addEventListener("click", function () {
      native.value = iso(box.value);
      if (typeof native.showPicker === "function") {
        try { native.showPicker(); return; } catch (e) { /* not allowed: fall through */ }
      }
      native.classList.add("date-native-shown");
      native.focus();
    });
    native.addEventListener("change", function () {
      var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(native.value);
      if (!m) { return; }
      box.value = (+m[1]) + "年" + (+m[2]) + "月" + (+m[3]) + "日";
      native.classList.remove("date-native-shown");
      box.dispatchEvent(new Event("input", {bubbles: true}));
      box.dispatchEvent(new Event("change", {bubbles: true}));
    });
  }

  function init() {
    var boxes = document.querySelectorAll("input[data-date]");
    for (var i = 0; i < boxes.length; i++) { wire(boxes[i]); }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
