// Officer self-service (/me): the live card's QR refreshes itself, and the exam hand-off puts the
// candidate's token where the exam room (exam.js) looks for it, then opens the room.
(function () {
  "use strict";
  var box = document.getElementById("card-qr");
  if (box) {
    var seconds = parseInt(box.getAttribute("data-seconds"), 10) || 60;
    var left = seconds;
    var img = document.getElementById("card-qr-img");
    var link = box.querySelector("a[data-verify-url]");
    var note = document.getElementById("card-qr-left");
    var refresh = function () {
      fetch(box.getAttribute("data-refresh"), { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (d) {
          img.src = d.qr; link.setAttribute("href", d.url);
          seconds = d.seconds; left = seconds;
        })
        .catch(function () { note.textContent = "刷新失败，请检查网络"; });
    };
    setInterval(function () {
      left -= 1;
      if (left <= 0) { refresh(); left = seconds; }
      note.textContent = left + " 秒后更换二维码";
    }, 1000);
  }
  var handoff = document.getElementById("exam-handoff");
  if (handoff) {
    sessionStorage.setItem("exam.token", handoff.getAttribute("data-token"));
    sessionStorage.setItem("exam.title", handoff.getAttribute("data-title"));
    sessionStorage.removeItem("exam.marks");
    sessionStorage.removeItem("exam.current");
    window.location.replace(handoff.getAttribute("data-room"));
  }
})();
