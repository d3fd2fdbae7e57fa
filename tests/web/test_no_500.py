"""No input makes any page answer 500: garbage in every form field and query argument, on every
route, with real rows behind the URL ids."""

from __future__ import annotations

from datetime import date

import pytest
from flask import url_for

from app.auth.access import PUBLIC_ENDPOINTS
from app.extensions import db
from app.models.exams import Exam, ExamResult
from app.models.training import Attendance, TrainingSession
from tests.conftest import login, token
from tests.factories import CertificateFactory, OfficerFactory

GARBAGE = [
    "",
    "abc",
    "-1",
    "2024-02-30",
    "9" * 40,
    "'; DROP TABLE officer; --",
    "<script>alert(1)</script>",
    "中文" * 300,
    "1e309",
    "NaN",
]
FIELDS = [
    "name", "id_number", "unit_id", "unit", "position", "establishment", "education",
    "on_enforcement_post", "employment_status", "status_changed_on", "post_since", "retirement_basis", "phone",
    "employee_no", "notes",
    "kind", "number", "issuing_authority", "issued_on", "expires_on", "categories", "area", "status",
    "document_no", "version", "effective_on", "reason", "new_number", "new_issued_on",
    "new_expires_on", "title", "category", "held_on", "hours", "location", "organiser", "lecturer",
    "max_score", "pass_score", "makeup_of_id", "mode", "officers", "text", "year", "result", "note",
    "username", "display_name", "role", "password", "confirm", "sort_order", "parent_id",
    "org_name", "reminder_windows", "training_hours_required", "no_exam_confirm", "no_exam_reason",
    "today", "within", "page", "sort", "q", "flag", "dry_run", "type",
    "case_no", "opened_on", "decided_on", "numbers-0", "numbers-1", "officer_names", "outcome",
    "confirm_cases", "verdict",
    "rules", "fixed", "minutes", "at", "room", "stem", "option_a", "option_b", "answer", "points", "basis",
]
QUERY = {"page": "-3", "sort": "-nonsense", "year": "abc", "today": "2024-13-45", "within": "-5",
         "flag": "XX", "unit": "99999", "status": "zzz", "post": "maybe", "q": "%_'\"", "from": "x",
         "to": "2024-02-30", "category": "none", "kind": "?", "session": "x", "exam": "y"}


@pytest.fixture
def world(app):
    """One of everything, so the URL ids point at real rows."""
    with app.app_context():
        officer = OfficerFactory()
        cert = CertificateFactory(officer=officer)
        session = TrainingSession(title="培训", category="lecture", held_on=date(2026, 3, 1), hours=2)
        exam = Exam(title="考试", kind="qualification", held_on=date(2026, 3, 2), max_score=100, pass_score=60)
        db.session.add_all([session, exam])
        db.session.flush()
        att = Attendance(session_id=session.id, officer_id=officer.id, status="attended", credited_hours=2)
        res = ExamResult(exam_id=exam.id, officer_id=officer.id, score=80, absent=False)
        db.session.add_all([att, res])
        from app.models.imports import ImportBatch

        batch = ImportBatch(token="batch-token", kind="officers", filename="名单.xlsx",
                            file_data=b"PK", status="imported", summary="导入执法人员 1 条")
        db.session.add(batch)
        from app.cases.services import save_case

        case = save_case(None, {"case_no": "罚1", "decided_on": date(2026, 3, 3),
                                "certificate_numbers": [cert.number, "X9"]})
        from app.models.online import PaperItem, Question, Sitting

        question = Question(type="single", stem="题", options={"A": "甲", "B": "乙"}, answer="A", category="",
                            basis="", retired=False, version=1)
        sitting = Sitting(exam_id=exam.id, officer_id=officer.id, code="ABCDEFGH", seat=1, extra_minutes=0)
        db.session.add_all([question, sitting])
        db.session.flush()
        item = PaperItem(sitting_id=sitting.id, position=1, question_id=question.id, type="single", stem="题",
                         options=[["A", "A", "甲"], ["B", "B", "乙"]], key="A", points=1)
        db.session.add(item)
        from app.models.applications import Application, Notification
        from app.models.auth import User
        from app.models.me import ChangeRequest, TrainingClaim

        claim = TrainingClaim(officer_id=officer.id, title="自学", held_on=date(2026, 3, 4), hours=2,
                              category="lecture", proof_name="证明.png", proof_mime="image/png", proof=b"\x89PNG")
        change = ChangeRequest(officer_id=officer.id, field="phone", value="13800000000")
        application = Application(number="2026-0001", kind="renew", officer_id=officer.id, state="unit_review",
                                  step="unit_review", step_since=date(2026, 3, 5), submitted_on=date(2026, 3, 5),
                                  old_certificate_id=cert.id)
        reader = User(username="notereader", password_hash="x", role="viewer")
        db.session.add_all([claim, change, application, reader])
        db.session.flush()
        note = Notification(user_id=reader.id, application_id=application.id, text="换证申请待单位初审")
        db.session.add(note)
        db.session.commit()
        return {"claim_id": claim.id, "req_id": change.id, "application_id": application.id, "note_id": note.id,
                "batch_id": batch.id, "kind": "officers", "qid": question.id, "sid": sitting.id, "item_id": item.id,
                "officer_id": officer.id, "cert_id": cert.id, "unit_id": officer.unit_id,
                "session_id": session.id, "exam_id": exam.id, "att_id": att.id, "result_id": res.id,
                "year": 2026, "token": "not-a-token", "action": "suspend", "case_id": case.id,
                "job_id": "no-such-job", "token_id": 999, "number": cert.number, "name": "swagger-ui.css"}


def _urls(app, world):
    out = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint.endswith("static") or rule.endpoint == "auth.logout":
                continue
            values = {}
            for arg in rule.arguments:
                conv = rule._converters[arg]
                if conv.__class__.__name__ == "AnyConverter":
                    values[arg] = sorted(conv.items)[0]
                elif arg == "user_id":
                    values[arg] = world["admin_id"]
                else:
                    values[arg] = world[arg]
            out.append((rule.endpoint, rule.methods - {"HEAD", "OPTIONS"}, url_for(rule.endpoint, **values)))
    return out


def test_garbage_never_gives_500(app, client, world):
    login(client, app, "admin", username="fuzzadmin")
    with app.app_context():
        from app.models.auth import User

        world["admin_id"] = db.session.scalar(db.select(User.id).where(User.username == "fuzzadmin"))
        from app.models.applications import Notification

        db.session.get(Notification, world["note_id"]).user_id = world["admin_id"]  # the admin's own notice
        db.session.commit()
    csrf = token(client, "/")
    checked = 0
    for endpoint, methods, url in _urls(app, world):
        if "GET" in methods:
            resp = client.get(url, query_string=QUERY)
            assert resp.status_code < 500, (endpoint, url, "GET", resp.status_code)
            checked += 1
        if "POST" in methods and endpoint not in PUBLIC_ENDPOINTS:
            for value in GARBAGE:
                data = dict.fromkeys(FIELDS, value)
                data["csrf_token"] = csrf
                resp = client.post(url, data=data)
                assert resp.status_code < 500, (endpoint, url, repr(value[:20]), resp.status_code)
                checked += 1
            # and a form with nothing but the token
            resp = client.post(url, data={"csrf_token": csrf})
            assert resp.status_code < 500, (endpoint, url, "empty", resp.status_code)
    assert checked > 100
