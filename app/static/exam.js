// The exam room (/exam): login, the paper one question at a time or whole, a countdown, marks for
// review, and submission. Every answer is PUT to the server the moment it changes; the token is
// kept in sessionStorage so a reload resumes, and the server keeps the answers so a crashed browser
// loses nothing. Plain JavaScript: no framework, no asset from outside.
(function () {
  "use strict";
  var TYPE = { single: "单选题", multiple: "多选题", true_false: "判断题" };
  var $ = function (id) { return document.getElementById(id); };
  var state = { token: sessionStorage.getItem("exam.token"), paper: null, answers: {}, current: 0,
                mode: sessionStorage.getItem("exam.mode") || "one", skew: 0, endsAt: 0, timer: null,
                pending: {}, saving: 0, finished: false, warn: "" };

  function show(view) {
    ["login-view", "paper-view", "confirm-view", "done-view"].forEach(function (v) { $(v).hidden = v !== view; });
  }

  function api(method, path, body) {
    var headers = { "Accept": "application/json" };
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    if (state.token) { headers["Authorization"] = "Bearer " + state.token; }
    return fetch(path, { method: method, headers: headers, cache: "no-store",
                         body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (resp) {
        var date = resp.headers.get("Date");
        if (date) { state.skew = Date.parse(date) - Date.now(); }
        if (resp.status === 204) { return { status: 204, data: null }; }
        return resp.json().then(function (data) { return { status: resp.status, data: data }; },
                                function () { return { status: resp.status, data: {} }; });
      });
  }

  function marks() {
    try { return JSON.parse(sessionStorage.getItem("exam.marks") || "{}"); } catch (e) { return {}; }
  }
  function setMark(id, on) {
    var m = marks();
    if (on) { m[id] = true; } else { delete m[id]; }
    sessionStorage.setItem("exam.marks", JSON.stringify(m));
  }

  // ---- login
  $("login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var err = $("login-error");
    err.hidden = true;
    api("POST", "/exam/api/login", { id_number: $("id_number").value.trim(), code: $("code").value.trim() })
      .then(function (r) {
        if (r.status !== 200) { err.textContent = r.data.error || "登录失败"; err.hidden = false; return; }
        state.token = r.data.token;
        sessionStorage.setItem("exam.token", state.token);
        sessionStorage.setItem("exam.title", r.data.exam.title);
        loadPaper();
      }, function () { err.textContent = "无法连接服务器，请稍后重试或告知监考人员"; err.hidden = false; });
  });

  function toLogin(message) {
    state.token = null;
    sessionStorage.removeItem("exam.token");
    show("login-view");
    if (message) { $("login-error").textContent = message; $("login-error").hidden = false; }
  }

  function finished(text) {
    state.finished = true;
    clearInterval(state.timer);
    sessionStorage.removeItem("exam.token");
    sessionStorage.removeItem("exam.marks");
    $("countdown").hidden = true;
    $("done-text").textContent = text;
    show("done-view");
  }

  // ---- the paper
  function loadPaper() {
    api("GET", "/exam/api/paper").then(function (r) {
      if (r.status === 401) { toLogin(); return; }
      if (r.status === 409) { finished(r.data.error || "考试已结束"); return; }
      if (r.status !== 200) { toLogin(r.data.error || "无法取得试卷"); return; }
      state.paper = r.data.questions;
      state.answers = r.data.answers || {};
      state.endsAt = Date.parse(r.data.ends_at);
      var cur = parseInt(sessionStorage.getItem("exam.current") || "0", 10);
      state.current = cur >= 0 && cur < state.paper.length ? cur : 0;
      $("exam-title").textContent = sessionStorage.getItem("exam.title") || "";
      show("paper-view");
      render();
      startClock();
    }, function () { setTimeout(loadPaper, 2000); });
  }

  function choiceInput(q, letter, text) {
    var label = document.createElement("label");
    label.className = "choice";
    var input = document.createElement("input");
    input.type = q.type === "multiple" ? "checkbox" : "radio";
    input.name = "q" + q.id;
    input.value = letter;
    var given = state.answers[q.id] || "";
    input.checked = q.type === "true_false" ? given === letter : given.indexOf(letter) >= 0;
    input.addEventListener("change", function () { changed(q); });
    label.appendChild(input);
    label.appendChild(document.createTextNode(q.type === "true_false" ? letter : letter + ". " + text));
    return label;
  }

  function questionBox(q, index) {
    var box = document.createElement("div");
    box.className = "question";
    box.id = "question-" + q.id;
    box.setAttribute("data-qid", q.id);
    var meta = document.createElement("div");
    meta.className = "meta mb-1";
    meta.textContent = "第 " + (index + 1) + " 题 / 共 " + state.paper.length + " 题 · " + TYPE[q.type] +
      " · " + q.points + " 分" + (q.type === "multiple" ? "（多选、少选、错选均不得分）" : "");
    var stem = document.createElement("div");
    stem.className = "stem";
    stem.textContent = q.stem;
    box.appendChild(meta);
    box.appendChild(stem);
    if (q.type === "true_false") {
      box.appendChild(choiceInput(q, "对", ""));
      box.appendChild(choiceInput(q, "错", ""));
    } else {
      Object.keys(q.options).sort().forEach(function (letter) {
        box.appendChild(choiceInput(q, letter, q.options[letter]));
      });
    }
    var mark = document.createElement("label");
    mark.className = "form-check mt-2 small";
    var cb = document.createElement("input");
    cb.type = "checkbox";
    cb.className = "form-check-input mark-review";
    cb.checked = !!marks()[q.id];
    cb.addEventListener("change", function () { setMark(q.id, cb.checked); renderNav(); });
    mark.appendChild(cb);
    mark.appendChild(document.createTextNode(" 标记复查"));
    box.appendChild(mark);
    return box;
  }

  function render() {
    var holder = $("questions");
    holder.innerHTML = "";
    if (state.mode === "all") {
      state.paper.forEach(function (q, i) { holder.appendChild(questionBox(q, i)); });
    } else {
      holder.appendChild(questionBox(state.paper[state.current], state.current));
    }
    $("step-buttons").hidden = state.mode === "all";
    $("prev-btn").disabled = state.current === 0;
    $("next-btn").disabled = state.current >= state.paper.length - 1;
    $("mode-one").classList.toggle("active", state.mode === "one");
    $("mode-all").classList.toggle("active", state.mode === "all");
    renderNav();
  }

  function renderNav() {
    var nav = $("question-nav");
    nav.innerHTML = "";
    var m = marks();
    var answered = 0;
    state.paper.forEach(function (q, i) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "btn btn-sm btn-light border";
      if (state.answers[q.id]) { b.classList.add("answered"); answered += 1; }
      if (m[q.id]) { b.classList.add("marked"); }
      if (state.mode === "one" && i === state.current) { b.classList.add("current"); }
      b.textContent = String(i + 1);
      b.addEventListener("click", function () { go(i); });
      nav.appendChild(b);
    });
    $("progress").textContent = "已答 " + answered + " / " + state.paper.length;
  }

  function go(i) {
    state.current = i;
    sessionStorage.setItem("exam.current", String(i));
    if (state.mode === "all") {
      var el = $("question-" + state.paper[i].id);
      if (el) { el.scrollIntoView(); }
      renderNav();
    } else {
      render();
    }
  }

  $("prev-btn").addEventListener("click", function () { if (state.current > 0) { go(state.current - 1); } });
  $("next-btn").addEventListener("click", function () {
    if (state.current < state.paper.length - 1) { go(state.current + 1); }
  });
  $("mode-one").addEventListener("click", function () { setMode("one"); });
  $("mode-all").addEventListener("click", function () { setMode("all"); });
  function setMode(mode) { state.mode = mode; sessionStorage.setItem("exam.mode", mode); render(); }

  // ---- saving
  function changed(q) {
    var inputs = document.querySelectorAll('input[name="q' + q.id + '"]');
    var value = "";
    Array.prototype.forEach.call(inputs, function (el) { if (el.checked) { value += el.value; } });
    if (q.type !== "multiple") {
      var one = document.querySelector('input[name="q' + q.id + '"]:checked');
      value = one ? one.value : "";
    }
    state.warn = "";
    if (q.type === "multiple" && value.length === 1) {
      state.warn = "多选题至少要选两项，才算作答";
      value = "";  // one letter is not an answer: clear what the server holds
    }
    if (value) { state.answers[q.id] = value; } else { delete state.answers[q.id]; }
    renderNav();
    state.pending[q.id] = value || null;
    flush();
  }

  function saveState(text, warn) {
    var el = $("save-state");
    el.textContent = text;
    el.className = "me-3 small" + (warn ? " text-warning" : "");
  }

  function flush() {
    Object.keys(state.pending).forEach(function (id) {
      var value = state.pending[id];
      delete state.pending[id];
      state.saving += 1;
      saveState("正在保存…");
      api("PUT", "/exam/api/answers/" + id, { answer: value }).then(function (r) {
        state.saving -= 1;
        if (r.status === 204) {
          if (!state.saving && !Object.keys(state.pending).length) {
            saveState(state.warn || "答案已保存", !!state.warn);
          }
        } else if (r.status === 409) {
          finished(r.data.error || "考试已结束");
        } else if (r.status === 401) {
          toLogin("登录已失效（可能在另一台电脑登录了），请重新登录");
        } else if (r.status === 429 || r.status >= 500) {
          retry(id, value);
        } else {
          saveState(r.data.error || "答案未保存", true);
        }
      }, function () { state.saving -= 1; retry(id, value); });
    });
  }

  function retry(id, value) {
    saveState("网络异常，答案未保存，正在重试…", true);
    if (!(id in state.pending)) { state.pending[id] = value; }
    setTimeout(flush, 2000);
  }

  // ---- time
  function startClock() {
    clearInterval(state.timer);
    $("countdown").hidden = false;
    var tick = function () {
      var left = Math.max(0, Math.round((state.endsAt - (Date.now() + state.skew)) / 1000));
      var h = Math.floor(left / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
      $("countdown").textContent = "剩余 " + (h ? h + ":" : "") + (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
      $("countdown").classList.toggle("low", left <= 300);
      if (left <= 0 && !state.finished) { clearInterval(state.timer); doSubmit(true); }
    };
    tick();
    state.timer = setInterval(tick, 1000);
  }

  // ---- submitting
  $("submit-btn").addEventListener("click", function () {
    var unanswered = state.paper.filter(function (q) { return !state.answers[q.id]; }).length;
    var marked = Object.keys(marks()).length;
    var text = "共 " + state.paper.length + " 题，已答 " + (state.paper.length - unanswered) + " 题";
    if (unanswered) { text += "，还有 " + unanswered + " 题未答"; }
    if (marked) { text += "，" + marked + " 题标记了复查"; }
    $("confirm-text").textContent = text + "。确定交卷吗？";
    show("confirm-view");
  });
  $("confirm-no").addEventListener("click", function () { show("paper-view"); });
  $("confirm-yes").addEventListener("click", function () { doSubmit(false); });

  function doSubmit(timeUp) {
    if (Object.keys(state.pending).length || state.saving) {
      setTimeout(function () { doSubmit(timeUp); }, 300);  // the last answers first
      return;
    }
    api("POST", "/exam/api/submit").then(function (r) {
      if (r.status === 200) {
        var text = timeUp ? "考试时间到，已自动交卷。" : "交卷成功。";
        if (r.data.score !== null && r.data.score !== undefined) {
          text += "得分 " + r.data.score + " / " + r.data.max_score + "，" + (r.data.passed ? "合格" : "不合格") + "。";
        }
        finished(text);
      } else if (r.status === 409) {
        finished(timeUp ? "考试时间到，已按保存的答案自动交卷。" : (r.data.error || "考试已结束"));
      } else if (r.status === 401) {
        toLogin("登录已失效，请重新登录后交卷");
      } else {
        setTimeout(function () { doSubmit(timeUp); }, 2000);
      }
    }, function () { setTimeout(function () { doSubmit(timeUp); }, 2000); });
  }

  if (state.token) { loadPaper(); } else { show("login-view"); }
})();
