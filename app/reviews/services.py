"""Annual review (年审): the certificates effective in a year, their pre-checks, bulk results.

Pre-checks: the officer is still active on an enforcement post; credited hours in the year meet
the requirement; no suspension of the certificate in the year; the officer passed the year's
annual exam (年度法治理论考试) when one was held. All computed in a few aggregate queries.
A note, not a failure: "近两年无执法办案记录" for an officer on post whose certificates appear in no
penalty case decided in the reviewed year or the year before (only once cases are recorded at all).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, exists, func, or_, select

from app.audit.services import record
from app.certificates.models import AnnualReview, Certificate, CertificateEvent
from app.errors import DomainError
from app.exams.models import Exam, ExamResult
from app.extensions import db
from app.labels import REVIEW_RESULTS
from app.officers.models import Officer, Unit
from app.paging import page_of
from app.training.hours import hours_by_officer, year_bounds
from app.training.stats import passed_condition, status_on


def _effective_in_year_where(year: int, start: date, end: date, st) -> list:
    """The conditions of effective_in_year on Certificate outer-joined to `st` (status_on(start))."""
    became_valid = exists().where(CertificateEvent.certificate_id == Certificate.id,
                                  CertificateEvent.to_status == "valid",
                                  CertificateEvent.effective_on.between(start, end))
    return [Certificate.kind == "enforcement", Certificate.issued_on <= end,
            Certificate.expires_on >= start, or_(st.c.to_status == "valid", became_valid)]


def effective_in_year(year: int):
    """Enforcement certificates effective on at least one day of `year`: dates overlap the year,
    and the history shows them valid on 1 January or made valid during the year."""
    start, end = year_bounds(year)
    st = status_on(start)
    return (select(Certificate.id).outerjoin(st, st.c.certificate_id == Certificate.id)
            .where(*_effective_in_year_where(year, start, end, st)))


def review_rows(year: int, required: float, *, unit_id: int | None = None, result: str | None = None,
                search: str | None = None, page: int | None = None,
                per_page: int = 50) -> tuple[list[dict[str, Any]], bool]:
    """(rows, annual_exam_held) for every certificate effective in `year` — or, with `page`, the
    rows of that page only (the last page when past the end), each row carrying `total`."""
    start, end = year_bounds(year)
    st = status_on(start)
    annual_held = db.session.scalar(select(func.count()).select_from(Exam).where(
        Exam.kind == "annual", Exam.held_on.between(start, end))) > 0
    h = hours_by_officer(year)

    def checks(cert_id, officer_id, status_jan1):
        """The two per-certificate look-ups (a suspension during the year; the annual exam passed)."""
        suspended = or_(
            exists().where(CertificateEvent.certificate_id == cert_id,
                           CertificateEvent.to_status == "suspended",
                           CertificateEvent.from_status != "suspended",
                           CertificateEvent.effective_on.between(start, end)),
            status_jan1 == "suspended")
        passed_annual = exists().where(
            ExamResult.officer_id == officer_id, Exam.id == ExamResult.exam_id,
            Exam.kind == "annual", Exam.held_on.between(start, end), passed_condition())
        return [suspended.label("suspended"), passed_annual.label("passed_annual")]

    from app.cases.services import any_cases, officer_ids_with_cases_between

    with_cases = Officer.id.in_(officer_ids_with_cases_between(date(year - 1, 1, 1), end))
    cases_known = any_cases()
    q = (select(Certificate.id, Certificate.number, Certificate.status, Certificate.expires_on,
                Officer.id.label("officer_id"), Officer.name, Officer.id_number, Unit.name.label("unit"),
                and_(Officer.employment_status == "active", Officer.on_enforcement_post.is_(True)).label("on_post"),
                func.coalesce(h.c[f"h{year}"], 0.0).label("hours"), st.c.to_status.label("status_jan1"),
                AnnualReview.result, AnnualReview.reviewed_on, AnnualReview.note,
                with_cases.label("has_cases"))
         .join(Officer, Officer.id == Certificate.officer_id).join(Unit, Unit.id == Officer.unit_id)
         .outerjoin(st, st.c.certificate_id == Certificate.id)
         .outerjoin(h, h.c.officer_id == Officer.id)
         .outerjoin(AnnualReview, and_(AnnualReview.certificate_id == Certificate.id, AnnualReview.year == year))
         .where(*_effective_in_year_where(year, start, end, st)))
    order = (Unit.sort_order, Unit.name, Officer.name, Certificate.id)
    if unit_id:
        q = q.where(Officer.unit_id == unit_id)
    if result == "none":
        q = q.where(AnnualReview.id.is_(None))
    elif result in REVIEW_RESULTS:
        q = q.where(AnnualReview.result == result)
    if search:
        q = q.where(or_(Officer.name.like(f"%{search}%"), Certificate.number.like(f"%{search}%")))
    total = None
    if page is not None:
        result_rows, total, _shown = page_of(
            q, order, page, per_page, late=lambda paged: checks(paged.c.id, paged.c.officer_id, paged.c.status_jan1))
    else:
        result_rows = db.session.execute(
            q.add_columns(*checks(Certificate.id, Certificate.officer_id, st.c.to_status)).order_by(*order)).all()
    rows = []
    for r in result_rows:
        checks = {
            "on_post": bool(r.on_post),
            "hours": float(r.hours) >= required,
            "no_suspension": not r.suspended,
            "annual_exam": bool(r.passed_annual) if annual_held else None,
        }
        rows.append({
            "certificate_id": r.id, "number": r.number, "status": r.status, "expires_on": r.expires_on,
            "officer_id": r.officer_id, "name": r.name, "unit": r.unit,
            "hours": round(float(r.hours), 2), "checks": checks,
            "all_ok": all(v is not False for v in checks.values()),
            "result": r.result, "reviewed_on": r.reviewed_on, "note": r.note or "",
            "notes": ["近两年无执法办案记录"] if cases_known and r.on_post and not r.has_cases else [],
            "total": total,
        })
    return rows, annual_held


def record_reviews(year: int, certificate_ids: list[int], result: str, *, reviewed_on: date,
                   note: str = "", today: date) -> int:
    """Set pass/fail (or back to pending) for many certificates of `year` at once."""
    if result not in REVIEW_RESULTS:
        raise DomainError(f"未知的年审结果“{result}”")
    if not certificate_ids:
        raise DomainError("请先勾选要登记的证件")
    if not isinstance(reviewed_on, date):
        raise DomainError("请填写年审日期")
    if reviewed_on > today:
        raise DomainError(f"年审日期（{reviewed_on.isoformat()}）不能晚于今天")
    if result == "fail" and not note.strip():
        raise DomainError("年审不通过时请填写原因")
    eligible = set(db.session.scalars(effective_in_year(year).where(Certificate.id.in_(certificate_ids))))
    missing = set(certificate_ids) - eligible
    if missing:
        raise DomainError(f"有 {len(missing)} 个证件在{year}年不是有效证件，不能年审")
    existing = {r.certificate_id: r for r in db.session.scalars(select(AnnualReview).where(
        AnnualReview.year == year, AnnualReview.certificate_id.in_(certificate_ids)))}
    for cid in certificate_ids:
        review = existing.get(cid)
        if review is None:
            review = AnnualReview(certificate_id=cid, year=year)
            db.session.add(review)
        review.result, review.reviewed_on, review.note = result, reviewed_on, note.strip()
    db.session.flush()
    record("update", "annual_review", None,
           f"{year}年年审：{len(certificate_ids)} 个证件登记为“{REVIEW_RESULTS[result]}”",
           {"certificates": [None, sorted(certificate_ids)], "result": [None, result]})
    return len(certificate_ids)


def officer_reviews(officer_id: int) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(AnnualReview, Certificate.number).join(Certificate, Certificate.id == AnnualReview.certificate_id)
        .where(Certificate.officer_id == officer_id).order_by(AnnualReview.year.desc()))
    return [{"year": r.year, "number": n, "result": r.result, "reviewed_on": r.reviewed_on, "note": r.note}
            for r, n in rows]
