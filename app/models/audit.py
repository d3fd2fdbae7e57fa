"""The audit log. Append-only: no route or command edits or deletes it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models_base import utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_event"
    # An officer's history (unit, post, status changes) reads that officer's rows only.
    __table_args__ = (Index("ix_audit_event_entity", "entity_type", "entity_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The acting user's unit scope (app/scope.py) when the row was written; None: the whole
    # organisation (or no user). A plain number: the unit may be deleted later, the row stays.
    scope_unit_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # The unit of what the row is about (a unit itself; an officer's unit; a certificate's officer's
    # unit; a user's scope unit), set when written and kept current when an officer or a user moves
    # (app/audit/services.py refresh_subjects). None: about something else (a case goes by case_unit).
    subject_unit_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(20), index=True)
    entity_type: Mapped[str] = mapped_column(String(50), default="")
    entity_id: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text, default="")
    changes: Mapped[dict | None] = mapped_column(JSON)
    ip: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class AuditSubject(db.Model):
    """The units an audit row belongs to, as the unit scope reads them (app/scope.py audit_clause):
    the acting user's scope unit (`scope_unit_id`), the unit of what the row is about
    (`subject_unit_id`) and, for a row about a case, each unit the case belongs to (`case_unit`: a
    case spanning two branches gives two rows). Derived from those three and kept current by the
    audit writer (app/audit/services.py `sync_subjects`: on insert, after an officer or user moves,
    after case_unit changes): a scoped user's audit rows are one indexed semi-join on
    (unit_id, audit_id). A plain unit number: the unit may be deleted later, the row stays."""

    __tablename__ = "audit_subject"
    __table_args__ = (Index("ix_audit_subject_unit_audit", "unit_id", "audit_id"),)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audit_event.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
