"""Penalty cases (docs/domain.md 案件核查) and their stored art. 42 verdicts (cases/verdicts.py)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models_base import TimestampMixin


class PenaltyCase(TimestampMixin, db.Model):
    """One administrative penalty case (行政处罚案件). `case` is an SQL keyword, hence the name."""

    __tablename__ = "penalty_case"
    case_no: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    opened_on: Mapped[date | None] = mapped_column(Date)
    decided_on: Mapped[date] = mapped_column(Date, index=True)
    unit: Mapped[str] = mapped_column(String(100), default="", index=True)
    officer_names: Mapped[str] = mapped_column(String(200), default="")
    outcome: Mapped[str] = mapped_column(Text, default="")

    certificates: Mapped[list[CaseCertificate]] = relationship(
        back_populates="case", order_by="CaseCertificate.position", cascade="all, delete-orphan")

    @property
    def numbers(self) -> list[str]:
        return [c.number for c in self.certificates]


class CaseCertificate(db.Model):
    """A certificate number as written on the decision, in its written order. Not a foreign key:
    a number the registry does not know is kept (and reported by the check)."""

    __tablename__ = "case_certificate"
    __table_args__ = (UniqueConstraint("case_id", "position", name="uq_case_certificate_position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("penalty_case.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(50), index=True)

    case: Mapped[PenaltyCase] = relationship(back_populates="certificates")


class CaseVerdict(db.Model):
    """The art. 42 verdict of one case — ok, and the reasons it fails, each framed by commas
    (",expired,fewer_than_two,") — kept current by every write that can change it, in the same
    transaction (cases/verdicts.py), so that the dashboard, the case list's filters and counts and
    the annual figures read one small table instead of judging 20,000 cases. `flask check cases`
    recomputes every verdict and reports any difference."""

    __tablename__ = "case_verdict"
    # the case list in its order (决定日期 newest first) per verdict, and the counts per verdict and
    # year, from this one index: no look-up of the case per row (app/cases/services.case_page)
    __table_args__ = (Index("ix_case_verdict_ok_decided", "ok", "decided_on", "case_id"),)
    case_id: Mapped[int] = mapped_column(ForeignKey("penalty_case.id", ondelete="CASCADE"), primary_key=True)
    ok: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[str] = mapped_column(String(300), default="")
    decided_on: Mapped[date | None] = mapped_column(Date)  # the case's 决定日期, stored with its verdict


class CaseUnit(db.Model):
    """The units a case belongs to, as the unit scope reads them (app/scope.case_clause): the unit its
    承办单位 names when that is a unit of the tree, otherwise the units of the officers its
    certificate numbers resolve to (a case spanning two branches has a row for each). Kept current
    with the verdicts, in the same transaction (rules/case_units.py); `flask check cases` checks it."""

    __tablename__ = "case_unit"
    __table_args__ = (Index("ix_case_unit_unit_case", "unit_id", "case_id"),)
    case_id: Mapped[int] = mapped_column(ForeignKey("penalty_case.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True)
