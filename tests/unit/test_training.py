"""Training hours, the TRAINING_SHORTFALL flag, the ledger and the year's statistics on hand-built data."""

from __future__ import annotations

from datetime import date

import pytest

from app.errors import DomainError
from app.extensions import db as _db
from app.models.certificates import CertificateEvent
from app.models.exams import Exam, ExamResult
from app.models.training import Attendance, TrainingSession
from app.rules import compliance
from app.training import services
from app.training.stats import annual_stats, training_report
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory


def session(title, held_on, hours, category="lecture"):
    s = TrainingSession(title=title, held_on=held_on, hours=hours, category=category)
    _db.session.add(s)
    _db.session.flush()
    return s


def attend(s, officer, status="attended", credited=None):
    a = Attendance(session=s, officer_id=officer.id, status=status,
                   credited_hours=(s.hours if credited is None else credited) if status == "attended" else 0)
    _db.session.add(a)
    _db.session.flush()
    return a


def training_flags(today, required=60.0):
    p = compliance.Params(today=today, hours_required=required)
    return {f["officer_id"]: (f["reason"], f["year"]) for f in compliance.list_flags(p, flags=["TRAINING_SHORTFALL"])}


def test_shortfall_and_at_risk(db):
    today = date(2026, 7, 2)  # day 183 of 365: pace = 60 * 183 / 365 = 30.08 hours
    full_last_year, short_last_year, ahead, behind = (OfficerFactory(name=n) for n in ("甲", "乙", "丙", "丁"))
    off_post = OfficerFactory(on_enforcement_post=False)
    s25 = session("2025 全年", date(2025, 3, 1), 60)
    s25b = session("2025 半天", date(2025, 12, 31), 4)
    s26 = session("2026 上半年", date(2026, 5, 1), 30)
    s26b = session("2026 补充", date(2026, 6, 1), 0.5)
    for o in (full_last_year, ahead, behind):
        attend(s25, o)
    attend(s25b, short_last_year)
    attend(s25, short_last_year, status="absent")  # absent rows count for nothing
    attend(s26, ahead)
    attend(s26b, ahead)  # 30.5 ≥ 30.08: on pace
    attend(s26, behind, credited=30)
    # behind has 30 < 30.08: at risk; full_last_year has 0 this year: at risk; short_last_year: shortfall (wins)
    flags = training_flags(today)
    assert flags == {
        full_last_year.id: ("at_risk", 2026),
        short_last_year.id: ("shortfall", 2025),
        behind.id: ("at_risk", 2026),
    }
    assert off_post.id not in flags
    # the flag is part of the engine: counts and the flags list agree
    counts = compliance.count_by_flag(compliance.Params(today=today, hours_required=60))
    assert counts["TRAINING_SHORTFALL"] == 3


def test_required_hours_is_a_parameter(db):
    o = OfficerFactory()
    attend(session("讲座", date(2025, 5, 1), 40), o)
    attend(session("讲座", date(2026, 1, 2), 40), o)
    assert training_flags(date(2026, 6, 1), required=40) == {}
    assert training_flags(date(2026, 6, 1), required=40.5) == {o.id: ("shortfall", 2025)}


def test_ledger_for_finished_and_current_year(db):
    unit = UnitFactory(name="执法队")
    a, b, c = (OfficerFactory(name=n, unit=unit) for n in ("甲", "乙", "丙"))
    OfficerFactory(name="退休", unit=unit, employment_status="retired")
    s1 = session("专门法律", date(2025, 4, 1), 40, "specialist_law")
    s2 = session("庭审", date(2025, 9, 1), 24, "court_observation")
    attend(s1, a)
    attend(s2, a)  # 64 ≥ 60: met
    attend(s1, b, credited=36)  # adjusted: 36
    attend(s2, c, status="excused")
    rows = {r["name"]: r for r in services.ledger(2025, date(2026, 3, 1), 60.0)}
    assert set(rows) == {"甲", "乙", "丙"}  # only active officers on an enforcement post
    assert (rows["甲"]["hours"], rows["甲"]["status"]) == (64, "met")
    assert (rows["乙"]["hours"], rows["乙"]["shortfall"], rows["乙"]["status"]) == (36, 24, "shortfall")
    assert (rows["丙"]["hours"], rows["丙"]["status"]) == (0, "shortfall")
    # the same year seen from inside it: behind the pace is "at risk", ahead of it "on track"
    mid = {r["name"]: r["status"] for r in services.ledger(2025, date(2025, 6, 1), 60.0)}
    assert mid == {"甲": "met", "乙": "on_track", "丙": "at_risk"}  # 乙: 36 ≥ 60*152/365 = 24.99
    assert {r["name"] for r in services.ledger(2025, date(2026, 3, 1), 60.0, status="shortfall")} == {"乙", "丙"}


def test_training_report_rows(db):
    a = OfficerFactory(name="甲")
    attend(session("讲座", date(2023, 2, 1), 61), a)
    OfficerFactory(name="乙")
    rows = {r["name"]: r for r in training_report(2023, 60)}
    assert rows["甲"] == {"officer_id": a.id, "name": "甲", "unit": a.unit.name, "hours": 61.0,
                         "required": 60, "judged": True, "shortfall": 0, "counted": 61,
                         "by_group": {"公共法律知识": 61, "专门法律知识": 0, "执法技能": 0},
                         "online_counted": 0, "online_dropped": 0, "meets": True, "missing": [], "total_gap": 0}
    # shortfall = hours still missing, as on the ledger page
    assert rows["乙"]["shortfall"] == 60 and rows["乙"]["hours"] == 0


def event(cert, kind, frm, to, on):
    _db.session.add(CertificateEvent(certificate=cert, kind=kind, from_status=frm, to_status=to,
                                     effective_on=on, actor="test"))
    cert.status = to
    _db.session.flush()


def test_annual_statistics(db):
    y = 2023
    officers = [OfficerFactory(name=f"员{i}") for i in range(5)]
    o0, o1, o2, o3, o4 = officers
    leaver = OfficerFactory(name="离职", employment_status="retired", status_changed_on=date(2024, 2, 1))
    OfficerFactory(name="早退休", employment_status="retired", status_changed_on=date(2023, 6, 1))
    # training: 3 sessions in 2023 (2 lectures, 1 court observation), one in 2022 that does not count
    s1 = session("讲座一", date(y, 3, 1), 8)
    s2 = session("讲座二", date(y, 6, 1), 4)
    s3 = session("旁听庭审", date(y, 11, 30), 3, "court_observation")
    old = session("旧讲座", date(y - 1, 12, 31), 100)
    for o in (o0, o1, o2):
        attend(s1, o)  # 3 × 8 = 24
    attend(s2, o0, credited=2)  # 2
    attend(s2, o3, status="absent")
    attend(s3, o0)  # 3
    attend(s3, leaver)  # 3
    attend(old, o4)
    # person_times = 3 + 1 + 2 = 6; participants = o0, o1, o2, leaver = 4; hours = 24 + 2 + 3 + 3 = 32
    # exams: one exam + its make-up in 2023; o1 fails then passes the make-up; o2 absent; o3 fails
    e = Exam(title="资格考试", kind="qualification", held_on=date(y, 5, 1), max_score=100, pass_score=60)
    m = Exam(title="资格考试补考", kind="qualification", held_on=date(y, 6, 1), max_score=100, pass_score=60,
             makeup_of=e)
    _db.session.add_all([e, m])
    _db.session.add_all([
        ExamResult(exam=e, officer_id=o0.id, score=90), ExamResult(exam=e, officer_id=o1.id, score=59.5),
        ExamResult(exam=e, officer_id=o2.id, absent=True), ExamResult(exam=e, officer_id=o3.id, score=10),
        ExamResult(exam=m, officer_id=o1.id, score=60),
    ])
    # takers = o0, o1, o3 = 3; passed = o0, o1 = 2; pass_rate = 0.6667
    # certificates (enforcement): history decides
    CertificateFactory(officer=o0, issued_on=date(y, 2, 1), expires_on=date(y + 5, 1, 31))  # issued in 2023
    c1 = CertificateFactory(officer=o1, issued_on=date(2020, 1, 1), expires_on=date(2025, 1, 1))
    event(c1, "suspend", "valid", "suspended", date(y, 4, 1))
    event(c1, "restore", "suspended", "valid", date(y, 5, 1))  # effective again at year end
    c2 = CertificateFactory(officer=o2, issued_on=date(2020, 1, 1), expires_on=date(2025, 1, 1))
    event(c2, "cancel", "valid", "cancelled", date(y, 12, 1))  # not effective on 31 Dec
    c3 = CertificateFactory(officer=o3, issued_on=date(2020, 1, 1), expires_on=date(2025, 1, 1))
    event(c3, "revoke", "valid", "revoked", date(y + 1, 1, 10))  # revoked next year: effective on 31 Dec
    CertificateFactory(officer=o4, issued_on=date(2018, 1, 1), expires_on=date(y, 12, 30))  # expired 30 Dec
    CertificateFactory(officer=o4, kind="supervision", issued_on=date(y, 1, 1), expires_on=date(2030, 1, 1))
    CertificateFactory(officer=leaver, issued_on=date(2020, 1, 1), expires_on=date(2030, 1, 1))
    # effective on 31 Dec: o0, o1, o3, leaver = 4; issued in 2023: o0's = 1; suspended 1; cancelled 1
    # on post on 31 Dec: o0..o4 + leaver (left 2024) = 6; early retiree not;
    # below 60 hours: all 6
    stats = annual_stats(y, required=60)
    assert stats["year"] == y
    # 32 hours over 4 participants; nothing online; 法治讲座 and 旁听庭审 are both 公共法律知识
    assert stats["training"] == {"sessions": 3, "participants": 4, "person_times": 6, "hours": 32.0,
                                 "by_category": {"lecture": 2, "court_observation": 1},
                                 "average_hours": 8.0, "counted_hours": 32.0, "online_dropped": 0.0,
                                 "by_group": {"公共法律知识": 32}}
    assert {k: v for k, v in stats["exams"].items() if k != "by_exam"} == {"held": 2, "takers": 3, "passed": 2,
                                                                           "pass_rate": 0.6667}
    assert stats["certificates"] == {"effective_at_year_end": 4, "issued": 1, "suspended": 1,
                                     "cancelled": 1, "revoked": 0}
    assert stats["officers"] == {"on_post_at_year_end": 6, "training_shortfall": 6}
    assert annual_stats(y, required=8)["officers"]["training_shortfall"] == 6 - 3  # o0 (13), o1 (8), o2 (8) meet 8


def test_annual_statistics_of_an_empty_year(db):
    stats = annual_stats(1999, required=60)
    assert stats["exams"]["pass_rate"] == 0
    assert stats["training"] == {"sessions": 0, "participants": 0, "person_times": 0, "hours": 0.0,
                                 "by_category": {}, "average_hours": 0, "counted_hours": 0.0,
                                 "online_dropped": 0.0, "by_group": {}}


def test_enrol_and_grid_defaults(db):
    s = session("讲座", date(2026, 3, 1), 3.5)
    a, b, c = OfficerFactory(), OfficerFactory(), OfficerFactory()
    assert services.enrol(s, [a, b, c]) == 3
    assert services.enrol(s, [a]) == 0  # already on the list
    rows = {att.officer_id: att for att in s.attendances}
    services.save_grid(s, {rows[a.id].id: ("attended", ""), rows[b.id].id: ("attended", "2"),
                           rows[c.id].id: ("excused", "3")})
    assert (rows[a.id].credited_hours, rows[b.id].credited_hours, rows[c.id].credited_hours) == (3.5, 2.0, 0.0)
    with pytest.raises(DomainError, match="0到3.5之间"):
        services.save_grid(s, {rows[a.id].id: ("attended", "4")})
    # the session's hours change: default-credited rows follow, adjusted rows keep theirs
    services.save_session(s, {"title": "讲座", "category": "lecture", "held_on": s.held_on, "hours": 4})
    assert (rows[a.id].credited_hours, rows[b.id].credited_hours) == (4.0, 2.0)


@pytest.mark.parametrize(("hours", "message"), [("0", "必须大于0"), ("-1", "必须大于0"), ("1.3", "0.5为单位"),
                                                ("abc", "不是数字")])
def test_session_hours_rule(db, hours, message):
    with pytest.raises(DomainError, match=message):
        services.save_session(None, {"title": "x", "category": "lecture", "held_on": date(2026, 1, 1),
                                     "hours": hours})


def test_select_officers_by_hand_refuses_unknown_and_ambiguous(db):
    a = OfficerFactory(name="张三")
    OfficerFactory(name="李四")
    OfficerFactory(name="李四")
    assert services.select_officers("hand", text=f"{a.id_number}\n") == [a]
    with pytest.raises(DomainError, match="有2位人员名为“李四”"):
        services.select_officers("hand", text="李四")
    with pytest.raises(DomainError, match="没有名为“王五”的人员"):
        services.select_officers("hand", text="张三 王五")
