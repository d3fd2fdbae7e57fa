// The exam monitor (/exams/<id>/online): refresh the candidates' rows every 5 seconds while the
// exam runs, unless someone is typing in them (an extension's reason).
(function () {
  "use strict";
  var body = document.getElementById("monitor-body");
  if (!body || body.getAttribute("data-live") !== "1") { return; }
  setInterval(function () {
    if (body.contains(document.activeElement)) { return; }
    fetch(body.getAttribute("data-url"), { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null && !body.contains(document.activeElement)) { body.innerHTML = html; } })
      .catch(function () {});
  }, 5000);
})();
