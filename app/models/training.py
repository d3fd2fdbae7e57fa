"""Training sessions and attendance."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models_base import TimestampMixin, utcnow


class TrainingSession(TimestampMixin, db.Model):
    __tablename__ = "training_session"
    __table_args__ = (UniqueConstraint("title", "held_on", name="uq_training_session_title_date"),)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(30))
    held_on: Mapped[date] = mapped_column(Date, index=True)
    hours: Mapped[float] = mapped_column(Float)
    location: Mapped[str] = mapped_column(String(200), default="")
    organiser: Mapped[str] = mapped_column(String(100), default="")
    lecturer: Mapped[str] = mapped_column(String(100), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    # The unit of the tree that organises it (its scope: app/scope.py); NULL: the whole organisation.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    # 培训方式: False 线下 (in person), True 线上 (online; capped by the year's rule)
    online: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    attendances: Mapped[list[Attendance]] = relationship(back_populates="session")


class Attendance(TimestampMixin, db.Model):
    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("session_id", "officer_id", name="uq_attendance_session_officer"),
        # Covers the yearly hours aggregate (TRAINING_SHORTFALL, ledger): an index-only scan in
        # officer order instead of a row lookup per attendance row (notes/benchmarks.md).
        Index("ix_attendance_officer_cover", "officer_id", "status", "session_id", "credited_hours"),
    )
    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id"), index=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"))
    status: Mapped[str] = mapped_column(String(20), default="registered")
    credited_hours: Mapped[float] = mapped_column(Float, default=0.0)

    session: Mapped[TrainingSession] = relationship(back_populates="attendances")
    officer: Mapped[Officer] = relationship()  # noqa: F821


class TrainingHours(db.Model):
    """Credited hours per officer and calendar year: a summary of `attendance`, kept current by
    every write that changes attendance or a session's date (app.rules.hours.refresh_hours,
    in the same transaction), so TRAINING_SHORTFALL and the ledger read 20,000 small rows instead
    of aggregating 200,000. `flask check hours` compares it with a recomputation."""

    __tablename__ = "training_hours"
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    hours: Mapped[float] = mapped_column(Float, default=0.0)
    # attended rows counted in `hours` (the year's person-times of the statistics page)
    attended: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # counted hours: `hours` less the online hours above the year's rule's cap (docs/domain.md)
    counted: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    online: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")  # online credited hours
    online_counted: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    __table_args__ = (Index("ix_training_hours_year", "year", "officer_id", "hours", "attended"),)


class TrainingGroupHours(db.Model):
    """Counted hours per officer, year and content group (公共法律知识 …): kept with
    training_hours by app.rules.hours.refresh_hours; only groups with attended rows."""

    __tablename__ = "training_group_hours"
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    grp: Mapped[str] = mapped_column(String(50), primary_key=True)
    hours: Mapped[float] = mapped_column(Float, default=0.0)


class TrainingRule(db.Model):
    """The training requirement of a year (docs/domain.md, 年度学时): a year without its own rule
    takes the latest earlier one; none at all: the setting training_hours_required."""

    __tablename__ = "training_rule"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    total: Mapped[float] = mapped_column(Float)
    minimums: Mapped[dict] = mapped_column(JSON, default=dict)  # {group: hours}
    online_max: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(Text, default="")
    closes_on: Mapped[date | None] = mapped_column(Date)


class DataChange(db.Model):
    """The write stamp (app/training/memo.py): one row per committed transaction that wrote any
    table other than the few written by reading (sessions, logins, jobs, audit, the memos);
    old rows pruned. count, sum and max of the ids change with every such commit."""

    __tablename__ = "data_change"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused, also after a purge
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class FigureMemo(db.Model):
    """Figures a page computed over the whole register (the year's statistics, the ledger's
    counts per unit), kept under the write stamp they were computed at (app/training/memo.py):
    read while no write has been committed since; `flask check hours` recomputes them."""

    __tablename__ = "figure_memo"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    params: Mapped[str] = mapped_column(Text)  # JSON: what the figures were computed for
    stamp: Mapped[str] = mapped_column(String(100))
    data: Mapped[str] = mapped_column(Text)  # JSON
