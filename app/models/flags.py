"""The stored flags (问题提示): one day's output of the compliance engine, kept current by every
write (app/rules/flagstore.py). The engine (app/rules/compliance.py) stays the reference: it fills
this table and answers whatever the table cannot (another day, one officer, other parameters)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class FlagRow(db.Model):
    """One row of compliance.flags_select() for the day of `flag_meta`: officer_id NULL for
    UNIT_UNDERSTAFFED; expires_on is the expiry of certificate_id (EXPIRING is stored for the
    widest window asked, flag_meta.within, and cut to the window asked when read). No foreign
    keys: derived rows, rewritten after the officer, card or unit they name has changed."""

    __tablename__ = "flag_row"
    __table_args__ = (
        Index("ix_flag_row_flag_reason_unit", "flag", "reason", "unit_id"),
        Index("ix_flag_row_unit_flag", "unit_id", "flag"),
        Index("ix_flag_row_flag_expires", "flag", "expires_on"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    flag: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(String(40))
    officer_id: Mapped[int | None] = mapped_column(Integer, index=True)
    unit_id: Mapped[int] = mapped_column(Integer)
    certificate_id: Mapped[int | None] = mapped_column(Integer)
    expires_on: Mapped[date | None] = mapped_column(Date)


class FlagMeta(db.Model):
    """The one row saying what flag_row holds: the day, the widest EXPIRING window, and the
    fingerprints of the parameters the flags were computed with (eligible establishments; the
    training rule: hours, rules, first year judged), when it was built. `day` NULL: nothing usable."""

    __tablename__ = "flag_meta"
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date | None] = mapped_column(Date)
    within: Mapped[int] = mapped_column(Integer, default=90)
    eligible_fp: Mapped[str] = mapped_column(String(64), default="")
    training_fp: Mapped[str] = mapped_column(String(64), default="")
    built_at: Mapped[datetime | None] = mapped_column(DateTime)
