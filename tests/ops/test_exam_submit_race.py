"""The exam room's submit against answers and a second submit, at the same moment, through a real
threaded HTTP server on the suite's database (SQLite file or PostgreSQL).

Once a submit has answered, the paper no longer changes: no answer lands after it, the score is
the score of the answers kept; of two submits exactly one is accepted and audited."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from app.extensions import db
from app.models.audit import AuditEvent
from app.models.exams import ExamResult
from app.models.officers import Officer
from app.models.online import PaperItem, Sitting
from tests.online_data import KEY, exam_with_bank


@pytest.fixture
def server(app):
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join(timeout=10)


def call(base, method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None


def wrong(q):
    return {"single": "A" if KEY[q["stem"]] != "A" else "B", "multiple": "BC",
            "true_false": "对" if KEY[q["stem"]] == "错" else "错"}[q["type"]]


def start_paper(base, cand):
    status, body = call(base, "POST", "/exam/api/login", {"id_number": cand["id_number"], "code": cand["code"]})
    assert status == 200, body
    token = body["token"]
    status, paper = call(base, "GET", "/exam/api/paper", token=token)
    assert status == 200, paper
    return token, paper["questions"]


def race(calls):
    """Run the calls together (released by one barrier); their (status, body) in order."""
    barrier = threading.Barrier(len(calls))
    out: list = [None] * len(calls)

    def run(i, fn):
        barrier.wait()
        out[i] = fn()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return out


def paper_state(app, id_number):
    with app.app_context():
        s = db.session.scalar(select(Sitting).join(Sitting.officer).where(Officer.id_number == id_number))
        items = db.session.scalars(select(PaperItem).where(PaperItem.sitting_id == s.id)).all()
        result = db.session.scalar(select(ExamResult).where(ExamResult.exam_id == s.exam_id,
                                                            ExamResult.officer_id == s.officer_id))
        state = {"submitted_at": s.submitted_at, "score": s.score, "result": result.score,
                 "answers": {i.id: (i.answer, i.answered_at) for i in items},
                 "earned": sum(i.points for i in items if i.answer is not None and i.answer == i.key)}
        db.session.remove()
        return state


def test_answers_racing_a_submit_never_land_after_it(app, runner, tmp_path, server):
    exam_id, codes = exam_with_bank(app, runner, tmp_path, 4)
    for cand in codes:
        token, questions = start_paper(server, cand)
        for q in questions:  # every question answered right first
            assert call(server, "PUT", f"/exam/api/answers/{q['id']}", {"answer": KEY[q['stem']]}, token)[0] == 204
        after: dict = {}

        def submit(token=token, cand=cand, after=after):
            got = call(server, "POST", "/exam/api/submit", token=token)
            after.update(paper_state(app, cand["id_number"]))  # the paper as the submit left it
            return got

        # ten answer changes (each to a wrong answer, then back) racing the submit
        puts = [lambda q=q, a=a, t=token: call(server, "PUT", f"/exam/api/answers/{q['id']}", {"answer": a}, t)
                for q in questions for a in (wrong(q), KEY[q["stem"]])]
        assert len(puts) == 10
        out = race([submit, *puts])
        status, body = out[0]
        assert status == 200, body
        for st, b in out[1:]:
            assert st in (204, 409), (st, b)
            if st == 409:
                assert b["error"]
        final = paper_state(app, cand["id_number"])
        assert final["answers"] == after["answers"], "an answer changed after the submit had answered"
        for _answer, at in final["answers"].values():
            assert at is None or at <= final["submitted_at"], "an answer saved after submitted_at"
        # the score is the score of the answers kept, on the sitting, the result and for the candidate
        assert final["score"] == final["result"] == final["earned"] == body["score"]
        # later writes are refused
        q = questions[0]
        st, b = call(server, "PUT", f"/exam/api/answers/{q['id']}", {"answer": wrong(q)}, token)
        assert st == 409 and b["error"] == "已交卷，答案不能再修改"


def test_two_submits_at_once_one_accepted_one_audited(app, runner, tmp_path, server):
    exam_id, codes = exam_with_bank(app, runner, tmp_path, 3)
    for cand in codes:
        token, questions = start_paper(server, cand)
        for q in questions:
            assert call(server, "PUT", f"/exam/api/answers/{q['id']}", {"answer": KEY[q['stem']]}, token)[0] == 204
        out = race([lambda t=token: call(server, "POST", "/exam/api/submit", token=t)] * 2)
        statuses = sorted(st for st, _ in out)
        assert statuses == [200, 409], out
        refused = next(b for st, b in out if st == 409)
        assert refused == {"error": "已交卷，不能重复交卷"}
        with app.app_context():
            sitting_id = db.session.scalar(select(Sitting.id).join(Sitting.officer).where(
                Officer.id_number == cand["id_number"]))
            rows = db.session.scalars(select(AuditEvent).where(
                AuditEvent.entity_type == "exam_sitting", AuditEvent.entity_id == sitting_id,
                AuditEvent.summary.like("考生交卷%"))).all()
            db.session.remove()
        assert len(rows) == 1, [r.summary for r in rows]


def staff_opener(app, base, role="viewer", n=0):
    """A urllib opener signed in (cookie) as a new user of `role`, through the login form."""
    import http.cookiejar
    import urllib.parse

    from tests.conftest import PASSWORD, csrf_from, make_user

    make_user(app, f"race_{role}_{n}", role)
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    html = opener.open(f"{base}/login", timeout=30).read().decode()
    data = urllib.parse.urlencode({"username": f"race_{role}_{n}", "password": PASSWORD,
                                   "csrf_token": csrf_from(html)}).encode()
    opener.open(f"{base}/login", data=data, timeout=30).read()
    return opener


def test_two_pages_finding_the_time_up_close_the_exam_once(app, runner, tmp_path, server):
    from datetime import timedelta

    from app.models.online import OnlineExam
    from app.models_base import utcnow

    exam_id, codes = exam_with_bank(app, runner, tmp_path, 2)
    token, questions = start_paper(server, codes[0])
    assert call(server, "PUT", f"/exam/api/answers/{questions[0]['id']}", {"answer": KEY[questions[0]['stem']]},
                token)[0] == 204
    with app.app_context():
        online = db.session.scalar(select(OnlineExam).where(OnlineExam.exam_id == exam_id))
        online.ends_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        db.session.remove()
    openers = [staff_opener(app, server, role, n) for n, role in enumerate(("viewer", "clerk") * 3)]
    out = race([lambda o=o: o.open(f"{server}/exams/{exam_id}", timeout=60).status for o in openers])
    assert out == [200] * 6
    with app.app_context():
        ends = db.session.scalars(select(AuditEvent.summary).where(AuditEvent.summary.like("考试 %结束：%"))).all()
        handed_in = db.session.scalars(select(AuditEvent.summary).where(
            AuditEvent.summary.like("时间到自动交卷%"))).all()
        db.session.remove()
    assert ends == ["考试 法治理论考试 结束：自动交卷 1 人，缺考 1 人"]
    assert len(handed_in) == 1
