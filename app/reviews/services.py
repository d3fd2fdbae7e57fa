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

from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import aliased

from app import scope
from app.audit.services import record
from app.cases.services import any_cases, officer_ids_with_cases_between
from app.errors import DomainError
from app.extensions import db
from app.formatting import cn_date
from app.labels import FINAL_STATUSES, REVIEW_RESULTS
from app.models.certificates import AnnualReview, Certificate, CertificateEvent, ReviewYear
from app.models.exams import Exam, ExamResult
from app.models.officers import Officer, Unit
from app.rules.hours import hours_by_officer, year_bounds
from app.rules.review_years import in_year_where
from app.rules.timeline import on_postgresql, state_on, states_on


def _effective_in_year_where(start: date, end: date, few: bool = False) -> list:
    return in_year_where(start.year, few)


def effective_in_year(year: int):
    """Enforcement certificates effective on at least one day of `year`: dates overlap the year,
    and the history shows them valid on 1 January or made valid during the year (the reference
    for review_year: rules/review_years.py)."""
    return select(Certificate.id).where(*in_year_where(year))


def _effective_in_year_among(year: int, certificate_ids: list[int]):
    """effective_in_year for a few certificates (those ticked on the page)."""
    return select(Certificate.id).where(Certificate.id.in_(certificate_ids), *in_year_where(year, few=True))


CHECK_LABELS = {"valid": "证件有效", "on_post": "在岗", "hours": "学时", "no_suspension": "未暂扣",
                "annual_exam": "年度考试"}


def _stored_keys(year: int, page: int, per_page: int, *, unit_id: int | None, result: str | None,
                 search: str | None):
    """(subquery (id, officer_id, rk, total), total): the rows of `page` of the year's list (unit in list
    order, then name, then certificate id; the last page when past the end), read from the stored
    year's certificates (review_year, rules/review_years.py) instead of every card's history.
    Counted per unit from the (year, unit) index, the running sums taken in Python over the units
    in list order; only the rows of the units the page spans are sorted (first page as last)."""
    ry, ar = ReviewYear.__table__, AnnualReview.__table__
    c, o = Certificate.__table__, Officer.__table__
    where = [ry.c.year == year]
    if unit_id:
        where.append(ry.c.unit_id == unit_id)
    within = scope.scope_ids()
    if within is not None:  # the user's branch: the stored unit (the table is read bare, unscoped)
        where.append(ry.c.unit_id.in_(within))
    reviewed = exists().where(ar.c.certificate_id == ry.c.certificate_id, ar.c.year == year)
    if result == "none":
        where.append(~reviewed)
    elif result in REVIEW_RESULTS:
        where.append(reviewed.where(ar.c.result == result))
    if search:
        like = f"%{search}%"
        where.append(ry.c.certificate_id.in_(select(c.c.id).where(or_(
            c.c.number.like(like), c.c.officer_id.in_(select(o.c.id).where(o.c.name.like(like)))))))
    counts = dict(db.session.execute(select(ry.c.unit_id, func.count()).where(*where).group_by(ry.c.unit_id)).all())
    u = Unit.__table__
    order = [uid for uid in db.session.scalars(select(u.c.id).order_by(u.c.sort_order, u.c.name_pinyin, u.c.name))
             if counts.get(uid)]
    total = sum(counts[uid] for uid in order)
    pages = max(1, -(-total // per_page))
    offset = (min(page, pages) - 1) * per_page
    spanned, skip, before = {}, 0, 0
    for rank, uid in enumerate(order):
        n = counts[uid]
        if before + n > offset and before < offset + per_page:
            if not spanned:
                skip = offset - before
            spanned[uid] = rank
        before += n
    rk = case(spanned, value=ry.c.unit_id, else_=len(order)) if spanned else literal(0)
    keys = (select(ry.c.certificate_id.label("id"), c.c.officer_id, rk.label("rk"), literal(total).label("total"))
            .join(c, c.c.id == ry.c.certificate_id).join(o, o.c.id == c.c.officer_id)
            .where(*where, ry.c.unit_id.in_(list(spanned) or [-1]))
            .order_by(rk, o.c.name_pinyin, o.c.name, ry.c.certificate_id)
            .limit(per_page).offset(skip).subquery("page_keys"))
    return keys, total


def review_rows(year: int, required: float, *, unit_id: int | None = None, result: str | None = None,
                search: str | None = None, page: int | None = None, per_page: int = 50,
                today: date | None = None,
                certificate_ids: list[int] | None = None) -> tuple[list[dict[str, Any]], bool]:
    """(rows, annual_exam_held) for every certificate effective in `year` (or those of
    `certificate_ids`) — or, with `page`, the rows of that page only (the last page when past the
    end), each row carrying `total`. The validity check fails for a certificate that expired
    before the end of the year (or before `today`, when reviewing the current year) or is no
    longer in force.

    A page: the year's stored certificates counted per unit, then one statement for the page's
    rows and their checks (correlated look-ups, 50 at a time). Every row (the export, the ticked
    certificates): one statement from the cards' history (the reference engine: `cand`)."""
    start, end = year_bounds(year)
    annual_held = db.session.scalar(select(func.count()).select_from(Exam).where(
        Exam.kind == "annual", Exam.held_on.between(start, end))) > 0
    cases_known = any_cases()

    if page is not None and certificate_ids is None:
        keys, total = _stored_keys(year, page, per_page, unit_id=unit_id, result=result, search=search)
        order = (keys.c.rk, Officer.name_pinyin, Officer.name, keys.c.id)
    else:
        cand = (select(Certificate.id, Certificate.officer_id, Officer.unit_id, Officer.name_pinyin, Officer.name)
                .join(Officer, Officer.id == Certificate.officer_id)
                .where(*_effective_in_year_where(start, end, few=certificate_ids is not None)))
        if unit_id:  # the unit's officers first (SQLite would check every certificate of the year, then the unit)
            cand = cand.where(Certificate.officer_id.in_(select(Officer.id).where(Officer.unit_id == unit_id)))
        if certificate_ids is not None:
            cand = cand.where(Certificate.id.in_(certificate_ids or [-1]))
        reviewed = exists().where(AnnualReview.certificate_id == Certificate.id, AnnualReview.year == year)
        if result == "none":
            cand = cand.where(~reviewed)
        elif result in REVIEW_RESULTS:
            cand = cand.where(reviewed.where(AnnualReview.result == result))
        if search:
            cand = cand.where(or_(Officer.name.like(f"%{search}%"), Certificate.number.like(f"%{search}%")))
        cand = cand.cte("review_cand")
        keys = select(cand.c.id, cand.c.officer_id, literal(None).label("total")).subquery("page_keys")
        order = (Unit.sort_order, Unit.name_pinyin, Unit.name, Officer.name_pinyin, Officer.name, keys.c.id)
    # the status on 1 January: looked up row by row (50 for a page; SQLite for every row too), or
    # for every row on PostgreSQL in one GROUP BY (a look-up per row there makes a plan it JIT-compiles)
    st = states_on(start) if page is None and certificate_ids is None and on_postgresql() else None
    status_jan1 = state_on(keys.c.id, start) if st is None else st.c.to_status

    h = hours_by_officer(year)
    ev = aliased(CertificateEvent, name="ev_susp")
    suspended = or_(exists().where(ev.certificate_id == keys.c.id, ev.to_status == "suspended",
                                   ev.from_status != "suspended", ev.effective_on.between(start, end)),
                    status_jan1 == "suspended")
    passed_annual = exists().where(
        ExamResult.officer_id == keys.c.officer_id, Exam.id == ExamResult.exam_id,
        Exam.kind == "annual", Exam.held_on.between(start, end), ExamResult.passed)
    # the officer's certificates (any kind) in a case decided this year or last: looked up for
    # the page's rows only; for every row, the list of such officers once
    with_cases = officer_ids_with_cases_between(date(year - 1, 1, 1), end)
    has_cases = (keys.c.officer_id.in_(with_cases) if page is None else
                 with_cases.where(Certificate.officer_id == keys.c.officer_id).correlate_except(Certificate).exists())
    q = (select(Certificate.id, Certificate.number, Certificate.status, Certificate.expires_on,
                Officer.id.label("officer_id"), Officer.name, Unit.name.label("unit"),
                Officer.on_post.label("on_post"), func.coalesce(h.c[f"h{year}"], 0.0).label("hours"),
                AnnualReview.result, AnnualReview.reviewed_on, AnnualReview.note,
                suspended.label("suspended"), passed_annual.label("passed_annual"),
                has_cases.label("has_cases"), keys.c.total)
         .select_from(keys).join(Certificate, Certificate.id == keys.c.id)
         .join(Officer, Officer.id == keys.c.officer_id).join(Unit, Unit.id == Officer.unit_id)
         .outerjoin(h, h.c.officer_id == Officer.id)
         .outerjoin(AnnualReview, and_(AnnualReview.certificate_id == keys.c.id, AnnualReview.year == year))
         .order_by(*order))
    if st is not None:
        q = q.outerjoin(st, st.c.certificate_id == keys.c.id)
    if page is not None and certificate_ids is None:
        # the page's ids were picked within the user's scope (the stored units): their details
        # are read by id, unscoped (the criteria would add the branch's lists to a 50-row read)
        with scope.off(db.session):
            result_rows = db.session.execute(q).all()
    else:
        result_rows = db.session.execute(q).all()
        total = None
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
    eligible = set(db.session.scalars(_effective_in_year_among(year, certificate_ids)))
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
