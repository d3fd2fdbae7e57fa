"""Credited training hours per officer and year, and the TRAINING_SHORTFALL rule (DESIGN §4).

Hours are the credited hours of *attended* rows, summed by the calendar year of the session.
The rule lives here once: the flag builder, the ledger and the statistics all call these helpers.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta

from sqlalchemy import Float, Integer, String, and_, case, cast, func, literal, null, or_, select
from sqlalchemy.sql import Select

from app.officers.models import Officer
from app.training.models import Attendance, TrainingSession


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def pace(required: float, year: int, today: date) -> float | None:
    """Hours an officer should have by `today` in `year` (pro rata); None unless `year` is current."""
    if today.year != year:
        return None
    days = 366 if calendar.isleap(year) else 365
    return required * today.timetuple().tm_yday / days


def hours_by_officer(first_year: int, last_year: int | None = None, officer_id: int | None = None):
    """Subquery: officer_id and one column `h<year>` per year with the credited hours
    (for one officer only when `officer_id` is given)."""
    last_year = last_year or first_year
    start, _ = year_bounds(first_year)
    _, end = year_bounds(last_year)
    cols = []
    for y in range(first_year, last_year + 1):
        a, b = year_bounds(y)
        cols.append(func.coalesce(func.sum(case(
            (TrainingSession.held_on.between(a, b), Attendance.credited_hours), else_=0.0)), 0.0)
            .label(f"h{y}"))
    q = (
        select(Attendance.officer_id, *cols)
        .join(TrainingSession, TrainingSession.id == Attendance.session_id)
        .where(Attendance.status == "attended", TrainingSession.held_on.between(start, end))
        .group_by(Attendance.officer_id)
    )
    if officer_id is not None:
        q = q.where(Attendance.officer_id == officer_id)
    return q.subquery("hours")


def on_post():
    return and_(Officer.employment_status == "active", Officer.on_enforcement_post.is_(True))


def recorded_between(start: date, today: date):
    """Officers recorded (created here: hired, or brought in by an import) from `start` up to
    `today`. They were not employed here for the whole of any earlier year, so hours before
    `start` cannot be asked of them. Someone "recorded" after `today` (looking at a past date)
    counts as there all along, as for every other flag."""
    return and_(Officer.created_at >= datetime.combine(start, time.min),
                Officer.created_at < datetime.combine(today + timedelta(days=1), time.min))


def shortfall_select(p) -> Select:
    """TRAINING_SHORTFALL in the five flag columns: `shortfall` when last year ended below the
    requirement, else `at_risk` when this year is behind the pro-rata pace. One per officer."""
    y = p.today.year
    required = float(p.hours_required)
    behind = pace(required, y, p.today) or 0.0
    h = hours_by_officer(y - 1, y, officer_id=p.officer_id)
    prev = func.coalesce(h.c[f"h{y - 1}"], 0.0)
    cur = func.coalesce(h.c[f"h{y}"], 0.0)
    # Issue 10: new and just-imported officers are not short of a year they were not here for
    # (last year's hours: recorded since 1 January last year; this year's pace: since 1 January).
    prev_short = and_(prev < literal(required, Float), ~recorded_between(date(y - 1, 1, 1), p.today))
    cur_short = and_(cur < literal(behind, Float), ~recorded_between(date(y, 1, 1), p.today))
    reason = case((prev_short, literal("shortfall")), else_=literal("at_risk"))
    return (
        select(literal("TRAINING_SHORTFALL").label("flag"), cast(reason, String).label("reason"),
               Officer.id.label("officer_id"), Officer.unit_id.label("unit_id"),
               cast(null(), Integer).label("certificate_id"))
        .select_from(Officer)
        .outerjoin(h, h.c.officer_id == Officer.id)
        .where(on_post(), or_(prev_short, cur_short))
    )


def year_status(hours: float, required: float, year: int, today: date) -> str:
    """met / shortfall (finished year) / at_risk (current year, behind pace) / on_track / future."""
    if hours >= required:
        return "met"
    if year < today.year:
        return "shortfall"
    if year > today.year:
        return "future"
    return "at_risk" if hours < (pace(required, year, today) or 0.0) else "on_track"


YEAR_STATUSES = {
    "met": "已达标",
    "shortfall": "学时不足",
    "at_risk": "进度落后",
    "on_track": "进度正常",
    "future": "未开始",
}
