"""The year's statistics (年度统计) and the per-officer training report.

Each figure is one aggregate query; the definitions (docs/domain.md 年度统计与年度报告):
sessions held in the year, person-hours of attended rows, distinct participants, exam takers and
passes by distinct officer, certificate counts from the append-only event history.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    String,
    and_,
    case,
    cast,
    distinct,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
)

from app import clock
from app.cases.services import year_figures
from app.extensions import db
from app.labels import TRAINING_CATEGORIES
from app.models.certificates import AnnualReview, Certificate, CertificateEvent
from app.models.exams import Exam, ExamResult
from app.models.officers import Officer, Unit
from app.models.training import TrainingGroupHours, TrainingHours, TrainingSession
from app.rules.hours import (
    attach_year,
    on_post,
    owed,
    parts,
    records_since,
    rule_status_sql,
    year_bounds,
)
from app.rules.timeline import effective_officers_on
from app.rules.training import groups, rule_for
from app.rules.transfers import unit_on
from app.settings.services import get
from app.training import memo


def _training(year: int) -> dict[str, Any]:
    start, end = year_bounds(year)
    in_year = TrainingSession.held_on.between(start, end)
    # one statement (page cost: ≤ 12 statements when the year's figures are computed): the
    # sessions by category, and from training_hours — one row per officer with attended rows in
    # the year, their credited hours and their number — participants, person-times and hours
    # without reading the year's attendance (the same figures as counting attendance,
    # test_annual_training_figures_from_attendance), and the counted person-hours per content
    # group (公共法律知识 …) from training_group_hours
    th, tg = TrainingHours, TrainingGroupHours
    no_int, no_float = cast(null(), Integer), cast(null(), Float)
    parts = union_all(
        select(literal("category"), TrainingSession.category, func.count(), no_int, no_float, no_float)
        .where(in_year).group_by(TrainingSession.category),
        select(literal("hours"), cast(null(), String), func.count(th.officer_id),
               cast(func.coalesce(func.sum(th.attended), 0), Integer), func.coalesce(func.sum(th.hours), 0.0),
               func.coalesce(func.sum(th.counted), 0.0)).where(th.year == year),
        select(literal("group"), tg.grp, no_int, no_int, func.sum(tg.hours), no_float)
        .where(tg.year == year).group_by(tg.grp))
    by_cat: dict[str, int] = {}
    per_group: dict[str, float] = {}
    participants = person_times = 0
    hours = counted = 0.0
    for what, name, n, attended, h, c in db.session.execute(parts):
        if what == "category":
            by_cat[name] = n
        elif what == "group":
            per_group[name] = h
        else:
            participants, person_times, hours, counted = n, attended, h, c
    sessions = sum(by_cat.values())
    hours, counted = round(float(hours or 0.0), 2), round(float(counted or 0.0), 2)
    return {
        "sessions": sessions,
        "participants": participants or 0,
        "person_times": person_times or 0,
        "hours": hours,
        "by_category": {c: by_cat[c] for c in TRAINING_CATEGORIES if by_cat.get(c)},
        # hours counted towards the rule (online hours above its cap dropped), and those dropped
        "counted_hours": counted,
        "online_dropped": round(hours - counted, 2),
        "average_hours": round(hours / participants, 2) if participants else 0,
        "by_group": {g: _number(per_group[g]) for g in [*groups(), *sorted(set(per_group) - set(groups()))]
                     if per_group.get(g)},
    }


def _exams(year: int) -> dict[str, Any]:
    start, end = year_bounds(year)
    in_year = Exam.held_on.between(start, end)
    # each exam of the year with its takers and passes (one GROUP BY; the exams are few)
    took = and_(ExamResult.absent.is_(False), ExamResult.score.is_not(None))
    by_exam = [
        {"title": title, "held_on": held_on.isoformat(), "kind": kind, "takers": n or 0, "passed": p or 0,
         "pass_rate": round((p or 0) / n, 4) if n else 0}
        for title, held_on, kind, n, p in db.session.execute(
            select(Exam.title, Exam.held_on, Exam.kind, func.count(case((took, ExamResult.id))),
                   func.count(case((ExamResult.passed, ExamResult.id))))
            .outerjoin(ExamResult, ExamResult.exam_id == Exam.id).where(in_year)
            .group_by(Exam.id, Exam.title, Exam.held_on, Exam.kind).order_by(Exam.held_on, Exam.id))]
    held = len(by_exam)
    takers = passed = 0
    if held:  # no exam in the year: no taker (and no scan of every result)
        # one row per taker (passed: 1 if any of the year's results passes): one GROUP BY instead of
        # two DISTINCT counts (cheaper on SQLite, no dearer on PostgreSQL: notes/benchmarks.md)
        per_officer = (select(ExamResult.officer_id, func.max(case((ExamResult.passed, 1))).label("passed"))
                       .join(Exam, Exam.id == ExamResult.exam_id)
                       .where(in_year, ExamResult.absent.is_(False), ExamResult.score.is_not(None))
                       .group_by(ExamResult.officer_id).subquery("takers"))
        takers, passed = db.session.execute(
            select(func.count(), func.count(per_officer.c.passed)).select_from(per_officer)).one()
    return {"held": held, "takers": takers, "passed": passed,
            "pass_rate": round(passed / takers, 4) if takers else 0, "by_exam": by_exam}


def _certificates(year: int, effective_n: int | None = None, beside=None) -> tuple[dict[str, Any], tuple]:
    """The year's certificate figures in one statement (conditional counts over the year's events,
    the holders at year end as a scalar subquery — unless `effective_n` gives them: _units()),
    and the values of `beside` (another select of one row, read in the same statement: a
    statement less), an empty tuple without it."""
    start, end = year_bounds(year)
    effective = (select(func.count(distinct(effective_officers_on(end).subquery().c.officer_id)))
                 .scalar_subquery()) if effective_n is None else literal(effective_n)
    ev = CertificateEvent
    # the year's events by ix_certificate_event_effective_on, each card's kind by its primary key
    card_kind = select(Certificate.kind).where(Certificate.id == ev.certificate_id).correlate(ev).scalar_subquery()
    changed = ev.from_status.is_(None) | (ev.from_status != ev.to_status)
    status_change = and_(changed, or_(ev.from_status.is_(None), ev.from_status != "applying"))

    def n_to(status: str):
        return func.count(case((and_(status_change, ev.to_status == status), 1)))

    certs = (select(effective.label("effective"), func.count(case((ev.kind == "issue", 1))).label("issued"),
                    n_to("suspended").label("suspended"), n_to("cancelled").label("cancelled"),
                    n_to("revoked").label("revoked"))
             .select_from(ev).where(card_kind == "enforcement", ev.effective_on.between(start, end)))
    others: tuple = ()
    if beside is None:
        row = db.session.execute(certs).one()
    else:  # two aggregates of one row each: their cross join is one row
        a, b = certs.subquery("year_certs"), beside.subquery("beside")
        got = db.session.execute(select(a, b).select_from(a.join(b, true()))).one()
        row, others = got, tuple(got[len(a.c):])
    return ({"effective_at_year_end": row.effective or 0, "issued": row.issued or 0,
             "suspended": row.suspended or 0, "cancelled": row.cancelled or 0,
             "revoked": row.revoked or 0}, others)


def on_post_on(day: date):
    """Officers on an enforcement post who were active on `day`: active now, or left after it."""
    return and_(Officer.on_enforcement_post.is_(True),
                or_(Officer.employment_status == "active",
                    and_(Officer.status_changed_on.is_not(None), Officer.status_changed_on > day)))


def _officers_and_rule(year: int, required: float):
    """On post at the year's end, and the year's rule applied to them in one select of one row
    (run by _certificates()): how many are judged, how many meet the rule (the total and every
    group minimum, counted hours, pro rata: the TRAINING_SHORTFALL flag's and the ledger's
    definition, docs/domain.md), how many do not (`training_shortfall` = `not_meeting`) and how
    many are below each group's minimum. Returns (the select, its row → (officers, rule figures)."""
    _, end = year_bounds(year)
    rule = rule_for(year, default_total=float(required))
    q = select(Officer.id).select_from(Officer)
    q, cols, per_group = attach_year(q, year, [g for g, _m in rule.minimums])
    _st, is_judged, _due, _now, meets = rule_status_sql(cols["counted"], per_group, rule, year, clock.today(),
                                                       records_since(clock.today()))
    below = [func.count(case((and_(is_judged, per_group[g] < owed(m, year, end)), Officer.id)))
             for g, m in rule.minimums]
    counts = [func.count(Officer.id), func.count(case((is_judged, Officer.id))),
              func.count(case((and_(is_judged, meets), Officer.id))), *below]
    return (q.with_only_columns(*[c.label(f"officers_{i}") for i, c in enumerate(counts)],
                                maintain_column_froms=True).where(on_post_on(end)),
            lambda row: _rule_figures(rule, *row))


def _rule_figures(rule, on, judged_n, met, *below_n) -> tuple[dict[str, Any], dict[str, Any]]:
    judged_n, met = judged_n or 0, met or 0
    officers = {"on_post_at_year_end": on or 0, "training_shortfall": judged_n - met}
    rule_figures = {
        "year": rule.year, "total": _number(rule.total),
        "minimums": {g: _number(m) for g, m in rule.minimums},
        "online_max": None if rule.online_max is None else _number(rule.online_max),
        "source": rule.source, "closes_on": rule.closes_on.isoformat() if rule.closes_on else None,
        "judged": judged_n, "meets": met, "not_meeting": judged_n - met,
        "meets_rate": round(met / judged_n, 4) if judged_n else 0,
        "below_minimum": {g: n or 0 for (g, _m), n in zip(rule.minimums, below_n, strict=True)},
    }
    return officers, rule_figures


def _number(x: float):
    x = round(float(x), 2)
    return int(x) if x.is_integer() else x


def _reviews(year: int) -> dict[str, Any]:
    """The year's annual reviews (年审) of enforcement certificates, by result: one GROUP BY."""
    by = dict(db.session.execute(
        select(AnnualReview.result, func.count()).join(Certificate, Certificate.id == AnnualReview.certificate_id)
        .where(AnnualReview.year == year, Certificate.kind == "enforcement")
        .group_by(AnnualReview.result)).all())
    decided = by.get("pass", 0) + by.get("fail", 0)
    return {"total": sum(by.values()), "passed": by.get("pass", 0), "failed": by.get("fail", 0),
            "pending": by.get("pending", 0),
            "pass_rate": round(by.get("pass", 0) / decided, 4) if decided else 0}


def _units(year: int) -> tuple[dict[str, Any], int | None]:
    """Units with officers on an enforcement post at the year's end, and those of them with fewer
    than two of these officers holding a certificate effective on 31 December (the
    UNIT_UNDERSTAFFED rule on the year's last day): one GROUP BY. Each officer (and their card)
    counts in the unit they belonged to on 31 December — today for the current year, as
    `flask report training` — by officer_unit_history (app/rules/transfers.py unit_on)."""
    _, end = year_bounds(year)
    # the holders on 31 December, read once (a materialised CTE) for the units' counts and for the
    # certificates' figure (effective_at_year_end: every holder, on post or not) — the dearest
    # part of the year's figures, no longer computed twice
    eff = effective_officers_on(end).cte("year_end_holders").prefix_with("MATERIALIZED")
    holder = Officer.id.in_(select(eff.c.officer_id))
    holders_n = select(func.count(distinct(eff.c.officer_id))).scalar_subquery()
    q, unit_then = unit_on(select(Officer.id).select_from(Officer), Officer, min(end, clock.today()))
    rows = db.session.execute(
        q.join(Unit, Unit.id == unit_then)
        .with_only_columns(Unit.name, func.count(Officer.id), func.count(case((holder, Officer.id))),
                           holders_n, maintain_column_froms=True)
        .where(on_post_on(end))
        .group_by(Unit.id, Unit.name, Unit.sort_order, Unit.name_pinyin)
        .order_by(Unit.sort_order, Unit.name_pinyin, Unit.name)).all()
    below = [{"unit": name, "on_post": n, "holders": h} for name, n, h, _e in rows if h < 2]
    return ({"with_officers_on_post": len(rows), "below_two": len(below), "below_two_list": below},
            rows[0][3] if rows else None)


def annual_stats(year: int, required: float | None = None) -> dict[str, Any]:
    """The year's figures: the one computation behind `flask report annual` (json, table, xlsx,
    docx) and the statistics page. `required_hours`: the total of the year's rule
    (app.rules.training); `rule`: that rule and how the officers judged for the year fared.
    Kept until the next write (app/training/memo.py): computed once per write, day and scope."""
    return memo.remembered("annual", lambda: compute_annual_stats(year, required), year=year, required=required)


def compute_annual_stats(year: int, required: float | None = None) -> dict[str, Any]:
    """annual_stats() computed now (over the whole register)."""
    if required is None:
        required = rule_for(year).total
        required = int(required) if float(required).is_integer() else required
    units, holders = _units(year)
    rule_select, rule_of_row = _officers_and_rule(year, required)
    certificates, rule_row = _certificates(year, holders, beside=rule_select)
    officers, rule = rule_of_row(rule_row)
    return {
        "year": year,
        "training": _training(year),
        "exams": _exams(year),
        "certificates": certificates,
        "officers": officers,
        "required_hours": required,
        "rule": rule,
        "reviews": _reviews(year),
        "cases": _cases(year),
        "units": units,
    }


def _cases(year: int) -> dict[str, int]:
    """Penalty cases decided in `year` and how many pass the art. 42 check (docs/domain.md 案件核查)."""
    return year_figures(year)


def training_report(year: int, required: float | None = None) -> list[dict[str, Any]]:
    """One row per active officer on an enforcement post: hours in `year` against the year's rule
    (app.rules.training; `required`: the total when no rule is set) — credited and counted hours,
    counted hours per content group, online hours counted and dropped, what is missing."""
    if required is None:
        required = float(get("training_hours_required"))
    rule = rule_for(year, default_total=float(required))
    names = groups()
    # each officer under the unit they belonged to at the year's end (today for the current year):
    # officer_unit_history (app/rules/transfers.py)
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
            "online_counted": number(r.online_counted),
            "online_dropped": number(float(r.online) - float(r.online_counted)),
            "meets": rest["meets"], "missing": rest["missing"], "total_gap": rest["total_gap"]})
    return out


memo.register("annual", compute_annual_stats)
