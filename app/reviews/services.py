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
from app.formatting import cn_date
from app.labels import FINAL_STATUSES, REVIEW_RESULTS
from app.officers.models import Officer, Unit
from app.paging import page_of
from app.training.hours import hours_by_officer, year_bounds
from app.training.stats import status_on


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


CHECK_LABELS = {"valid": "证件有效", "on_post": "在岗", "hours": "学时", "no_suspension": "未暂扣",
                "annual_exam": "年度考试"}


def review_rows(year: int, required: float, *, unit_id: int | None = None, result: str | None = None,
                search: str | None = None, page: int | None = None, per_page: int = 50,
                today: date | None = None,
                certificate_ids: list[int] | None = None) -> tuple[list[dict[str, Any]], bool]:
    """(rows, annual_exam_held) for every certificate effective in `year` (or those of
    `certificate_ids`) — or, with `page`, the rows of that page only (the last page when past the
    end), each row carrying `total`. The validity check fails for a certificate that expired
    before the end of the year (or before `today`, when reviewing the current year) or is no
    longer in force."""
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
            Exam.kind == "annual", Exam.held_on.between(start, end), ExamResult.passed)
        return [suspended.label("suspended"), passed_annual.label("passed_annual")]

    from app.cases.services import any_cases, officer_ids_with_cases_between

    with_cases = Officer.id.in_(officer_ids_with_cases_between(date(year - 1, 1, 1), end))
    cases_known = any_cases()
    q = (select(Certificate.id, Certificate.number, Certificate.status, Certificate.expires_on,
                Officer.id.label("officer_id"), Officer.name, Officer.id_number, Unit.name.label("unit"),
                Officer.on_post.label("on_post"),
                func.coalesce(h.c[f"h{year}"], 0.0).label("hours"), st.c.to_status.label("status_jan1"),
                AnnualReview.result, AnnualReview.reviewed_on, AnnualReview.note,
                with_cases.label("has_cases"))
         .join(Officer, Officer.id == Certificate.officer_id).join(Unit, Unit.id == Officer.unit_id)
         .outerjoin(st, st.c.certificate_id == Certificate.id)
         .outerjoin(h, h.c.officer_id == Officer.id)
         .outerjoin(AnnualReview, and_(AnnualReview.certificate_id == Certificate.id, AnnualReview.year == year))
         .where(*_effective_in_year_where(year, start, end, st)))
    order = (Unit.sort_order, Unit.name_pinyin, Unit.name, Officer.name_pinyin, Officer.name, Certificate.id)
    if unit_id:
        q = q.where(Officer.unit_id == unit_id)
    if certificate_ids is not None:
        q = q.where(Certificate.id.in_(certificate_ids or [-1]))
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
            "valid": r.expires_on >= min(end, today or end) and r.status not in FINAL_STATUSES,
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


def failed_checks(row: dict[str, Any]) -> list[str]:
    """The labels of a review row's pre-checks that fail (an unheld annual exam does not)."""
    return [CHECK_LABELS[k] for k, v in row["checks"].items() if v is False]


PASS_OVERRIDE_MESSAGE = "勾选的证件中有未通过预审的：如确需登记为通过，请勾选确认并填写原因"


def pass_overrides(year: int, certificate_ids: list[int], required: float, *, today: date,
                   confirmed: bool, reason: str) -> dict[int, str]:
    """Passing certificates that fail a pre-check needs a confirmation and a reason (as issuing
    without an exam does). Returns {certificate id: the note to keep} for those; raises
    DomainError (its `fields` name the failing people) when the confirmation or reason is missing."""
    rows, _held = review_rows(year, required, today=today, certificate_ids=certificate_ids)
    failing = {r["certificate_id"]: r for r in rows if failed_checks(r)}
    if not failing:
        return {}
    reason = (reason or "").strip()
    names = {cid: f"{r['name']}（{r['number']}：{'、'.join(failed_checks(r))}）" for cid, r in failing.items()}
    if not confirmed or not reason:
        message = PASS_OVERRIDE_MESSAGE if not confirmed else "确认通过未通过预审的人员时，请填写原因"
        raise DomainError(message, fields=names)
    return {cid: f"未通过预审（{'、'.join(failed_checks(r))}），经确认登记为通过：{reason}"
            for cid, r in failing.items()}


def record_reviews(year: int, certificate_ids: list[int], result: str, *, reviewed_on: date,
                   note: str = "", today: date, overrides: dict[int, str] | None = None) -> int:
    """Set pass/fail (or back to pending) for many certificates of `year` at once. `overrides`
    (from `pass_overrides`) adds the confirmed reason to the notes of those failing a pre-check."""
    overrides = overrides or {}
    if result not in REVIEW_RESULTS:
        raise DomainError(f"未知的年审结果“{result}”")
    if not certificate_ids:
        raise DomainError("请先勾选要登记的证件")
    if not isinstance(reviewed_on, date):
        raise DomainError("请填写年审日期")
    if reviewed_on > today:
        raise DomainError(f"年审日期（{cn_date(reviewed_on)}）不能晚于今天")
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
        own = "；".join(x for x in (note.strip(), overrides.get(cid, "")) if x)
        review.result, review.reviewed_on, review.note = result, reviewed_on, own
    db.session.flush()
    changes: dict[str, list[Any]] = {"certificates": [None, sorted(certificate_ids)], "result": [None, result]}
    if overrides:
        changes["override"] = [None, sorted(set(overrides.values()))]
    record("update", "annual_review", None,
           f"{year}年年审：{len(certificate_ids)} 个证件登记为“{REVIEW_RESULTS[result]}”"
           + (f"（其中 {len(overrides)} 个未通过预审，经确认）" if overrides else ""), changes)
    return len(certificate_ids)


def officer_reviews(officer_id: int) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(AnnualReview, Certificate.number).join(Certificate, Certificate.id == AnnualReview.certificate_id)
        .where(Certificate.officer_id == officer_id).order_by(AnnualReview.year.desc()))
    return [{"year": r.year, "number": n, "result": r.result, "reviewed_on": r.reviewed_on, "note": r.note}
            for r, n in rows]
