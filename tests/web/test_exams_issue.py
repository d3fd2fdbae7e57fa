"""Issuing an enforcement certificate without a passed qualification exam in the last 3 years asks
for confirmation and a reason, kept in the certificate's history; the officer page shows training,
exams and failed reviews."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db as _db
from app.models.certificates import AnnualReview, Certificate, CertificateEvent
from app.models.exams import Exam, ExamResult
from app.models.training import Attendance, TrainingSession
from tests.conftest import TODAY, login, token
from tests.factories import CertificateFactory, OfficerFactory

D = timedelta


@pytest.fixture(autouse=True)
def _today(set_today):
    set_today(TODAY)


def new_officer(app, exam_on: date | None = None, score: float = 80):
    with app.app_context():
        o = OfficerFactory(name="周七")
        if exam_on:
            e = Exam(title="资格考试", kind="qualification", held_on=exam_on, max_score=100, pass_score=60)
            _db.session.add_all([e, ExamResult(exam=e, officer_id=o.id, score=score)])
        _db.session.commit()
        return o.id


def issue(client, officer_id, **extra):
    url = f"/officers/{officer_id}/certificates/new"
    data = {"kind": "enforcement", "number": "NEW-1", "issuing_authority": "重庆市人民政府",
            "issued_on": TODAY.isoformat(), "expires_on": "", "status": "valid", "document_no": "",
            "csrf_token": token(client, url)} | extra
    return client.post(url, data=data, follow_redirects=True).get_data(as_text=True)


def count_certs(app):
    with app.app_context():
        return _db.session.scalar(select(func.count()).select_from(Certificate))


def test_issue_without_exam_needs_confirmation_and_reason(app, client):
    login(client, app, "clerk")
    oid = new_officer(app, exam_on=TODAY - D(4 * 365))  # passed, but more than 3 years ago
    form = client.get(f"/officers/{oid}/certificates/new").get_data(as_text=True)
    assert 'name="no_exam_confirm"' in form
    html = issue(client, oid)
    assert "该人员近3年没有通过资格考试的记录" in html and 'name="no_exam_reason"' in html
    assert count_certs(app) == 0
    html = issue(client, oid, no_exam_confirm="1", no_exam_reason="")
    assert "请勾选确认并填写原因" in html and count_certs(app) == 0
    html = issue(client, oid, no_exam_confirm="1", no_exam_reason="经区司法局批准，先行发证")
    assert "已为“周七”登记行政执法证 NEW-1" in html
    assert "经区司法局批准，先行发证" in html  # in the certificate's history on the officer page
    with app.app_context():
        cert = _db.session.scalar(select(Certificate))
        kinds = [(e.kind, e.reason) for e in cert.events]
    assert ("override", "经区司法局批准，先行发证") in kinds


def test_issue_with_recent_exam_or_as_application_needs_nothing(app, client):
    login(client, app, "clerk")
    oid = new_officer(app, exam_on=TODAY - D(300))
    assert 'name="no_exam_confirm"' not in client.get(f"/officers/{oid}/certificates/new").get_data(as_text=True)
    assert "已为“周七”登记行政执法证 NEW-1" in issue(client, oid)


def test_issuing_an_application_asks_for_confirmation(app, client):
    login(client, app, "clerk")
    oid = new_officer(app, exam_on=TODAY - D(100), score=59)  # failed: no passed exam
    assert "已为“周七”登记行政执法证 NEW-1" in issue(client, oid, status="applying")  # applying: no issue yet
    with app.app_context():
        cid = _db.session.scalar(select(Certificate.id))
    act = f"/certificates/{cid}/actions/issue"
    page = client.get(act).get_data(as_text=True)
    assert 'name="no_exam_confirm"' in page
    data = {"effective_on": TODAY.isoformat(), "reason": "审核通过", "document_no": "", "version": "1",
            "csrf_token": token(client, act)}
    html = client.post(act, data=data, follow_redirects=True).get_data(as_text=True)
    assert "该人员近3年没有通过资格考试的记录" in html
    with app.app_context():
        assert _db.session.get(Certificate, cid).status == "applying"
    html = client.post(act, data=data | {"no_exam_confirm": "1", "no_exam_reason": "补考成绩待复核"},
                       follow_redirects=True).get_data(as_text=True)
    assert "已发证" in html
    with app.app_context():
        assert _db.session.get(Certificate, cid).status == "valid"
        assert _db.session.scalar(select(CertificateEvent.reason).where(
            CertificateEvent.certificate_id == cid, CertificateEvent.kind == "override")) == "补考成绩待复核"


def test_officer_page_shows_hours_exams_and_failed_review(app, client):
    login(client, app, "viewer")
    with app.app_context():
        o = OfficerFactory(name="吴八")
        s = TrainingSession(title="行政许可法培训", held_on=date(2025, 4, 1), hours=12, category="specialist_law")
        e = Exam(title="年度法治理论考试", kind="annual", held_on=date(2025, 10, 1), max_score=100, pass_score=60)
        c = CertificateFactory(officer=o, number="C-WU", issued_on=date(2022, 1, 1), expires_on=date(2027, 1, 1))
        _db.session.add_all([s, e, Attendance(session=s, officer_id=o.id, status="attended", credited_hours=12),
                             ExamResult(exam=e, officer_id=o.id, score=55),
                             AnnualReview(certificate=c, year=2025, result="fail", note="学时不足",
                                          reviewed_on=date(2026, 1, 10))])
        _db.session.commit()
        oid = o.id
    html = client.get(f"/officers/{oid}").get_data(as_text=True)
    assert "2025年年审不通过（证件 C-WU）：学时不足" in html
    assert "行政许可法培训" in html and '<span class="year-hours">12</span>' in html
    assert "年度法治理论考试" in html and "不合格" in html
