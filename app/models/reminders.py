"""What the reminder command sent, and how each run went."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models_base import utcnow


class ReminderRun(db.Model):
    """One `flask reminders send` run. Written as `running` first, so a run that was killed
    part-way stays visible (the dashboard shows it as unfinished)."""

    __tablename__ = "reminder_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    today: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(10), default="running")  # running|ok|failed
    message: Mapped[str] = mapped_column(Text, default="")
    certificates: Mapped[int] = mapped_column(Integer, default=0)
    windows: Mapped[int] = mapped_column(Integer, default=0)
    messages: Mapped[int] = mapped_column(Integer, default=0)


class ReminderDelivery(db.Model):
    """One certificate in one message on one channel. Append-only.

    A row with outcome `sent` for (certificate, window, channel) means "already reminded";
    `failed` rows only document attempts and never stop a later delivery.
    """

    __tablename__ = "reminder_delivery"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("reminder_run.id"), index=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), index=True)
    window: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(10))  # email|webhook
    recipient: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(10))  # sent|failed
    days_left: Mapped[int] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text, default="")
