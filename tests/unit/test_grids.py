"""The attendance and score grids write who changed from what to what into the audit log."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.errors import DomainError
from app.exams.services import save_results
from app.models.audit import AuditEvent
from app.models.exams import Exam, ExamResult
from app.models.training import Attendance, TrainingSession
from app.training.services import save_grid
from tests.factories import OfficerFactory


def test_attendance_grid_audits_each_change_and_refuses_all_on_one_bad_row(db):
    a, b = OfficerFactory(name="甲"), OfficerFactory(name="乙")
    s = TrainingSession(title="讲座", category="lecture", held_on=date(2026, 3, 1), hours=3)
    db.session.add(s)
    db.session.flush()
    ra = Attendance(session_id=s.id, officer_id=a.id, status="registered", credited_hours=0)
    rb = Attendance(session_id=s.id, officer_id=b.id, status="registered", credited_hours=0)
    db.session.add_all([ra, rb])
    db.session.commit()
    with pytest.raises(DomainError, match="乙"):
        save_grid(s, {ra.id: ("attended", None), rb.id: ("attended", "9")})  # 9 > 3 hours
    db.session.rollback()
    assert save_grid(s, {ra.id: ("attended", None), rb.id: ("registered", None)}) == 1
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "training_session")).one()
    assert event.changes == {"甲": ["已报名 0", "出席 3"]}


def test_score_grid_audits_each_change(db):
    a = OfficerFactory(name="丙")
    e = Exam(title="资格考试", kind="qualification", held_on=date(2026, 3, 2), max_score=100, pass_score=60)
    db.session.add(e)
    db.session.flush()
    r = ExamResult(exam_id=e.id, officer_id=a.id, score=None, absent=False)
    db.session.add(r)
    db.session.flush()
    assert save_results(e, {r.id: ("", True)}) == 1
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "exam")).one()
    assert event.changes == {"丙": [None, "缺考"]}
