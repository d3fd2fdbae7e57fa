"""Credited training hours per officer and year, and the TRAINING_SHORTFALL rule (docs/domain.md 年度学时).

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
    union_all,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Select

from app.extensions import db
from app.models.me import TrainingClaim
from app.models.officers import Officer
from app.models.training import (
    Attendance,
    TrainingGroupHours,
    TrainingHours,
    TrainingRule,
    TrainingSession,
)
from app.rules.timeline import day_number, epoch_days
from app.rules.training import all_rules, category_groups, rule_for
from app.scope import UNSCOPED
from app.settings import services as settings


@event.listens_for(Session, "after_flush")
def _rules_after_flush(session, _ctx) -> None:
    """A rule written, changed or deleted (by the services or any ORM write): every officer's
    counted hours recounted from that year on, in the same transaction (after rules.training's
    hook has renewed the rules' version)."""
    years = {o.year for o in (*session.new, *session.dirty, *session.deleted) if isinstance(o, TrainingRule)}
    if years:
        refresh_hours(session, years_from=min(years), everyone=True)


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


def _by_rule_year(year_col, rules, attr: str):
    """SQL: the value `attr` of the rule of each row's year (the latest rule not after it: a
    CASE over the few rule years, latest first); NULL before the first rule or where the rule has
    none. None when no rule has one."""
    if all(getattr(r, attr) is None for r in rules):
        return None
    whens = [(year_col >= r.year, null() if getattr(r, attr) is None else literal(getattr(r, attr), Float))
             for r in sorted(rules, key=lambda r: -r.year)]
    return case(*whens, else_=null())


def _rows(officer_ids=None, years=None, years_from=None):
    """Subquery: one row per attended (officer, session) — and per approved training claim
    (app/me/claims.py: counted like a session held on its date) — with the year, credited hours
    `h`, `online` (1/0), its content group `grp`, `att` (1 for an attended session, 0 for a claim)
    and its counted hours `counted` — online hours beyond the year's rule's cap dropped, the
    earliest online sessions keeping theirs (docs/domain.md, 年度学时)."""
    s, c = TrainingSession, TrainingClaim
    att = (select(Attendance.officer_id.label("officer_id"), s.held_on.label("held_on"), s.id.label("sid"),
                  Attendance.credited_hours.label("h"), case((s.online.is_(True), 1), else_=0).label("online"),
                  s.category.label("cat"), literal(1, Integer).label("att"))
           .join(s, s.id == Attendance.session_id)
           .where(Attendance.status == "attended"))
    claims = (select(c.officer_id, c.held_on, (-c.id).label("sid"), c.hours, case((c.online.is_(True), 1), else_=0),
                     c.category, literal(0, Integer))
              .where(c.status == "approved"))
    if officer_ids is not None:
        att = att.where(Attendance.officer_id.in_(officer_ids))
        claims = claims.where(c.officer_id.in_(officer_ids))
    if years_from is not None:
        att = att.where(s.held_on >= date(years_from, 1, 1))
        claims = claims.where(c.held_on >= date(years_from, 1, 1))
    u = union_all(att, claims).subquery("att_src")
    year = cast(func.extract("year", u.c.held_on), Integer)
    mapping = category_groups()
    grp = case(mapping, value=u.c.cat, else_=u.c.cat) if mapping else u.c.cat
    run = func.sum(case((u.c.online == 1, u.c.h), else_=0.0)).over(
        partition_by=(u.c.officer_id, year), order_by=(u.c.held_on, u.c.sid), rows=(None, 0))
    q = select(u.c.officer_id, year.label("year"), u.c.h, u.c.online, grp.label("grp"), run.label("run"), u.c.att)
    if years is not None:
        q = q.where(year.in_(sorted(years)))
    r = q.subquery("att_rows")
    cap = _by_rule_year(r.c.year, all_rules(), "online_max")
    if cap is None:
        counted = r.c.h
    else:
        before = r.c.run - r.c.h
        counted = case((r.c.online == 0, r.c.h), (cap.is_(None), r.c.h), (before >= cap, 0.0),
                       (r.c.run <= cap, r.c.h), else_=cap - before)
    return r, counted


def computed_hours(officer_ids=None, years=None, years_from=None) -> Select:
    """Credited hours, attended rows, counted hours, online hours and online hours counted per
    (officer_id, year) straight from attendance: the definition the training_hours table
    summarises (attended rows, by the calendar year of the session)."""
    r, counted = _rows(officer_ids, years, years_from)
    return (select(r.c.officer_id, r.c.year, func.sum(r.c.h).label("hours"),
                   cast(func.sum(r.c.att), Integer).label("attended"),
                   func.sum(counted).label("counted"),
                   func.sum(case((r.c.online == 1, r.c.h), else_=0.0)).label("online"),
                   func.sum(case((r.c.online == 1, counted), else_=0.0)).label("online_counted"))
            .group_by(r.c.officer_id, r.c.year))


def computed_group_hours(officer_ids=None, years=None, years_from=None) -> Select:
    """Counted hours per (officer_id, year, content group) from attendance."""
    r, counted = _rows(officer_ids, years, years_from)
    return (select(r.c.officer_id, r.c.year, r.c.grp, func.sum(counted).label("hours"))
            .group_by(r.c.officer_id, r.c.year, r.c.grp))


_MANY = 5000  # beyond this many officers, recompute every row rather than bind a huge IN list


def refresh_hours(db_session, officer_ids=None, session_ids=None, years=None, years_from=None,
                  everyone: bool = False) -> None:
    """Recompute training_hours and training_group_hours for the officers touched (given, or
    enrolled in `session_ids`), optionally only for `years` (or the years from `years_from` on),
    with one DELETE and one INSERT … SELECT each, in the caller's transaction. No ids at all:
    every row. Called by every write to attendance, a session's date, category or 培训方式 (the
    flush hook below does it for ORM writes; bulk Core inserts call it themselves), a year's rule
    and the content groups setting (those with `everyone`: every officer, whatever the signed-in
    user's unit scope)."""
    opts = UNSCOPED if everyone else {}
    scope = None
    if officer_ids is not None or session_ids is not None:
        ids = set(officer_ids or ())
        if session_ids:
            ids |= set(db_session.execute(select(Attendance.officer_id).where(
                Attendance.session_id.in_(list(session_ids)))).scalars())
        if not ids:
            return
        scope = sorted(ids) if len(ids) <= _MANY else None
    for table in (TrainingHours, TrainingGroupHours):
        gone = delete(table)
        if scope is not None:
            gone = gone.where(table.officer_id.in_(scope))
        if years is not None:
            gone = gone.where(table.year.in_(sorted(years)))
        if years_from is not None:
            gone = gone.where(table.year >= years_from)
        db_session.execute(gone, execution_options=opts)
    db_session.execute(insert(TrainingHours).from_select(
        ["officer_id", "year", "hours", "attended", "counted", "online", "online_counted"],
        computed_hours(scope, years, years_from)), execution_options=opts)
    db_session.execute(insert(TrainingGroupHours).from_select(
        ["officer_id", "year", "grp", "hours"], computed_group_hours(scope, years, years_from)),
        execution_options=opts)
    for after in AFTER_REFRESH:  # the stored flags follow the hours (rules/flagstore.py)
        after(db_session, None if scope is None else set(scope), years, years_from)


# called after refresh_hours(session, officer ids or None: every officer, years, years_from)
AFTER_REFRESH: list = []


def hours_differences(db_session) -> list[tuple[int, int, float, float, int, int, str]]:
    """(officer_id, year, stored hours, computed hours, stored attended rows, computed attended
    rows, what else differs: counted / group hours) wherever training_hours or
    training_group_hours disagrees with attendance."""
    th = TrainingHours
    stored = {(o, y): (float(h), int(n), float(c or 0), float(oc or 0)) for o, y, h, n, c, oc in db_session.execute(
        select(th.officer_id, th.year, th.hours, th.attended, th.counted, th.online_counted))}
    computed = {(o, int(y)): (float(h or 0), int(n), float(c or 0), float(oc or 0))
                for o, y, h, n, c, oc, _on in (
                    (r.officer_id, r.year, r.hours, r.attended, r.counted, r.online_counted, r.online)
                    for r in db_session.execute(computed_hours()))}
    tg = TrainingGroupHours
    groups_stored: dict = {}
    for o, y, grp, h in db_session.execute(select(tg.officer_id, tg.year, tg.grp, tg.hours)):
        groups_stored.setdefault((o, int(y)), {})[grp] = float(h)
    groups_computed: dict = {}
    for o, y, grp, h in db_session.execute(computed_group_hours()):
        groups_computed.setdefault((o, int(y)), {})[grp] = float(h or 0)
    out = []
    zero = (0.0, 0, 0.0, 0.0)
    for key in sorted(stored.keys() | computed.keys() | groups_stored.keys() | groups_computed.keys()):
        (a, m, c1, oc1), (b, n, c2, oc2) = stored.get(key, zero), computed.get(key, zero)
        notes = []
        if abs(c1 - c2) > 1e-9 or abs(oc1 - oc2) > 1e-9:
            notes.append(f"计入学时 {c1:g}，应为 {c2:g}")
        g1, g2 = groups_stored.get(key, {}), groups_computed.get(key, {})
        if any(abs(g1.get(k, 0.0) - g2.get(k, 0.0)) > 1e-9 for k in g1.keys() | g2.keys()):
            notes.append("内容类别学时不一致")
        if abs(a - b) > 1e-9 or m != n or notes:
            out.append((key[0], key[1], a, b, m, n, "；".join(notes)))
    return out


@event.listens_for(Session, "before_flush")
def _hours_before_flush(session, _ctx, _instances) -> None:
    """An officer deleted takes its hours rows with it; a session about to be deleted or moved to
    another date remembers its officers (its attendance may be gone after the flush)."""
    touched = session.info.setdefault("hours_officers", set())
    for obj in session.deleted:
        if isinstance(obj, Officer) and obj.id is not None:
            session.execute(delete(TrainingHours).where(TrainingHours.officer_id == obj.id))
            session.execute(delete(TrainingGroupHours).where(TrainingGroupHours.officer_id == obj.id))
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
        elif isinstance(obj, TrainingClaim) and obj.officer_id is not None:
            officers.add(obj.officer_id)  # an approved claim counts (app/me/claims.py)
        elif isinstance(obj, TrainingSession) and obj.id is not None and obj not in session.new:
            attrs = inspect(obj).attrs
            if any(getattr(attrs, a).history.has_changes() for a in ("held_on", "online", "category")):
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
    year = settings.get("training_records_since")
    return FIRST_SESSION if year is None else year


def since_sql(since, today: date):
    """`since` (a year, None or FIRST_SESSION) as judged() takes it: FIRST_SESSION becomes a
    scalar subquery (MIN over ix_training_session_held_on, the year taken inside it: the database
    computes it once per statement, not once per officer row)."""
    if since != FIRST_SESSION:
        return since
    return select(func.coalesce(cast(func.extract("year", func.min(TrainingSession.held_on)), Integer),
                                today.year)).scalar_subquery()


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


def rule_of(p, year: int):
    """The rule of `year` under the flag parameters `p` (its rules, its hours_required)."""
    return rule_for(year, tuple(getattr(p, "rules", ()) or ()), float(p.hours_required))


def _group_joins(q, year: int, rule, prefix: str):
    """Join one training_group_hours row per minimum group of `rule` for `year`; return the query
    and [(group, minimum, counted hours expression)]."""
    out = []
    for i, (grp, minimum) in enumerate(rule.minimums):
        gh = aliased(TrainingGroupHours, name=f"{prefix}_g{i}")
        q = q.outerjoin(gh, and_(gh.officer_id == Officer.id, gh.year == year, gh.grp == grp))
        out.append((grp, minimum, func.coalesce(gh.hours, 0.0)))
    return q, out


def behind(counted, groups, total: float, year: int, until: date, post=None):
    """SQL: below what is owed by `until` — the total or any group's minimum (both pro rata)."""
    conds = [counted < owed(total, year, until, post)]
    conds += [h < owed(m, year, until, post) for _g, m, h in groups if m > 0]
    return or_(*conds)


def _two_years(p):
    """What shortfall_select and shortfall_details share: (a select from Officer outer-joined to
    its training_hours rows of last year and this year and to one training_group_hours row per
    minimum group of each year's rule, `since` as SQL, last year's rule, this year's rule, last
    year's counted hours, this year's, [(group, minimum, hours)] of last year, of this year)."""
    y = p.today.year
    since = since_sql(getattr(p, "records_since", None), p.today)
    r_prev, r_cur = rule_of(p, y - 1), rule_of(p, y)
    last, this = aliased(TrainingHours, name="hours_prev"), aliased(TrainingHours, name="hours_cur")
    q = (select(Officer.id).select_from(Officer)
         .outerjoin(last, and_(last.officer_id == Officer.id, last.year == y - 1))
         .outerjoin(this, and_(this.officer_id == Officer.id, this.year == y)))
    q, g_prev = _group_joins(q, y - 1, r_prev, "prev")
    q, g_cur = _group_joins(q, y, r_cur, "cur")
    return (q, since, r_prev, r_cur, func.coalesce(last.counted, 0.0), func.coalesce(this.counted, 0.0),
            g_prev, g_cur)


def shortfall_select(p) -> Select | None:
    """TRAINING_SHORTFALL in the five flag columns: `shortfall` when last year ended below what
    the officer owed for it — the rule's total or one of its group minimums, counted hours —
    else `at_risk` when this year is behind the officer's pro-rata pace (total or a minimum).
    One per officer; only officers judged for the year (judged()). Reads training_hours and
    training_group_hours (primary-key lookups per officer), never attendance; None when neither
    year is judged."""
    y = p.today.year
    since = getattr(p, "records_since", None)
    if isinstance(since, int) and y < since:
        return None
    q, since, r_prev, r_cur, prev, cur, g_prev, g_cur = _two_years(p)
    prev_short = and_(judged(y - 1, since), behind(prev, g_prev, r_prev.total, y - 1, date(y - 1, 12, 31)))
    cur_short = and_(judged(y, since), behind(cur, g_cur, r_cur.total, y, p.today))
    reason = case((prev_short, literal("shortfall")), else_=literal("at_risk"))
    q = (q.with_only_columns(
            literal("TRAINING_SHORTFALL").label("flag"), cast(reason, String).label("reason"),
            Officer.id.label("officer_id"), Officer.unit_id.label("unit_id"),
            cast(null(), Integer).label("certificate_id"), maintain_column_froms=True)
         .where(on_post(), or_(prev_short, cur_short)))
    if p.officer_id is not None:
        q = q.where(Officer.id == p.officer_id)
    if getattr(p, "officer_ids", None) is not None:  # the flag store's refresh (rules/flagstore.py)
        q = q.where(Officer.id.in_(p.officer_ids))
    if getattr(p, "unit_ids", None) is not None:
        q = q.where(Officer.unit_id.in_(p.unit_ids))
    return q


def _number(x: float):
    x = round(float(x), 2)
    return int(x) if x.is_integer() else x


def gaps(counted: float, group_hours: dict[str, float], due: float, group_dues: dict[str, float]):
    """(missing, total_gap): the groups below their due with the hours still missing
    ([{"group", "hours"}], in the rule's order) and the hours still missing to the total (0 when met)."""
    missing = [{"group": grp, "hours": _number(d - group_hours.get(grp, 0.0))}
               for grp, d in group_dues.items() if d > 0 and group_hours.get(grp, 0.0) < d]
    return missing, _number(max(due - counted, 0.0))


_ID_CHUNK = 5000  # officer ids per IN list


def shortfall_details(p, officer_ids) -> dict[int, dict]:
    """For flagged officers: {officer_id: {"missing": [...], "total_gap": x}} of the year the flag is
    about — last year's whole due for `shortfall`, this year's due by today for `at_risk` — in
    one statement per 5,000 of them."""
    ids = sorted({i for i in officer_ids if i is not None})
    if not ids:
        return {}
    y = p.today.year
    q, since, r_prev, r_cur, prev, cur, g_prev, g_cur = _two_years(p)
    end = date(y - 1, 12, 31)
    prev_short = and_(judged(y - 1, since), behind(prev, g_prev, r_prev.total, y - 1, end))
    cols = [Officer.id.label("id"), prev_short.label("prev_short"), prev.label("prev"), cur.label("cur"),
            owed(r_prev.total, y - 1, end).label("due_prev"), owed(r_cur.total, y, p.today).label("due_cur")]
    for i, (_g, m, h) in enumerate(g_prev):
        cols += [h.label(f"pg{i}"), owed(m, y - 1, end).label(f"pd{i}")]
    for i, (_g, m, h) in enumerate(g_cur):
        cols += [h.label(f"cg{i}"), owed(m, y, p.today).label(f"cd{i}")]
    q = q.with_only_columns(*cols, maintain_column_froms=True)
    out = {}
    # in chunks: a report of every flag names tens of thousands of officers, past the drivers'
    # limit of bound parameters (PostgreSQL: 65,535)
    rows = (r for i in range(0, len(ids), _ID_CHUNK)
            for r in db_session_execute(q.where(Officer.id.in_(ids[i:i + _ID_CHUNK]))))
    for r in rows:
        m = r._mapping
        if m["prev_short"]:
            hours = {g: float(m[f"pg{i}"]) for i, (g, _m, _h) in enumerate(g_prev)}
            dues = {g: float(m[f"pd{i}"]) for i, (g, _m, _h) in enumerate(g_prev)}
            missing, gap = gaps(float(m["prev"]), hours, float(m["due_prev"]), dues)
        else:
            hours = {g: float(m[f"cg{i}"]) for i, (g, _m, _h) in enumerate(g_cur)}
            dues = {g: float(m[f"cd{i}"]) for i, (g, _m, _h) in enumerate(g_cur)}
            missing, gap = gaps(float(m["cur"]), hours, float(m["due_cur"]), dues)
        out[r.id] = {"missing": missing, "total_gap": gap}
    return out


def db_session_execute(q):
    return db.session.execute(q)


def attach_year(q, year: int, groups: list[str]):
    """Outer-join to `q` (a select from Officer) the officer's training_hours row of `year` and
    one training_group_hours row per group; return (q, {"hours", "counted", "online",
    "online_counted": expressions}, {group: counted hours expression})."""
    th = aliased(TrainingHours, name=f"th_{year}")
    q = q.outerjoin(th, and_(th.officer_id == Officer.id, th.year == year))
    cols = {name: func.coalesce(getattr(th, name), 0.0) for name in ("hours", "counted", "online", "online_counted")}
    per_group = {}
    for i, grp in enumerate(groups):
        gh = aliased(TrainingGroupHours, name=f"tg_{year}_{i}")
        q = q.outerjoin(gh, and_(gh.officer_id == Officer.id, gh.year == year, gh.grp == grp))
        per_group[grp] = func.coalesce(gh.hours, 0.0)
    return q, cols, per_group


def rule_status_sql(counted, per_group: dict, rule, year: int, today: date, since, post=None):
    """(status, judged, due for the year, due by today or None, meets the year's rule) in SQL —
    year_status() with the rule's minimums: `met` needs the total and every minimum (pro rata)."""
    is_judged, due, by_now = year_terms(year, today, rule.total, since, post)
    end = date(year, 12, 31)
    mins = [(g, m, per_group[g]) for g, m in rule.minimums if g in per_group]
    meets = and_(counted >= due, *[h >= owed(m, year, end, post) for _g, m, h in mins if m > 0])
    if year < today.year:
        rest = literal("shortfall")
    elif year > today.year:
        rest = literal("future")
    else:
        rest = case((behind(counted, mins, rule.total, year, today, post), literal("at_risk")),
                    else_=literal("on_track"))
    return (case((~is_judged, literal("not_judged")), (meets, literal("met")), else_=rest),
            is_judged, due, by_now, meets)


def parts(rule, year: int, post_since, counted: float, by_group: dict[str, float], judged_: bool) -> dict:
    """The Python side of one officer's year: due per group (pro rata like the total), `missing`
    (groups below their due, with the hours still missing), `total_gap` and `meets` — what the
    report and the pages show. Not judged: nothing missing."""
    due_total = owed_py(rule.total, year, post_since)
    dues = {g: owed_py(m, year, post_since) for g, m in rule.minimums}
    missing, gap = gaps(counted, by_group, due_total, dues)
    if not judged_:
        missing, gap = [], 0
    return {"missing": missing, "total_gap": gap, "meets": not missing and not gap,
            "minimums": {g: _number(d) for g, d in dues.items()}}


def owed_py(required: float, year: int, post_since: date | None) -> float:
    """owed() for the whole year, in Python (the same arithmetic)."""
    first, ndays = date(year, 1, 1), 366 if calendar.isleap(year) else 365
    if post_since is None or post_since <= first:
        return required * 1.0 * ((date(year, 12, 31) - first).days + 1) / ndays
    if post_since > date(year, 12, 31):
        return 0.0
    return required / ndays * ((date(year, 12, 31) - post_since).days + 1)


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


# the groups' counted hours follow a new mapping of categories to content groups
settings.on_change("training_category_groups", lambda: refresh_hours(db.session, everyone=True))
