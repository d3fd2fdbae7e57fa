"""Exams and results. `passed` is computed, never stored."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, String, UniqueConstraint, and_
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models_base import TimestampMixin


class Exam(TimestampMixin, db.Model):
    __tablename__ = "exam"
    __table_args__ = (UniqueConstraint("title", "held_on", name="uq_exam_title_date"),)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="qualification")
    held_on: Mapped[date] = mapped_column(Date, index=True)
    max_score: Mapped[float] = mapped_column(Float, default=100.0)
    pass_score: Mapped[float] = mapped_column(Float, default=60.0)
    makeup_of_id: Mapped[int | None] = mapped_column(ForeignKey("exam.id"))
    # The unit of the tree that organises it (its scope: app/scope.py); NULL: the whole organisation.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)

    makeup_of: Mapped[Exam | None] = relationship(remote_side="Exam.id")
    results: Mapped[list[ExamResult]] = relationship(back_populates="exam")


class ExamResult(TimestampMixin, db.Model):
    __tablename__ = "exam_result"
    __table_args__ = (UniqueConstraint("exam_id", "officer_id", name="uq_exam_result_exam_officer"),)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exam.id"), index=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"), index=True)
    score: Mapped[float | None] = mapped_column(Float)
    absent: Mapped[bool] = mapped_column(Boolean, default=False)
    # The 考试合格证明 of this result: when it was last printed, and when and why it was withdrawn
    # (its QR code then verifies as withdrawn, with the reason).
    document_issued_at: Mapped[datetime | None] = mapped_column(DateTime)
    document_withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)
    document_withdrawn_reason: Mapped[str | None] = mapped_column(String(500))

    exam: Mapped[Exam] = relationship(back_populates="results")
    officer: Mapped[Officer] = relationship()  # noqa: F821

    @hybrid_property
    def passed(self) -> bool:
        """Took the exam and scored at least its pass score. In SQL the query must join Exam."""
        return (not self.absent) and self.score is not None and self.score >= self.exam.pass_score

    @passed.inplace.expression
    @classmethod
    def _passed_expression(cls):
        return and_(cls.absent.is_(False), cls.score.is_not(None), cls.score >= Exam.pass_score)
