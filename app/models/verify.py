"""How often each verification token was looked up, one row per token per day.

/verify is public, so anonymous traffic must not grow the database without bound: a hit adds 1
to its (day, kind, row) counter; only the first hit of a token each day writes an audit row.
Signatures that do not verify all share the row (day, "invalid", 0).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models_base import utcnow


class VerifyHit(db.Model):
    __tablename__ = "verify_hit"
    __table_args__ = (UniqueConstraint("day", "kind", "row_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))  # training | exam | invalid | public-pdf (row 0)
    row_id: Mapped[int] = mapped_column(Integer)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    first_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
