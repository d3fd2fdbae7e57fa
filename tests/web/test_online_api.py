"""Candidates answering through the exam room's JSON API, and what the exam's results say after."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditEvent
from app.models.exams import ExamResult
from app.models.online import OnlineExam, PaperItem, Sitting
from app.models_base import utcnow
from tests.online_data import KEY, exam_with_bank


def login(client, cand, code=None):
    return client.post("/exam/api/login", json={"id_number": cand["id_number"], "code": code or cand["code"]})


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def paper(client, token):
    resp = client.get("/exam/api/paper", headers=auth(token))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def put(client, token, qid, answer):
    return client.put(f"/exam/api/answers/{qid}", json={"answer": answer}, headers=auth(token))


def right(q):
    return KEY[q["stem"]]


def wrong(q):
    return {"single": "A", "multiple": "BC", "true_false": "对" if KEY[q["stem"]] == "错" else "错"}[q["type"]]


def test_scores_passed_flags_and_absentees(app, runner, client, tmp_path):
    exam_id, codes = exam_with_bank(app, runner, tmp_path, 5)
    a, b, c, d, e = codes
    answers = {
        a["id_number"]: lambda q: right(q),  # all right: 10
        b["id_number"]: lambda q: wrong(q),  # all wrong: 0
        # partly right multiple choice (AB of ABD) scores nothing; the rest right: 6
        c["id_number"]: lambda q: "AB" if q["type"] == "multiple" else right(q),
        d["id_number"]: lambda q: None,  # logs in, answers nothing: 0
    }
    for cand in (a, b, c, d):
        resp = login(client, cand)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        body = resp.get_json()
        assert body["exam"] == {"id": exam_id, "title": "法治理论考试"} and body["ends_at"].endswith("Z")
        token = body["token"]
        for q in paper(client, token)["questions"]:
            ans = answers[cand["id_number"]](q)
            if ans is not None:
                assert put(client, token, q["id"], ans).status_code == 204
        resp = client.post("/exam/api/submit", headers=auth(token))
        assert resp.status_code == 200
        if cand is a:
            assert resp.get_json() == {"score": 10.0, "max_score": 10.0, "passed": True}
    # e never logs in
    res = runner.invoke(args=["exams", "close", str(exam_id)])
    assert res.exit_code == 0 and "缺考 1 人" in res.output
    res = runner.invoke(args=["exams", "results", str(exam_id), "--format", "json"])
    rows = {r["id_number"]: r for r in json.loads(res.output)}
    assert set(rows[a["id_number"]]) == {"id_number", "name", "score", "passed", "absent"}
    assert (rows[a["id_number"]]["score"], rows[a["id_number"]]["passed"]) == (10, True)
    assert (rows[b["id_number"]]["score"], rows[b["id_number"]]["passed"]) == (0, False)
    assert (rows[c["id_number"]]["score"], rows[c["id_number"]]["passed"]) == (6, True)
    assert (rows[d["id_number"]]["score"], rows[d["id_number"]]["passed"], rows[d["id_number"]]["absent"]) == (
        0, False, False)
    assert rows[e["id_number"]] == {"id_number": e["id_number"], "name": e["name"], "score": None,
                                    "passed": False, "absent": True}
    with app.app_context():  # the exam's own results (what the exam page, reports and gate read)
        got = {r.officer.id_number: (r.score, r.absent, r.passed) for r in
               db.session.scalars(select(ExamResult).where(ExamResult.exam_id == exam_id))}
    assert got[c["id_number"]] == (6, False, True) and got[e["id_number"]] == (None, True, False)


def test_close_submits_started_papers_with_what_they_hold(app, runner, client, tmp_path):
    exam_id, (a, b) = exam_with_bank(app, runner, tmp_path, 2)
    token = login(client, a).get_json()["token"]
    qs = paper(client, token)["questions"]
    for q in qs:
        assert put(client, token, q["id"], right(q)).status_code == 204
    assert put(client, token, qs[0]["id"], wrong(qs[0])).status_code == 204  # changes its mind
    runner.invoke(args=["exams", "close", str(exam_id)])
    rows = {r["id_number"]: r for r in json.loads(
        runner.invoke(args=["exams", "results", str(exam_id), "--format", "json"]).output)}
    assert rows[a["id_number"]]["score"] == 10 - qs[0]["points"]
    assert rows[b["id_number"]]["absent"] is True
    # every change is audited with the address
    with app.app_context():
        changes = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "exam_sitting",
                                                              AuditEvent.summary.like("作答%"))
                                     .order_by(AuditEvent.id)).all()
        assert len(changes) == len(qs) + 1 and all(ev.ip == "127.0.0.1" for ev in changes)
        assert changes[-1].changes["answer"] == [right(qs[0]), wrong(qs[0])]
        logins = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login",
                                                             AuditEvent.entity_type == "exam_sitting")).all()
        assert len(logins) == 1


def test_second_login_resumes_the_same_paper(app, runner, client, tmp_path):
    exam_id, (a,) = exam_with_bank(app, runner, tmp_path, 1, fixed=False)
    first = login(client, a).get_json()["token"]
    p1 = paper(client, first)
    q = next(q for q in p1["questions"] if q["type"] == "multiple")
    assert put(client, first, q["id"], "D B A").status_code == 204  # any order, with separators
    other = app.test_client()  # another PC
    second = login(other, a, code=a["code"].lower()).get_json()["token"]
    p2 = paper(other, second)
    assert [x["id"] for x in p2["questions"]] == [x["id"] for x in p1["questions"]]
    assert [x["options"] for x in p2["questions"]] == [x["options"] for x in p1["questions"]]
    assert p2["answers"] == {str(q["id"]): "ABD"}
    assert client.get("/exam/api/paper", headers=auth(first)).status_code == 401  # the old token ended


def test_paper_json_carries_no_key(app, runner, client, tmp_path):
    exam_id, (a,) = exam_with_bank(app, runner, tmp_path, 1, fixed=False)
    token = login(client, a).get_json()["token"]
    resp = client.get("/exam/api/paper", headers=auth(token))
    body = resp.get_json()
    assert set(body) == {"questions", "answers", "ends_at"}
    for q in body["questions"]:
        assert set(q) == {"id", "type", "stem", "options", "points"}
        if q["type"] == "true_false":
            assert q["options"] == {}
    raw = resp.get_data(as_text=True)
    assert "key" not in raw and "answer\"" not in raw.replace("\"answers\"", "")
    with app.app_context():
        items = db.session.scalars(select(PaperItem)).all()
        # no field of the JSON reveals the key: option text order is shuffled per candidate,
        # and nothing but the candidate's own answers is sent
        assert all(i.key not in json.dumps(body["answers"]) for i in items)


def test_invalid_answers_are_400_and_not_saved(app, runner, client, tmp_path):
    exam_id, (a,) = exam_with_bank(app, runner, tmp_path, 1)
    token = login(client, a).get_json()["token"]
    qs = {q["type"]: q for q in paper(client, token)["questions"]}
    assert put(client, token, qs["single"]["id"], "E").status_code == 400
    assert put(client, token, qs["single"]["id"], "AB").status_code == 400
    assert put(client, token, qs["multiple"]["id"], "A").status_code == 400
    assert put(client, token, qs["true_false"]["id"], "A").status_code == 400
    assert client.put(f"/exam/api/answers/{qs['single']['id']}", data="B", headers=auth(token)).status_code == 400
    for junk in (123, ["A"], {"x": 1}, "A" * 500, "对" * 50):
        assert put(client, token, qs["single"]["id"], junk).status_code == 400
    assert put(client, token, qs["true_false"]["id"], "对" * 50).status_code == 400
    assert put(client, token, 999999, "A").status_code == 404
    assert put(client, "nonsense", qs["single"]["id"], "A").status_code == 401
    assert paper(client, token)["answers"] == {}


def test_409_after_submit_and_after_close(app, runner, client, tmp_path):
    exam_id, (a, b) = exam_with_bank(app, runner, tmp_path, 2)
    ta = login(client, a).get_json()["token"]
    tb = login(client, b).get_json()["token"]
    qa = paper(client, ta)["questions"][0]
    qb = paper(client, tb)["questions"][0]
    assert client.post("/exam/api/submit", headers=auth(ta)).status_code == 200
    assert put(client, ta, qa["id"], right(qa)).status_code == 409
    assert client.post("/exam/api/submit", headers=auth(ta)).status_code == 409
    assert login(client, a).status_code == 403  # after submission
    runner.invoke(args=["exams", "close", str(exam_id)])
    assert put(client, tb, qb["id"], right(qb)).status_code == 409
    assert client.post("/exam/api/submit", headers=auth(tb)).status_code == 409
    assert login(client, b).status_code == 403


def test_time_up_submits_what_is_saved_and_refuses_more(app, runner, client, tmp_path):
    exam_id, (a,) = exam_with_bank(app, runner, tmp_path, 1)
    token = login(client, a).get_json()["token"]
    q = paper(client, token)["questions"][0]
    assert put(client, token, q["id"], right(q)).status_code == 204
    with app.app_context():
        online = db.session.scalar(select(OnlineExam).where(OnlineExam.exam_id == exam_id))
        online.ends_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert put(client, token, q["id"], wrong(q)).status_code == 409
    assert client.post("/exam/api/submit", headers=auth(token)).status_code == 409
    with app.app_context():
        s = db.session.scalar(select(Sitting))
        assert (s.submitted_by, s.score) == ("timeout", q["points"])


def test_login_refusals(app, runner, client, tmp_path):
    exam_id, (a,) = exam_with_bank(app, runner, tmp_path, 1, open_now=False)
    assert login(client, a).status_code == 403  # not open yet
    runner.invoke(args=["exams", "open", str(exam_id), "--minutes", "30"])
    assert login(client, a, code="ABCDEFGH").status_code == 401
    assert client.post("/exam/api/login", json={"id_number": "", "code": ""}).status_code == 401
    assert client.post("/exam/api/login", data="x").status_code == 400
    assert login(client, a).status_code == 200


def test_login_is_rate_limited_per_candidate(app, runner, client, tmp_path):
    exam_id, (a,) = exam_with_bank(app, runner, tmp_path, 1)
    app.config["EXAM_LOGIN_CANDIDATE_LIMIT"] = "3/minute"
    try:
        codes = [login(client, a, code="WRONGCOD").status_code for _ in range(4)]
    finally:
        app.config["EXAM_LOGIN_CANDIDATE_LIMIT"] = "100000/minute"
    assert codes == [401, 401, 401, 429]


def test_score_hidden_when_the_exam_says_so(app, runner, client, tmp_path):
    exam_id, (a,) = exam_with_bank(app, runner, tmp_path, 1, open_now=False)
    runner.invoke(args=["exams", "open", str(exam_id), "--minutes", "30", "--hide-score"])
    token = login(client, a).get_json()["token"]
    assert client.post("/exam/api/submit", headers=auth(token)).get_json() == {
        "score": None, "max_score": 10.0, "passed": None}


def test_api_is_rate_limited_per_candidate(app, runner, client, tmp_path):
    exam_id, (a,) = exam_with_bank(app, runner, tmp_path, 1)
    token = login(client, a).get_json()["token"]
    app.config["EXAM_API_CANDIDATE_LIMIT"] = "3/minute"
    try:
        responses = [client.get("/exam/api/paper", headers=auth(token)) for _ in range(4)]
    finally:
        app.config["EXAM_API_CANDIDATE_LIMIT"] = "100000/minute"
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert responses[-1].get_json() == {"error": "请求过于频繁，请稍后再试"}
