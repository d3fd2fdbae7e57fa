"""Pass logic, make-up exams, the recent-qualification rule, and annual review pre-checks."""

from __future__ import annotations

from datetime import date

import pytest

from app.errors import DomainError
from app.exams import services
from app.extensions import db as _db
from app.models.certificates import CertificateEvent
from app.models.exams import ExamResult
from app.models.training import Attendance, TrainingSession
from app.reviews import services as reviews
from tests.factories import CertificateFactory, OfficerFactory


def exam(title="资格考试", held_on=date(2025, 5, 1), **kw):
    data = {"title": title, "kind": "qualification", "held_on": held_on, "max_score": 100, "pass_score": 60}
    return services.save_exam(None, data | kw)


def results(e, officers, scores):
    services.add_candidates(e, officers)
    by_officer = {r.officer_id: r for r in e.results}
    services.save_results(e, {by_officer[o.id].id: (s, s == "absent") for o, s in zip(officers, scores, strict=True)})
    return {o.name: by_officer[o.id] for o in officers}


def test_passed_is_score_at_least_pass_score(db):
    e = exam(pass_score=72.5)
    a, b, c, d = (OfficerFactory(name=n) for n in "甲乙丙丁")
    r = results(e, [a, b, c, d], ["72.5", "72.4", "absent", ""])
    assert [r[n].passed for n in "甲乙丙丁"] == [True, False, False, False]
    assert r["丙"].absent and r["丙"].score is None
    assert r["丁"].score is None and not r["丁"].absent  # not entered yet


def test_score_above_maximum_is_refused_and_nothing_saved(db):
    e = exam(max_score=50, pass_score=30)
    a, b = OfficerFactory(name="甲"), OfficerFactory(name="乙")
    services.add_candidates(e, [a, b])
    ids = {x.officer_id: x.id for x in e.results}
    with pytest.raises(DomainError, match="乙：成绩应在0到满分50之间"):
        services.save_results(e, {ids[a.id]: ("40", False), ids[b.id]: ("51", False)})


def test_pass_score_defaults_to_setting_and_must_fit_max(db):
    from app.settings.services import set_value

    set_value("exam_pass_score", "75")
    e = services.save_exam(None, {"title": "t", "kind": "annual", "held_on": date(2025, 1, 1),
                                  "max_score": None, "pass_score": None})
    assert (e.max_score, e.pass_score) == (100, 75)
    with pytest.raises(DomainError, match="合格分数应在0到满分50之间"):
        services.save_exam(None, {"title": "u", "kind": "annual", "held_on": date(2025, 1, 1),
                                  "max_score": 50, "pass_score": 60})


def test_makeup_exam(db):
    orig = exam(kind="annual")
    a, b, c = (OfficerFactory(name=n) for n in "甲乙丙")
    results(orig, [a, b, c], ["80", "50", "absent"])
    with pytest.raises(DomainError, match="不能早于原考试"):
        exam("补考", date(2025, 4, 1), makeup_of_id=orig.id)
    m = exam("补考", date(2025, 6, 1), makeup_of_id=orig.id, kind="qualification")
    assert m.kind == "annual" and m.makeup_of is orig  # a make-up takes the kind of the exam it repeats
    assert {o.name for o in services.makeup_candidates(m)} == {"乙", "丙"}
    with pytest.raises(DomainError, match="甲 已通过原考试"):
        services.add_candidates(m, [a])
    r = results(m, [b, c], ["60", "59"])
    assert (r["乙"].passed, r["丙"].passed) == (True, False)


def test_recent_passed_qualification(db):
    o = OfficerFactory()
    today = date(2026, 6, 15)
    assert not services.has_recent_passed_qualification(o.id, today)
    old = exam("旧", date(2023, 6, 14))
    results(old, [o], ["90"])
    assert not services.has_recent_passed_qualification(o.id, today)  # 3 years and a day ago
    assert services.has_recent_passed_qualification(o.id, date(2026, 6, 14))  # exactly 3 years
    failed = exam("新", date(2026, 1, 1))
    results(failed, [o], ["59"])
    assert not services.has_recent_passed_qualification(o.id, today)
    annual = exam("年度", date(2026, 2, 1), kind="annual")
    results(annual, [o], ["99"])
    assert not services.has_recent_passed_qualification(o.id, today)  # only qualification exams
    makeup = exam("补考", date(2026, 2, 1), makeup_of_id=failed.id)
    results(makeup, [o], ["61"])
    assert services.has_recent_passed_qualification(o.id, today)


def test_annual_review_prechecks_and_bulk_record(db):
    y = 2025
    good, short, moved, susp = (OfficerFactory(name=n) for n in ("好", "学时少", "离岗", "暂扣过"))
    moved.on_enforcement_post = False
    certs = {o.name: CertificateFactory(officer=o, issued_on=date(2022, 1, 1), expires_on=date(2027, 1, 1))
             for o in (good, short, moved, susp)}
    CertificateFactory(officer=good, issued_on=date(2015, 1, 1), expires_on=date(2024, 12, 31))  # not in 2025
    c = certs["暂扣过"]
    _db.session.add(CertificateEvent(certificate=c, kind="suspend", from_status="valid", to_status="suspended",
                                     effective_on=date(y, 3, 1), actor="t"))
    s = TrainingSession(title="全年", held_on=date(y, 3, 1), hours=60, category="general_law")
    _db.session.add(s)
    for o in (good, moved, susp):
        _db.session.add(Attendance(session=s, officer_id=o.id, status="attended", credited_hours=60))
    _db.session.flush()
    rows, held = reviews.review_rows(y, 60)
    assert not held
    by = {r["name"]: r for r in rows}
    assert set(by) == {"好", "学时少", "离岗", "暂扣过"}
    assert by["好"]["checks"] == {"valid": True, "on_post": True, "hours": True, "no_suspension": True,
                                 "annual_exam": None}
    assert by["学时少"]["checks"]["hours"] is False
    assert by["离岗"]["checks"]["on_post"] is False
    assert by["暂扣过"]["checks"]["no_suspension"] is False
    # an annual exam held in the year becomes a check
    e = exam("年度考试", date(y, 10, 1), kind="annual")
    _db.session.add(ExamResult(exam=e, officer_id=good.id, score=60))
    _db.session.flush()
    by = {r["name"]: r for r in reviews.review_rows(y, 60)[0]}
    assert (by["好"]["checks"]["annual_exam"], by["离岗"]["checks"]["annual_exam"]) == (True, False)
    # many at once
    with pytest.raises(DomainError, match="请填写原因"):
        reviews.record_reviews(y, [certs["学时少"].id], "fail", reviewed_on=date(2026, 1, 5), today=date(2026, 1, 5))
    assert reviews.record_reviews(y, [certs["学时少"].id, certs["离岗"].id], "fail", reviewed_on=date(2026, 1, 5),
                                  note="学时不足", today=date(2026, 1, 5)) == 2
    assert reviews.record_reviews(y, [certs["好"].id], "pass", reviewed_on=date(2026, 1, 5),
                                  today=date(2026, 1, 5)) == 1
    assert [(r["year"], r["result"], r["note"]) for r in reviews.officer_reviews(short.id)] == [(y, "fail", "学时不足")]
    assert {r["name"]: r["result"] for r in reviews.review_rows(y, 60, result="fail")[0]} == {
        "学时少": "fail", "离岗": "fail"}


def test_issue_confirmation_rule(db):
    o = OfficerFactory()
    today = date(2026, 6, 15)
    with pytest.raises(DomainError, match="近3年没有通过资格考试"):
        services.issue_confirmation(o.id, "enforcement", "valid", today=today, confirmed=False, reason="")
    with pytest.raises(DomainError, match="请勾选确认并填写原因"):
        services.issue_confirmation(o.id, "enforcement", "valid", today=today, confirmed=True, reason="  ")
    assert services.issue_confirmation(o.id, "enforcement", "valid", today=today, confirmed=True,
                                       reason="军转干部，经批准免考") == (True, "军转干部，经批准免考")
    # not an issue of an enforcement certificate: nothing to confirm
    assert services.issue_confirmation(o.id, "supervision", "valid", today=today, confirmed=False,
                                       reason="") == (False, None)
    assert services.issue_confirmation(o.id, "enforcement", "applying", today=today, confirmed=False,
                                       reason="") == (False, None)
    results(exam(held_on=date(2025, 1, 1)), [o], ["70"])
    assert services.issue_confirmation(o.id, "enforcement", "valid", today=today, confirmed=False,
                                       reason="") == (False, None)
