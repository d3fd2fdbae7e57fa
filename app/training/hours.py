"""Credited training hours per officer and year, and the TRAINING_SHORTFALL rule (DESIGN §4).

Hours are the credited hours of *attended* rows, summed by the calendar year of the session.
The rule lives here once: the flag builder, the ledger and the statistics all call these helpers.
"""

from __future__ import annotations

import calendar
from datetime import date

from sqlalchemy import (
    Float,
    Integer,
    String,
    and_,
    case,
    cast,
    delete,
    event,
    false,
    func,
    insert,
    inspect,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Select

from app.officers.models import Officer
from app.training.models import Attendance, TrainingHours, TrainingSession


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
    (for one officer only when `officer_id` is given), read from the training_hours table."""
    last_year = last_year or first_year
    th = TrainingHours
    if first_year == last_year:
        q = select(th.officer_id, th.hours.label(f"h{first_year}")).where(th.year == first_year)
    else:
        cols = [func.coalesce(func.sum(case((th.year == y, th.hours), else_=0.0)), 0.0).label(f"h{y}")
                for y in range(first_year, last_year + 1)]
        q = (select(th.officer_id, *cols).where(th.year.between(first_year, last_year))
             .group_by(th.officer_id))
    if officer_id is not None:
        q = q.where(th.officer_id == officer_id)
    return q.subquery("hours")


def _year_of_session():
    return cast(func.extract("year", TrainingSession.held_on), Integer)


def computed_hours(officer_ids=None, years=None) -> Select:
    """Credited hours and attended rows per (officer_id, year) straight from attendance: the
    definition the training_hours table summarises (attended rows, by the calendar year of the session)."""
    year = _year_of_session()
    q = (select(Attendance.officer_id, year.label("year"),
                func.sum(Attendance.credited_hours).label("hours"), func.count().label("attended"))
         .join(TrainingSession, TrainingSession.id == Attendance.session_id)
         .where(Attendance.status == "attended")
         .group_by(Attendance.officer_id, year))
    if officer_ids is not None:
        q = q.where(Attendance.officer_id.in_(officer_ids))
    if years is not None:
        q = q.where(year.in_(sorted(years)))
    return q


_MANY = 5000  # beyond this many officers, recompute every row rather than bind a huge IN list


def refresh_hours(db_session, officer_ids=None, session_ids=None, years=None) -> None:
    """Recompute training_hours for the officers touched (given, or enrolled in `session_ids`),
    optionally only for `years`, with one DELETE and one INSERT … SELECT, in the caller's
    transaction. No ids at all: every row. Called by every write to attendance or a session's date
    (the flush hook below does it for ORM writes; bulk Core inserts call it themselves)."""
    scope = None
    if officer_ids is not None or session_ids is not None:
        ids = set(officer_ids or ())
        if session_ids:
            ids |= set(db_session.execute(select(Attendance.officer_id).where(
                Attendance.session_id.in_(list(session_ids)))).scalars())
        if not ids:
            return
        scope = sorted(ids) if len(ids) <= _MANY else None
    gone = delete(TrainingHours)
    if scope is not None:
        gone = gone.where(TrainingHours.officer_id.in_(scope))
    if years is not None:
        gone = gone.where(TrainingHours.year.in_(sorted(years)))
    db_session.execute(gone)
    db_session.execute(insert(TrainingHours).from_select(
        ["officer_id", "year", "hours", "attended"], computed_hours(scope, years)))


def hours_differences(db_session) -> list[tuple[int, int, float, float, int, int]]:
    """(officer_id, year, stored hours, computed hours, stored attended rows, computed attended
    rows) wherever training_hours disagrees with attendance."""
    stored = {(o, y): (float(h), int(n)) for o, y, h, n in db_session.execute(
        select(TrainingHours.officer_id, TrainingHours.year, TrainingHours.hours, TrainingHours.attended))}
    computed = {(o, int(y)): (float(h or 0), int(n)) for o, y, h, n in db_session.execute(computed_hours())}
    out = []
    for key in sorted(stored.keys() | computed.keys()):
        (a, m), (b, n) = stored.get(key, (0.0, 0)), computed.get(key, (0.0, 0))
        if abs(a - b) > 1e-9 or m != n:
            out.append((key[0], key[1], a, b, m, n))
    return out


@event.listens_for(Session, "before_flush")
def _hours_before_flush(session, _ctx, _instances) -> None:
    """An officer deleted takes its hours rows with it; a session about to be deleted or moved to
    another date remembers its officers (its attendance may be gone after the flush)."""
    touched = session.info.setdefault("hours_officers", set())
    for obj in session.deleted:
        if isinstance(obj, Officer) and obj.id is not None:
            session.execute(delete(TrainingHours).where(TrainingHours.officer_id == obj.id))
        elif isinstance(obj, TrainingSession) and obj.id is not None:
            touched.update(session.execute(select(Attendance.officer_id).where(
                Attendance.session_id == obj.id)).scalars())


@event.listens_for(Session, "after_flush")
def _hours_after_flush(session, _ctx) -> None:
    """Keep training_hours current in the same transaction as the attendance/session write."""
    officers: set[int] = session.info.pop("hours_officers", set())
    sessions: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Attendance):
            if obj.officer_id is not None:
                officers.add(obj.officer_id)
            officers.update(v for v in inspect(obj).attrs.officer_id.history.deleted if v is not None)
        elif isinstance(obj, TrainingSession) and obj.id is not None and obj not in session.new:
            if inspect(obj).attrs.held_on.history.has_changes():
                sessions.add(obj.id)
    deleted_officers = {o.id for o in session.deleted if isinstance(o, Officer)}
    officers -= deleted_officers
    if officers or sessions:
        refresh_hours(session, officer_ids=officers, session_ids=sessions)


def on_post():
    return Officer.on_post


# --- who owes what (docs/domain.md, 年度学时) ------------------------------------------------------

FIRST_SESSION = "first_session"  # records_since when the setting is empty: decided in SQL


def records_since(today: date) -> int | str:
    """The first year judged: the setting training_records_since (a year), else FIRST_SESSION —
    the year of the earliest training session recorded, or today's year when none is (computed
    inside the statements that need it: since_sql, no query of its own)."""
    from app.settings import services as settings

    year = settings.get("training_records_since")
    return FIRST_SESSION if year is None else year


def since_sql(since, today: date):
    """`since` (a year, None or FIRST_SESSION) as judged() takes it: FIRST_SESSION becomes a
    scalar subquery (MIN over ix_training_session_held_on)."""
    if since != FIRST_SESSION:
        return since
    first = select(func.min(TrainingSession.held_on)).scalar_subquery()
    return func.coalesce(cast(func.extract("year", first), Integer), today.year)


def last_start_judged(year: int) -> date:
    """An officer who took the post after this day has fewer than 3 months of `year` left and is
    not judged for it (1 October to 31 December is three whole months)."""
    return date(year, 10, 1)


def judged(year: int, since, post=None):
    """SQL: the officer is judged for `year` — the year is not before `since` (a year, a SQL
    expression of one — since_sql() — or None: every year) and the officer took the post (`post`,
    default Officer.post_since; NULL: unknown, on the post all year) no later than
    last_start_judged(year)."""
    post = Officer.post_since if post is None else post
    on_post_in_time = or_(post.is_(None), post <= last_start_judged(year))
    if since is None:
        return on_post_in_time
    if isinstance(since, int):
        return on_post_in_time if year >= since else false()
    return and_(literal(year, Integer) >= since, on_post_in_time)


def owed(required: float, year: int, until: date, post=None):
    """SQL: the hours owed for `year` by the end of `until` (inclusive; 31 December: the whole
    year's due) — `required` × the days on the post from 1 January (or the day of `post`, when
    later) to `until`, both inclusive / the days of the year. No `post`: from 1 January."""
    from app.compliance import day_number, epoch_days

    post = Officer.post_since if post is None else post
    first, ndays = date(year, 1, 1), 366 if calendar.isleap(year) else 365
    until = min(until, date(year, 12, 31))
    whole = required * max((until - first).days + 1, 0) / ndays
    return case(
        (or_(post.is_(None), post <= first), literal(whole, Float)),
        (post > until, literal(0.0, Float)),
        else_=literal(required / ndays, Float) * cast(epoch_days(until) + 1 - day_number(post), Float))


def year_terms(year: int, today: date, required: float, since, post=None):
    """(judged, owed for the whole year, owed by today) for `year` as SQL expressions; the third
    is None unless `year` is the current one. `since`: a year, None (every year) or FIRST_SESSION."""
    return (judged(year, since_sql(since, today), post), owed(required, year, date(year, 12, 31), post),
            owed(required, year, today, post) if year == today.year else None)


def year_status_sql(hours, year: int, today: date, required: float, since, post=None):
    """year_status() per row in SQL: not_judged / met / shortfall / at_risk / on_track / future."""
    is_judged, due, by_now = year_terms(year, today, required, since, post)
    if year < today.year:
        rest = literal("shortfall")
    elif year > today.year:
        rest = literal("future")
    else:
        rest = case((hours < by_now, literal("at_risk")), else_=literal("on_track"))
    return case((~is_judged, literal("not_judged")), (hours >= due, literal("met")), else_=rest)


def shortfall_select(p) -> Select | None:
    """TRAINING_SHORTFALL in the five flag columns: `shortfall` when last year ended below what
    the officer owed for it, else `at_risk` when this year is behind the officer's pro-rata pace.
    One per officer; only officers judged for the year (judged()). Reads training_hours (two
    primary-key lookups per officer), never attendance; None when neither year is judged."""
    y = p.today.year
    required = float(p.hours_required)
    since = getattr(p, "records_since", None)
    if isinstance(since, int) and y < since:
        return None
    since = since_sql(since, p.today)
    last, this = aliased(TrainingHours, name="hours_prev"), aliased(TrainingHours, name="hours_cur")
    prev = func.coalesce(last.hours, 0.0)
    cur = func.coalesce(this.hours, 0.0)
    prev_short = and_(judged(y - 1, since), prev < owed(required, y - 1, date(y - 1, 12, 31)))
    cur_short = and_(judged(y, since), cur < owed(required, y, p.today))
    reason = case((prev_short, literal("shortfall")), else_=literal("at_risk"))
    q = (
        select(literal("TRAINING_SHORTFALL").label("flag"), cast(reason, String).label("reason"),
               Officer.id.label("officer_id"), Officer.unit_id.label("unit_id"),
               cast(null(), Integer).label("certificate_id"))
        .select_from(Officer)
        .outerjoin(last, and_(last.officer_id == Officer.id, last.year == y - 1))
        .outerjoin(this, and_(this.officer_id == Officer.id, this.year == y))
        .where(on_post(), or_(prev_short, cur_short))
    )
    if p.officer_id is not None:
        q = q.where(Officer.id == p.officer_id)
    return q


def year_status(hours: float, required: float, year: int, today: date, *, pace_now: float | None = None,
                judged_: bool = True) -> str:
    """not_judged / met / shortfall (finished year) / at_risk (current year, behind pace) /
    on_track / future. `required`: what the officer owes for the whole year; `pace_now`: what
    they owe by today (default: the year's pace from 1 January)."""
    if not judged_:
        return "not_judged"
    if hours >= required:
        return "met"
    if year < today.year:
        return "shortfall"
    if year > today.year:
        return "future"
    target = pace_now if pace_now is not None else (pace(required, year, today) or 0.0)
    return "at_risk" if hours < target else "on_track"


YEAR_STATUSES = {
    "met": "已达标",
    "shortfall": "学时不足",
    "at_risk": "进度落后",
    "on_track": "进度正常",
    "future": "未开始",
    "not_judged": "不考核",
}
