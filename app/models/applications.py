"""Applications (申领/换证/补证/注销), their decisions, in-app notifications and the working-day
calendar entered by an administrator for years the bundled calendar does not know."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.officers import Officer
from app.models_base import TimestampMixin, utcnow


class Application(TimestampMixin, db.Model):
    __tablename__ = "application"
    __table_args__ = (
        Index("ix_application_officer_kind_state", "officer_id", "kind", "state"),
        Index("ix_application_state_due", "state", "due_on"),
    )
    number: Mapped[str] = mapped_column(String(30), unique=True)
    kind: Mapped[str] = mapped_column(String(10))           # labels.APPLICATION_KINDS
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"), index=True)
    state: Mapped[str] = mapped_column(String(20))          # labels.APPLICATION_STATES
    # the step it waits at; when returned, the step that sent it back (the resubmission goes there)
    step: Mapped[str | None] = mapped_column(String(20))
    step_since: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    due_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_on: Mapped[date] = mapped_column(Date, index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    # 申领: a qualification exam passed on or after this day counts (3 years before submitted_on)
    exam_since: Mapped[date | None] = mapped_column(Date)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    submitted_by: Mapped[str] = mapped_column(String(100), default="")
    # the submitting user's scope (None: the whole organisation): who may resubmit
    submitted_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    old_certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))
    new_certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))
    finished_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    officer: Mapped[Officer] = relationship()
    old_certificate: Mapped[Certificate | None] = relationship(foreign_keys=[old_certificate_id])  # noqa: F821
    new_certificate: Mapped[Certificate | None] = relationship(foreign_keys=[new_certificate_id])  # noqa: F821
    actions: Mapped[list[ApplicationAction]] = relationship(
        back_populates="application", order_by="ApplicationAction.id")

    __mapper_args__ = {"version_id_col": version}


class ApplicationAction(db.Model):
    """One entry of an application's timeline (append-only): who decided what, when and why."""

    __tablename__ = "application_action"
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    step: Mapped[str] = mapped_column(String(20))           # submitted | awaiting_exam | a step
    decision: Mapped[str] = mapped_column(String(20))       # labels.APPLICATION_DECISIONS
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor: Mapped[str] = mapped_column(String(100), default="")  # the user name
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    acted_on: Mapped[date] = mapped_column(Date)            # the business day (app.clock)
    reason: Mapped[str] = mapped_column(Text, default="")

    application: Mapped[Application] = relationship(back_populates="actions")


class Notification(db.Model):
    """An in-app message: an application reached the user's step, or came back to them."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_read", "user_id", "read_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)


class CalendarDay(db.Model):
    """A day of a year entered by an administrator: 休 (a holiday) or 班 (a worked weekend day).
    A year with rows here is counted from them (Monday–Friday otherwise)."""

    __tablename__ = "calendar_day"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(50), default="")


# An officer's applications, newest first: the officer page loads them in its own statement
# (joinedload) instead of one more.
Officer.applications = relationship(
    Application, viewonly=True, order_by=(Application.submitted_on.desc(), Application.id.desc()))
