"""The year's statistics (年度统计) and the per-officer training report.

Each figure is one aggregate query; the definitions are those of issue 3:
sessions held in the year, person-hours of attended rows, distinct participants, exam takers and
passes by distinct officer, certificate counts from the append-only event history.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, case, distinct, func, or_, select
from sqlalchemy.orm import aliased

from app import clock
from app.certificates.models import Certificate, CertificateEvent
from app.exams.models import Exam, ExamResult
from app.extensions import db
from app.labels import TRAINING_CATEGORIES
from app.officers.models import Officer, Unit
from app.officers.transfers import unit_on
from app.training.hours import on_post, records_since, year_bounds
from app.training.models import TrainingHours, TrainingSession


def _training(year: int) -> dict[str, Any]:
    start, end = year_bounds(year)
    in_year = TrainingSession.held_on.between(start, end)
    by_cat = dict(db.session.execute(
        select(TrainingSession.category, func.count()).where(in_year).group_by(TrainingSession.category)).all())
    sessions = sum(by_cat.values())  # the same statement gives the year's total (issue 8: ≤ 12 statements)
    # training_hours has one row per officer with attended rows in the year, their credited hours
    # and their number: participants, person-times and hours without reading the year's attendance
    # (issue 8; the same figures as counting attendance, test_annual_training_figures_from_attendance)
    th = TrainingHours
    participants, person_times, hours = db.session.execute(
        select(func.count(th.officer_id), func.coalesce(func.sum(th.attended), 0),
               func.coalesce(func.sum(th.hours), 0.0)).where(th.year == year)).one()
    return {
        "sessions": sessions,
        "participants": participants or 0,
        "person_times": person_times or 0,
        "hours": round(float(hours or 0.0), 2),
        "by_category": {c: by_cat[c] for c in TRAINING_CATEGORIES if by_cat.get(c)},
    }


def _exams(year: int) -> dict[str, Any]:
    start, end = year_bounds(year)
    in_year = Exam.held_on.between(start, end)
    held = db.session.scalar(select(func.count()).select_from(Exam).where(in_year)) or 0
    takers = passed = 0
    if held:  # no exam in the year: no taker (and no scan of every result)
        # one row per taker (passed: 1 if any of the year's results passes): one GROUP BY instead of
        # two DISTINCT counts (SQLite 28 -> 18 ms at 50,000 results; PostgreSQL the same 12 ms)
        per_officer = (select(ExamResult.officer_id, func.max(case((ExamResult.passed, 1))).label("passed"))
                       .join(Exam, Exam.id == ExamResult.exam_id)
                       .where(in_year, ExamResult.absent.is_(False), ExamResult.score.is_not(None))
                       .group_by(ExamResult.officer_id).subquery("takers"))
        takers, passed = db.session.execute(
            select(func.count(), func.count(per_officer.c.passed)).select_from(per_officer)).one()
    return {"held": held, "takers": takers, "passed": passed,
            "pass_rate": round(passed / takers, 4) if takers else 0}


def status_on(day: date):
    """Subquery: each certificate's status on `day`, from its event history (the last event ≤ day,
    by effective date, ties the greatest id). One GROUP BY over the events in certificate order
    with a packed (date, id) MAX — the same pick as ROW_NUMBER() OVER (PARTITION BY certificate
    ORDER BY effective_on DESC, id DESC) = 1, without sorting 60,000 events."""
    from app.compliance import pack, unpack_id

    ev = CertificateEvent
    last = (select(ev.certificate_id, func.max(pack(ev.effective_on, ev.id)).label("key"))
            .where(ev.effective_on <= day).group_by(ev.certificate_id).subquery("last_event"))
    picked = aliased(CertificateEvent, name="picked_event")
    return (select(last.c.certificate_id, picked.to_status)
            .join(picked, picked.id == unpack_id(last.c.key)).subquery("status_on"))


def effective_officers_on(day: date):
    """Select of officer ids holding an enforcement certificate effective on `day` (by history:
    its last event on or before `day`, by effective date, ties the greatest id, is to "valid").
    The certificates in force on `day` by their dates first, then each one's last event by one
    backward index-only seek in ix_certificate_event_cert_effective — not a GROUP BY over every
    event of every card (issue 8; the same pick as status_on, test_effective_officers_on_*)."""
    ev = CertificateEvent
    last_status = (select(ev.to_status)
                   .where(ev.certificate_id == Certificate.id, ev.effective_on <= day)
                   .order_by(ev.effective_on.desc(), ev.id.desc()).limit(1)
                   .correlate(Certificate).scalar_subquery())
    return (select(Certificate.officer_id)
            .where(Certificate.kind == "enforcement", Certificate.issued_on <= day,
                   Certificate.expires_on >= day, last_status == "valid"))


def _certificates(year: int) -> dict[str, Any]:
    """The year's certificate figures in one statement (conditional counts over the year's events,
    the holders at year end as a scalar subquery)."""
    start, end = year_bounds(year)
    effective = (select(func.count(distinct(effective_officers_on(end).subquery().c.officer_id)))
                 .scalar_subquery())
    ev = CertificateEvent
    # the year's events by ix_certificate_event_effective_on, each card's kind by its primary key
    card_kind = select(Certificate.kind).where(Certificate.id == ev.certificate_id).correlate(ev).scalar_subquery()
    changed = ev.from_status.is_(None) | (ev.from_status != ev.to_status)
    status_change = and_(changed, or_(ev.from_status.is_(None), ev.from_status != "applying"))

    def n_to(status: str):
        return func.count(case((and_(status_change, ev.to_status == status), 1)))

    row = db.session.execute(
        select(effective.label("effective"), func.count(case((ev.kind == "issue", 1))).label("issued"),
               n_to("suspended").label("suspended"), n_to("cancelled").label("cancelled"),
               n_to("revoked").label("revoked"))
        .select_from(ev).where(card_kind == "enforcement", ev.effective_on.between(start, end))).one()
    return {"effective_at_year_end": row.effective or 0, "issued": row.issued or 0,
            "suspended": row.suspended or 0, "cancelled": row.cancelled or 0,
            "revoked": row.revoked or 0}


def on_post_on(day: date):
    """Officers on an enforcement post who were active on `day`: active now, or left after it."""
    return and_(Officer.on_enforcement_post.is_(True),
                or_(Officer.employment_status == "active",
                    and_(Officer.status_changed_on.is_not(None), Officer.status_changed_on > day)))


def _officers(year: int, required: float) -> dict[str, Any]:
    """On post at the year's end, and how many of them are short of what they owed for the year
    (the year's rule, judged and pro rata as the TRAINING_SHORTFALL flag and the ledger:
    docs/domain.md)."""
    from app.training.hours import attach_year, rule_status_sql
    from app.training.rules import rule_for

    _, end = year_bounds(year)
    rule = rule_for(year, default_total=float(required))
    q = select(Officer.id).select_from(Officer)
    q, cols, per_group = attach_year(q, year, [g for g, _m in rule.minimums])
    _st, is_judged, _due, _now, meets = rule_status_sql(cols["counted"], per_group, rule, year, clock.today(),
                                                       records_since(clock.today()))
    short_of = and_(is_judged, ~meets)
    on, short = db.session.execute(
        q.with_only_columns(func.count(Officer.id), func.count(case((short_of, Officer.id))),
                            maintain_column_froms=True).where(on_post_on(end))).one()
    return {"on_post_at_year_end": on or 0, "training_shortfall": short or 0}


def annual_stats(year: int, required: float | None = None) -> dict[str, Any]:
    """The year's figures; `required_hours`: the total of the year's rule (app.training.rules)."""
    if required is None:
        from app.training.rules import rule_for

        required = rule_for(year).total
        required = int(required) if float(required).is_integer() else required
    return {
        "year": year,
        "training": _training(year),
        "exams": _exams(year),
        "certificates": _certificates(year),
        "officers": _officers(year, required),
        "required_hours": required,
        "cases": _cases(year),
    }


def _cases(year: int) -> dict[str, int]:
    """Penalty cases decided in `year` and how many pass the art. 42 check (issue 12)."""
    from app.cases.services import year_figures

    return year_figures(year)


def training_report(year: int, required: float | None = None) -> list[dict[str, Any]]:
    """One row per active officer on an enforcement post: hours in `year` against the year's rule
    (app.training.rules; `required`: the total when no rule is set) — credited and counted hours,
    counted hours per content group, online hours counted and dropped, what is missing."""
    from app.training.hours import attach_year, parts, rule_status_sql
    from app.training.rules import groups as all_groups
    from app.training.rules import rule_for

    if required is None:
        from app.settings.services import get

        required = float(get("training_hours_required"))
    rule = rule_for(year, default_total=float(required))
    names = all_groups()
    # each officer under the unit they belonged to at the year's end (today for the current year):
    # officer_unit_history (app/officers/transfers.py)
    q, unit_then = unit_on(select(Officer.id).select_from(Officer), Officer, min(year_bounds(year)[1], clock.today()))
    q = q.join(Unit, Unit.id == unit_then)
    q, cols, per_group = attach_year(q, year, names)
    _st, is_judged, due, _now, _meets = rule_status_sql(cols["counted"], per_group, rule, year, clock.today(),
                                                       records_since(clock.today()))
    q = q.with_only_columns(
        Officer.id, Officer.name, Officer.post_since, Unit.name.label("unit"),
        *[c.label(k) for k, c in cols.items()], *[c.label(f"g{i}") for i, c in enumerate(per_group.values())],
        is_judged.label("judged"), due.label("due"), maintain_column_froms=True)
    rows = db.session.execute(
        q.where(on_post()).order_by(Unit.sort_order, Unit.name_pinyin, Unit.name, Officer.name_pinyin,
                                    Officer.name, Officer.id))

    def number(x: float):
        x = round(float(x), 2)
        return int(x) if x.is_integer() else x

    # required = what the officer owed for the year (pro rata from post_since); shortfall and
    # total_gap = the counted hours still missing to the total (0 when met or not judged), as in
    # the ledger page and PDF; missing = the groups below their (pro-rata) minimum
    out = []
    for r in rows:
        by_group = {g: float(getattr(r, f"g{i}")) for i, g in enumerate(names)}
        judged_ = bool(r.judged)
        rest = parts(rule, year, r.post_since, float(r.counted), by_group, judged_)
        out.append({
            "officer_id": r.id, "name": r.name, "unit": r.unit, "hours": round(float(r.hours), 2),
            "required": number(r.due), "judged": judged_, "shortfall": rest["total_gap"],
            "counted": number(r.counted), "by_group": {g: number(h) for g, h in by_group.items()},
            "online_counted": number(r.online_counted), "online_dropped": number(float(r.online) - float(r.online_counted)),
            "meets": rest["meets"], "missing": rest["missing"], "total_gap": rest["total_gap"]})
    return out
