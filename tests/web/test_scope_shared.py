"""Shared things under the unit scope: training sessions and exams have an organising unit. A scoped
user sees those organised by their branch, by the units above it and by the whole organisation —
with only their own officers' attendance and scores — not a sibling branch's (404); changes a
session or exam only when their branch organises it, but records their own officers in an
ancestor's; enrols only their own officers."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.extensions import db as _db
from tests.conftest import csrf_from, token
from tests.web.test_scope import scoped_login, tree  # noqa: F401  (the fixture)


def _things(app, tree):  # noqa: F811
    """A session and an exam organised by each of 某区 (the parent), 甲局, 乙局 and nobody (the whole
    organisation); in each, every officer of the tree enrolled / a candidate."""
    from app.models.exams import Exam, ExamResult
    from app.models.training import Attendance, TrainingSession

    units = tree["units"]
    out = {}
    with app.app_context():
        for key, unit in (("区", units["某区"]), ("甲", units["甲局"]), ("乙", units["乙局"]), ("全", None)):
            s = TrainingSession(title=f"{key}培训", category="general_law", held_on=date(2026, 3, 1), hours=4,
                                unit_id=unit)
            e = Exam(title=f"{key}考试", kind="annual", held_on=date(2026, 3, 2), unit_id=unit)
            _db.session.add_all([s, e])
            _db.session.flush()
            for person, oid in tree["officers"].items():
                _db.session.add(Attendance(session_id=s.id, officer_id=oid, status="registered"))
                _db.session.add(ExamResult(exam_id=e.id, officer_id=oid, score=80 if person != "孙乙" else 50))
            out[key] = (s.id, e.id)
        _db.session.commit()
    return out


def test_a_scoped_user_sees_the_sessions_and_exams_of_their_branch_and_above(app, client, tree):  # noqa: F811
    things = _things(app, tree)
    scoped_login(client, app, "jia", "clerk", "甲局")
    for url, word in (("/training", "培训"), ("/exams", "考试")):
        html = client.get(url).get_data(as_text=True)
        for key in ("区", "甲", "全"):
            assert f"{key}{word}" in html, (url, key)
        assert f"乙{word}" not in html, url
    s_yi, e_yi = things["乙"]
    for url in (f"/training/{s_yi}", f"/training/{s_yi}/edit", f"/exams/{e_yi}", f"/exams/{e_yi}/edit",
                f"/exams/{e_yi}/online"):
        assert client.get(url).status_code == 404, url
    # in the parent's session and exam: only their own people
    s_qu, e_qu = things["区"]
    for url in (f"/training/{s_qu}", f"/exams/{e_qu}"):
        html = client.get(url).get_data(as_text=True)
        assert "赵甲" in html and "钱甲一" in html, url
        assert "孙乙" not in html and "李丙" not in html, url


def test_only_the_organising_branch_changes_a_session_or_exam(app, client, tree):  # noqa: F811
    from app.models.exams import Exam
    from app.models.training import Attendance, TrainingSession

    things = _things(app, tree)
    scoped_login(client, app, "jia", "clerk", "甲局")
    s_qu, e_qu = things["区"]
    s_jia, e_jia = things["甲"]
    for url in (f"/training/{s_qu}/edit", f"/exams/{e_qu}/edit", f"/training/{things['全'][0]}/edit"):
        assert client.get(url).status_code == 403, url
    form = {"title": "改名", "category": "general_law", "held_on": "2026-03-01", "hours": "4", "online": "offline",
            "unit_id": "0", "location": "", "organiser": "", "lecturer": "", "notes": ""}
    resp = client.post(f"/training/{s_qu}/edit", data=form | {"csrf_token": token(client, "/training")})
    assert resp.status_code == 403
    page = client.post(f"/exams/{e_qu}/online/close", data={"csrf_token": token(client, "/training")})
    assert page.status_code == 403
    # their own session: edited; the organiser stays theirs
    resp = client.post(f"/training/{s_jia}/edit", data=form | {"unit_id": str(tree["units"]["甲局"]),
                                                                "csrf_token": token(client, f"/training/{s_jia}/edit")})
    assert resp.status_code == 302
    # attendance of their own officer in the parent's session: recorded
    with app.app_context():
        att = _db.session.scalar(select(Attendance.id).where(Attendance.session_id == s_qu,
                                                              Attendance.officer_id == tree["officers"]["赵甲"]))
    resp = client.post(f"/training/{s_qu}/attendance", data={f"status-{att}": "attended", f"hours-{att}": "4",
                                                             "csrf_token": token(client, f"/training/{s_qu}")})
    assert resp.status_code == 302
    with app.app_context():
        assert _db.session.get(Attendance, att).status == "attended"
        assert _db.session.get(TrainingSession, s_qu).title == "区培训"
        assert _db.session.get(TrainingSession, s_jia).title == "改名"
        assert _db.session.get(Exam, e_qu).title == "区考试"


def test_a_new_session_is_organised_by_the_users_unit_and_not_by_a_sibling(app, client, tree):  # noqa: F811
    from app.models.training import TrainingSession

    scoped_login(client, app, "jia", "clerk", "甲局")
    page = client.get("/training/new").get_data(as_text=True)
    assert "主办单位" in page and "乙局" not in page and "全单位（不限）" not in page
    form = {"title": "新培训", "category": "general_law", "held_on": "2026-04-01", "hours": "2", "online": "offline",
            "unit_id": str(tree["units"]["甲局"]), "csrf_token": csrf_from(page)}
    assert client.post("/training/new", data=form).status_code == 302
    refused = client.post("/training/new", data=form | {"title": "越权培训", "unit_id": str(tree["units"]["乙局"])})
    assert refused.status_code == 200
    with app.app_context():
        units = dict(_db.session.execute(select(TrainingSession.title, TrainingSession.unit_id)).all())
    assert units == {"新培训": tree["units"]["甲局"]}


def test_a_scoped_user_enrols_only_their_own_officers(app, client, tree):  # noqa: F811
    from app.models.training import Attendance, TrainingSession

    with app.app_context():
        s = TrainingSession(title="区培训", category="general_law", held_on=date(2026, 3, 1), hours=4,
                            unit_id=tree["units"]["某区"])
        _db.session.add(s)
        _db.session.commit()
        sid = s.id
    scoped_login(client, app, "jia", "clerk", "甲局")
    resp = client.post(f"/training/{sid}/enrol", data={"mode": "hand", "officers": "赵甲\n孙乙",
                                                       "csrf_token": token(client, f"/training/{sid}")})
    html = resp.get_data(as_text=True)
    assert "孙乙" in html  # left in the box: nobody of that name in their branch
    with app.app_context():
        enrolled = set(_db.session.scalars(select(Attendance.officer_id).where(Attendance.session_id == sid)))
    assert enrolled == {tree["officers"]["赵甲"]}


def test_the_cli_creates_exams_of_the_whole_organisation(app, runner, tree):  # noqa: F811
    from app.exams.services import save_exam

    with app.app_context():
        exam = save_exam(None, {"title": "年度考试", "kind": "annual", "held_on": date(2026, 5, 1)})
        _db.session.commit()
        assert exam.unit_id is None


def test_attendance_counts_are_the_branch_s_with_the_scope_written_for_the_database(app, tree):  # noqa: F811
    """The scope on attendance is `+officer_id IN (…)` on SQLite (keeping the session index for
    /training's counts) and plain `officer_id IN (…)` elsewhere: the same rows either way."""
    from app import scope
    from app.models.auth import User
    from app.models.training import Attendance
    from app.training.lists import attendance_counts

    things = _things(app, tree)
    s_qu = things["区"][0]
    with app.test_request_context():
        user = User(username="jia-counts", role="clerk", unit_id=tree["units"]["甲局"])
        scope.activate(user)
        # 赵甲 (甲局) and 钱甲一 (甲一科, below it): not 孙乙 (乙局) nor 李丙 (丙局)
        assert attendance_counts([s_qu]) == {s_qu: (2, 0, 0)}
        sql = str(select(Attendance.id).options(*scope._options(scope.scope_ids(), scope.shared_ids()))
                  .compile(dialect=_db.engine.dialect))
        plus = "+attendance.officer_id IN" in sql
        assert plus == (_db.engine.dialect.name == "sqlite"), sql
        assert "attendance.officer_id IN" in sql
