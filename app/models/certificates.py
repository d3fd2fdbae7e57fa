"""Certificates, their append-only event history, and annual reviews."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models_base import TimestampMixin, utcnow


class Certificate(TimestampMixin, db.Model):
    __tablename__ = "certificate"
    __table_args__ = (
        UniqueConstraint("kind", "number", name="uq_certificate_kind_number"),
        # The compliance engine reads each officer's certificates of a kind in this order, with status and
        # dates (officer_state: index-only on SQLite, issued_on included); reminders and lists filter
        # by expiry.
        Index("ix_certificate_officer_kind_status_expires_issued", "officer_id", "kind", "status", "expires_on",
              "issued_on"),
        Index("ix_certificate_expires_on", "expires_on"),
        # the public list's change log: certificates issued in its 90-day window
        Index("ix_certificate_issued_on", "issued_on"),
        # a number alone (the unique key leads with the kind): the case check resolves the numbers
        # written on cases (load_history, the 年审 note, case_unit) — a scan of every card without it
        Index("ix_certificate_number", "number"),
    )
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="enforcement")
    number: Mapped[str] = mapped_column(String(50))
    issuing_authority: Mapped[str] = mapped_column(String(100), default="")
    issued_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    categories: Mapped[str] = mapped_column(String(200), default="")
    area: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20), default="valid")
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    officer: Mapped[Officer] = relationship(back_populates="certificates")  # noqa: F821
    replaced_by: Mapped[Certificate | None] = relationship(remote_side="Certificate.id")
    events: Mapped[list[CertificateEvent]] = relationship(
        back_populates="certificate", order_by="CertificateEvent.id"
    )

    __mapper_args__ = {"version_id_col": version}


class CertificateEvent(db.Model):
    """A status change. Append-only: nothing updates or deletes these rows."""

    __tablename__ = "certificate_event"
    # a card's state on day D is its last event dated on or before D: one backward index seek per
    # (card, day) in the case check instead of sorting the card's events; to_status in it makes that
    # seek index-only (the year's figures: each card's status at year end).
    # effective_on first: the events of one year (the year's figures) and of the public list's 90-day
    # window without visiting every card (covering with certificate_id: no row lookups).
    __table_args__ = (Index("ix_certificate_event_cert_effective", "certificate_id", "effective_on", "id", "to_status"),
                      Index("ix_certificate_event_effective_on", "effective_on", "certificate_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    effective_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    document_no: Mapped[str] = mapped_column(String(100), default="")
    actor: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    certificate: Mapped[Certificate] = relationship(back_populates="events")


class AnnualReview(TimestampMixin, db.Model):
    __tablename__ = "annual_review"
    __table_args__ = (UniqueConstraint("certificate_id", "year", name="uq_annual_review_cert_year"),)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    result: Mapped[str] = mapped_column(String(10), default="pending")
    reviewed_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")

    certificate: Mapped[Certificate] = relationship()


class ReviewYear(db.Model):
    """The enforcement certificates effective on at least one day of a year — the annual review's
    (年审) certificates of that year (rules/review_years.py) — with their officer's unit, kept current
    by every write that can change them (a card's dates, kind, officer, its events; an officer's
    move), so that the review page counts and pages a year's cards from one index instead of
    checking every card's history per request. `flask check reviews` compares it with a fresh
    computation."""

    __tablename__ = "review_year"
    __table_args__ = (Index("ix_review_year_year_unit", "year", "unit_id", "certificate_id"),)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id", ondelete="CASCADE"), primary_key=True,
                                                index=True)
    unit_id: Mapped[int] = mapped_column(Integer)
