// Confirmation before destructive actions: <form data-confirm="...">
document.addEventListener("submit", function (ev) {
  var msg = (ev.submitter && ev.submitter.getAttribute("data-confirm")) || ev.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) { ev.preventDefault(); }
});

// Long work: downloads (PDF documents, Excel/CSV exports) are fetched behind a "正在生成" panel that
// counts the seconds, then saved; uploads show the panel until the next page arrives.
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
