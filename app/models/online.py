"""Question bank, an exam's online settings, each candidate's sitting and its frozen paper.

A paper item is a *copy* of the question as it was drawn (stem, options in the order shown, key,
points), so editing or retiring a bank question never changes an exam already held.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models_base import TimestampMixin


class Question(TimestampMixin, db.Model):
    __tablename__ = "question"
    type: Mapped[str] = mapped_column(String(20), index=True)  # single | multiple | true_false
    stem: Mapped[str] = mapped_column(Text)
    options: Mapped[dict] = mapped_column(JSON, default=dict)  # {"A": "…", …}; {} for true_false
    answer: Mapped[str] = mapped_column(String(10))  # "B" | "ABD" | "对"/"错"
    points: Mapped[float | None] = mapped_column(Float)
    category: Mapped[str] = mapped_column(String(100), default="", index=True)
    basis: Mapped[str] = mapped_column(String(500), default="")
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)


class OnlineExam(TimestampMixin, db.Model):
    """The online part of an Exam: paper rules, the answering window, and how it ended."""

    __tablename__ = "online_exam"
    exam_id: Mapped[int] = mapped_column(ForeignKey("exam.id"), unique=True)
    rules: Mapped[list | None] = mapped_column(JSON)  # [{"type", "category", "count", "points"}]
    fixed: Mapped[bool] = mapped_column(Boolean, default=False)
    fixed_questions: Mapped[list | None] = mapped_column(JSON)  # question ids, for --fixed
    opens_at: Mapped[datetime | None] = mapped_column(DateTime)  # UTC
    ends_at: Mapped[datetime | None] = mapped_column(DateTime)  # UTC
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)  # UTC, when the results were set
    room: Mapped[str] = mapped_column(String(100), default="")
    show_score: Mapped[bool] = mapped_column(Boolean, default=True)

    exam: Mapped[Exam] = relationship()  # noqa: F821


class Sitting(TimestampMixin, db.Model):
    """One candidate at one online exam: access code, seat, login token, answers, outcome."""

    __tablename__ = "exam_sitting"
    __table_args__ = (UniqueConstraint("exam_id", "code", name="uq_exam_sitting_exam_code"),
                      UniqueConstraint("exam_id", "officer_id", name="uq_exam_sitting_exam_officer"))
    exam_id: Mapped[int] = mapped_column(ForeignKey("exam.id"), index=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    seat: Mapped[int] = mapped_column(Integer)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    first_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime)
    extra_minutes: Mapped[int] = mapped_column(Integer, default=0)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    submitted_by: Mapped[str | None] = mapped_column(String(20))  # candidate | timeout | close | force
    score: Mapped[float | None] = mapped_column(Float)
    # A candidate with a result already recorded in the exam sits the online paper only when an
    # administrator let the online result replace it (with this reason).
    replaces_result: Mapped[bool] = mapped_column(Boolean, default=False)
    replace_reason: Mapped[str | None] = mapped_column(String(500))

    officer: Mapped[Officer] = relationship()  # noqa: F821
    items: Mapped[list[PaperItem]] = relationship(back_populates="sitting", order_by="PaperItem.position",
                                                  cascade="all, delete-orphan")


class PaperItem(TimestampMixin, db.Model):
    """A question as it stands on one candidate's paper (frozen copy) and the answer given."""

    __tablename__ = "exam_paper_item"
    sitting_id: Mapped[int] = mapped_column(ForeignKey("exam_sitting.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[int | None] = mapped_column(ForeignKey("question.id", ondelete="SET NULL"), index=True)
    question_version: Mapped[int] = mapped_column(Integer, default=1)
    type: Mapped[str] = mapped_column(String(20))
    stem: Mapped[str] = mapped_column(Text)
    # Options as shown: [[shown letter, original letter, text], …]; [] for true_false.
    options: Mapped[list] = mapped_column(JSON, default=list)
    key: Mapped[str] = mapped_column(String(10))  # in shown letters
    points: Mapped[float] = mapped_column(Float)
    category: Mapped[str] = mapped_column(String(100), default="")
    answer: Mapped[str | None] = mapped_column(String(10))  # in shown letters
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)

    sitting: Mapped[Sitting] = relationship(back_populates="items")
