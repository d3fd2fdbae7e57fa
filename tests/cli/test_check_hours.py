"""`flask check hours`: the per-officer yearly hours table agrees with attendance."""

from __future__ import annotations

from datetime import date

from sqlalchemy import update

from app.extensions import db as _db
from app.models.training import Attendance, TrainingHours, TrainingSession
from tests.factories import OfficerFactory


def _attend(app, hours=8.0):
    with app.app_context():
        o = OfficerFactory(name="李四")
        s = TrainingSession(title="行政处罚法", category="general_law", held_on=date(2025, 5, 6), hours=hours)
        _db.session.add(s)
        _db.session.flush()
        _db.session.add(Attendance(session_id=s.id, officer_id=o.id, status="attended", credited_hours=hours))
        _db.session.commit()
        return o.id, s.id


def test_check_hours_agrees_after_writes(app, runner):
    officer_id, session_id = _attend(app)
    with app.app_context():
        assert _db.session.get(TrainingHours, (officer_id, 2025)).hours == 8.0
        s = _db.session.get(TrainingSession, session_id)
        s.held_on = date(2026, 1, 3)  # moved to another year: the hours follow in the same commit
        _db.session.commit()
        assert _db.session.get(TrainingHours, (officer_id, 2025)) is None
        assert _db.session.get(TrainingHours, (officer_id, 2026)).hours == 8.0
    result = runner.invoke(args=["check", "hours"])
    assert result.exit_code == 0, result.output
    assert "一致" in result.output


def test_check_hours_lists_a_difference(app, runner):
    officer_id, _ = _attend(app)
    with app.app_context():
        _db.session.execute(update(TrainingHours).where(TrainingHours.officer_id == officer_id).values(hours=3.0))
        _db.session.commit()
    result = runner.invoke(args=["check", "hours"])
    assert result.exit_code == 1
    assert "李四" in result.output and "2025年" in result.output and "汇总表 3 学时" in result.output
    assert "应为 8 学时" in result.output
