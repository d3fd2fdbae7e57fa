"""Officer accounts' invitations, training claims and change requests (docs/domain.md, 执法人员自助).

An officer account is a `User` with role "officer" bound to one officer (`User.officer_id`). Every
table here is keyed by officer_id, so the unit scope (app/scope.py) limits a staff user to the
claims and requests of their own subtree without a filter of its own.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models_base import TimestampMixin


class OfficerInvite(TimestampMixin, db.Model):
    """A one-time activation code for an officer (only its hash is kept). A newer invitation of
    the same officer ends the older ones (`ended_at`)."""

    __tablename__ = "officer_invite"
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(100), default="")


class TrainingClaim(TimestampMixin, db.Model):
    """Training an officer did elsewhere, with proof; counted once approved (app/rules/hours.py)."""

    __tablename__ = "training_claim"
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    organiser: Mapped[str] = mapped_column(String(100), default="")
    held_on: Mapped[date] = mapped_column(Date)
    hours: Mapped[float] = mapped_column(Float)
    category: Mapped[str] = mapped_column(String(30))
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    proof_name: Mapped[str] = mapped_column(String(200), default="")
    proof_mime: Mapped[str] = mapped_column(String(30), default="")
    proof: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)  # pending|approved|returned
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(100), default="")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)

    officer: Mapped[Officer] = relationship()  # noqa: F821


class ChangeRequest(TimestampMixin, db.Model):
    """A phone number or photo the officer asks for; their unit approves or returns it."""

    __tablename__ = "officer_change_request"
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(10))  # phone | photo
    value: Mapped[str] = mapped_column(String(30), default="")
    data: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    mime: Mapped[str] = mapped_column(String(30), default="")
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(100), default="")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    officer: Mapped[Officer] = relationship()  # noqa: F821
