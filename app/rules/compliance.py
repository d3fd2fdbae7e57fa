"""The compliance engine (docs/domain.md 合规提示): every flag, computed in SQL over whole tables.

One place, used by the dashboard, the pages, the reports and the command line. `today` is always
a parameter. Each flag is a SELECT yielding (flag, reason, officer_id, unit_id, certificate_id);
`flags_select()` unions them so callers can count, filter or join without a query per officer.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Select

from app.extensions import db
from app.idnumber import mask
from app.models.certificates import Certificate
from app.models.flags import FlagRow
from app.models.officers import Officer, Unit
from app.models_base import sql_function
from app.rules.fields import framed_sql
from app.rules.hours import records_since, shortfall_details
from app.rules.timeline import ID_SPAN, effective_now, epoch_days, pack, unpack_id
from app.rules.training import all_rules
from app.settings import services as settings

FLAG_ORDER = ["UNLICENSED", "EXPIRING", "SHOULD_CANCEL", "INELIGIBLE", "TRAINING_SHORTFALL",
              "NEEDS_REISSUE", "UNIT_UNDERSTAFFED"]


@dataclass(frozen=True)
class Params:
    today: date
    within: int = 90
    eligible: tuple[str, ...] = ("civil_servant", "public_institution")
    hours_required: float = 60.0
    include_training: bool = True
    # the first year whose training hours are judged: a year, None (every year) or
    # training.hours.FIRST_SESSION (the year of the earliest session, decided in the statement)
    records_since: int | str | None = None
    officer_id: int | None = None  # one officer's flags only (the detail page): filtered inside each part
    # the years' training rules (app.rules.training.Rule, by year); none: hours_required, no minimums
    rules: tuple = ()
    # these officers' flags only (the flag store's refresh after a write: app/rules/flagstore.py)
    officer_ids: tuple[int, ...] | None = None
    # the officers of these units only (the store's refresh of UNIT_UNDERSTAFFED)
    unit_ids: tuple[int, ...] | None = None

    @property
    def restricted(self) -> bool:
        """Some officers' flags only (not the whole register's)."""
        return self.officer_id is not None or self.officer_ids is not None or self.unit_ids is not None

    @classmethod
    def from_settings(cls, today: date, within: int | None = None) -> Params:
        windows = settings.get("reminder_windows")
        return cls(
            today=today,
            within=within if within is not None else (max(windows) if windows else 90),
            eligible=tuple(settings.get("eligible_establishments")),
            hours_required=float(settings.get("training_hours_required")),
            records_since=records_since(today),
            rules=all_rules(),
        )


def officer_state(today: date, officer_id: int | None = None, officer_ids=None, unit_ids=None):
    """One row per officer (CTE `officer_state`): its own columns plus the effective enforcement
    certificate that expires last (eff_key: its packed (expires_on, id); `eff_id(s)` unpacks the
    id, `expires_by` compares the date), the latest one (lat_id: greatest issued_on, ties greatest id) and the
    one still held (valid or suspended, not expired) that expires last (held_id).

    Set-wise, in one pass over the officer's certificates in index order: GROUP BY officer_id
    with MAX() of a (date, id) pair packed into one integer, which picks the same row as
    ROW_NUMBER() OVER (PARTITION BY officer_id ORDER BY date DESC, id DESC) = 1 without sorting
    (one pass over the certificates instead of three window sorts: notes/benchmarks.md).
    One SELECT (no inner CTE: SQLite would materialise both levels), each expression per
    certificate row kept to the minimum: the kind is the join's, the expiry date is read off the
    packed key — SQLite evaluates these for each of ~40,000 rows. The effective card's id is not a
    column of its own: MAX(…) twice with bound parameters is two aggregates to SQLite (it cannot
    tell `?` from `?`), so it is unpacked where used, on the few rows that need it.
    """
    c = Certificate
    effective = effective_now(today, c, kind=False)  # kind: the join's
    held = and_(c.status.in_(("valid", "suspended")), c.expires_on >= today)
    eff_key = func.max(case((effective, pack(c.expires_on, c.id))))
    # Driven by officer (grouped by its primary key, in rowid order: no sort), each officer's
    # certificates found through ix_certificate_officer_kind_status_expires_issued.
    state = (
        select(Officer.id.label("officer_id"), Officer.unit_id, Officer.employment_status,
               Officer.on_enforcement_post, Officer.establishment,
               eff_key.label("eff_key"),
               unpack_id(func.max(pack(c.issued_on, c.id))).label("lat_id"),
               unpack_id(func.max(case((held, pack(c.expires_on, c.id))))).label("held_id"))
        .select_from(Officer)
        .outerjoin(c, and_(c.officer_id == Officer.id, c.kind == "enforcement"))
        .group_by(Officer.id)
    )
    if officer_id is not None:
        state = state.where(Officer.id == officer_id)
    if officer_ids is not None:
        state = state.where(Officer.id.in_(officer_ids))
    if unit_ids is not None:
        state = state.where(Officer.unit_id.in_(unit_ids))
    return state.cte("officer_state")


def eff_id(s):
    """On officer_state `s`: the id of the effective certificate that expires last (NULL: none)."""
    return unpack_id(s.c.eff_key)


def expires_by(s, day: date):
    """On officer_state `s`: the effective certificate expires on or before `day` (false without one)."""
    return s.c.eff_key < literal((epoch_days(day) + 1) * ID_SPAN, BigInteger)


class Shared:
    """The per-officer state of one query, built once and shared by every part."""

    def __init__(self, today: date, officer_id: int | None = None, officer_ids=None, unit_ids=None):
        self.today, self.officer_id = today, officer_id
        self.officer_ids, self.unit_ids = officer_ids, unit_ids
        self._state = None

    @classmethod
    def of(cls, p: Params) -> Shared:
        return cls(p.today, p.officer_id, p.officer_ids, p.unit_ids)

    @property
    def state(self):
        if self._state is None:
            self._state = officer_state(self.today, self.officer_id, self.officer_ids, self.unit_ids)
        return self._state


def _on_post(s=None):
    if s is None:
        return Officer.on_post
    return and_(s.c.employment_status == "active", s.c.on_enforcement_post.is_(True))


def _part(flag: str, reason, s, certificate_id) -> Select:
    return select(literal(flag).label("flag"), cast(reason, String).label("reason"),
                  s.c.officer_id.label("officer_id"), s.c.unit_id.label("unit_id"),
                  certificate_id.label("certificate_id")).select_from(s)


def unlicensed(p: Params, sets: Shared | None = None) -> Select:
    s = (sets or Shared.of(p)).state
    lat = aliased(Certificate, name="lat")  # the latest card's state, looked up for these rows only
    reason = case(
        (lat.id.is_(None), literal("none")),
        (and_(lat.status == "valid", lat.issued_on > p.today), literal("not_yet_valid")),
        (and_(lat.status == "valid", lat.expires_on < p.today), literal("expired")),
        else_=lat.status,
    )
    return (_part("UNLICENSED", reason, s, lat.id)
            .outerjoin(lat, lat.id == s.c.lat_id)
            .where(_on_post(s), s.c.eff_key.is_(None)))


def expiring(p: Params, sets: Shared | None = None) -> Select:
    s = (sets or Shared.of(p)).state
    return _part("EXPIRING", literal("expiring"), s, eff_id(s)).where(
        _on_post(s), expires_by(s, p.today + timedelta(days=p.within)))


def should_cancel(p: Params, sets: Shared | None = None) -> Select:
    s = (sets or Shared.of(p)).state
    reason = case((s.c.employment_status != "active", literal("not_active")), else_=literal("off_post"))
    return _part("SHOULD_CANCEL", reason, s, s.c.held_id).where(
        s.c.held_id.is_not(None),
        or_(s.c.employment_status != "active", s.c.on_enforcement_post.is_(False)))


def ineligible(p: Params, sets: Shared | None = None) -> Select:
    s = (sets or Shared.of(p)).state
    return _part("INELIGIBLE", s.c.establishment, s, eff_id(s)).where(
        s.c.employment_status == "active",
        s.c.establishment.not_in(p.eligible),
        or_(s.c.on_enforcement_post.is_(True), s.c.eff_key.is_not(None)),
    )


def unit_understaffed(p: Params, sets: Shared | None = None) -> Select:
    s = (sets or Shared.of(p)).state
    return (
        select(literal("UNIT_UNDERSTAFFED").label("flag"),
               cast(literal("understaffed"), String).label("reason"),
               cast(null(), Integer).label("officer_id"), s.c.unit_id.label("unit_id"),
               cast(null(), Integer).label("certificate_id"))
        .select_from(s)
        .where(_on_post(s))
        .group_by(s.c.unit_id)
        .having(func.count(s.c.eff_key) < 2)
    )


str_pos = sql_function("str_pos", Integer(), "strpos({})", "instr({})",
                       "1-based position of the second string in the first, 0 when absent, on either database.")


def unit_fields():
    """Recursive CTE `unit_field` (unit_id, field, rest): one row per label of each unit's
    执法类别 (stored "、"-joined, app/rules/fields.py); the seed rows have field ''. Units only
    (a few hundred rows), on the bare table: the officers it is joined to carry the unit scope."""
    u = Unit.__table__
    seed = (select(u.c.id.label("unit_id"), cast(literal(""), String).label("field"),
                   (u.c.enforcement_fields + literal("、")).label("rest"))
            .where(u.c.enforcement_fields != ""))
    cte = seed.cte("unit_field", recursive=True)
    cut = str_pos(cte.c.rest, literal("、"))
    return cte.union_all(select(cte.c.unit_id, func.substr(cte.c.rest, 1, cut - 1),
                                func.substr(cte.c.rest, cut + 1)).where(cte.c.rest != ""))


def needs_reissue(p: Params, sets: Shared | None = None) -> Select:
    """NEEDS_REISSUE: on post, holding an effective card whose 执法类别 leave out one of the unit's
    (a unit without 执法类别 never flags anyone)."""
    s = (sets or Shared.of(p)).state
    uf = unit_fields()
    card = aliased(Certificate, name="reissue_card")
    missing = str_pos(framed_sql(card.categories), literal("、") + uf.c.field + literal("、")) == 0
    u = Unit.__table__
    # a test on the officer row alone, before any card is looked up: only the officers of units
    # with 执法类别 go on (none at all while no unit has any)
    asks = s.c.unit_id.in_(select(u.c.id).where(u.c.enforcement_fields != ""))
    return (_part("NEEDS_REISSUE", literal("fields_not_covered"), s, eff_id(s))
            .join(uf, and_(uf.c.unit_id == s.c.unit_id, uf.c.field != ""))
            .join(card, card.id == eff_id(s))
            .where(asks, _on_post(s), s.c.eff_key.is_not(None), missing)
            .distinct())


def training_shortfall(p: Params) -> Select | None:
    """Hook for the training module (TRAINING_SHORTFALL); None until it is registered."""
    for builder in _EXTRA_BUILDERS:
        return builder(p)
    return None


_EXTRA_BUILDERS: list = []
_STORE: list = []  # the flag store's freshness test (app/rules/flagstore.py installs it)


def install_store(serves, peek) -> None:
    """`serves(p, flags)`: whether flag_row holds what the engine would compute for `p` (those
    `flags`; None: every flag) — its day, its parameters, a window at least `p.within`;
    `peek(p, flags, parts)`: the rows of `parts` (SELECTs from flag_row) when it serves, else None."""
    _STORE[:] = [serves, peek]


def store_serves(p: Params, flags: list[str] | None = None) -> bool:
    return bool(_STORE) and not p.restricted and _STORE[0](p, flags)


def wanted_flags(p: Params, flags: list[str] | None) -> list[str]:
    return [f for f in (flags or FLAG_ORDER) if p.include_training or f != "TRAINING_SHORTFALL"]


def _expiring_within(p: Params, within: int | None = None):
    return FlagRow.expires_on <= p.today + timedelta(days=p.within if within is None else within)


def stored_select(p: Params, flags: list[str] | None = None) -> Select | None:
    """The stored flags for `p` (the five columns of flags_select, from flag_row: the ORM entity,
    so that the unit scope applies), or None: the engine must compute them."""
    if not store_serves(p, flags):
        return None
    wanted = wanted_flags(p, flags)
    q = select(FlagRow.flag, FlagRow.reason, FlagRow.officer_id, FlagRow.unit_id, FlagRow.certificate_id)
    if wanted == ["EXPIRING"]:
        return q.where(FlagRow.flag == "EXPIRING", _expiring_within(p))
    if len(wanted) < len(FLAG_ORDER):
        q = q.where(FlagRow.flag.in_(wanted))
    if "EXPIRING" in wanted:
        q = q.where(or_(FlagRow.flag != "EXPIRING", _expiring_within(p)))
    return q


def has_builders() -> bool:
    """Whether a module contributes a flag (the training shortfall)."""
    return bool(_EXTRA_BUILDERS)


def register_flag_builder(builder) -> None:
    """Let a module (training) contribute a flag SELECT of the same five columns."""
    if builder not in _EXTRA_BUILDERS:
        _EXTRA_BUILDERS.append(builder)


def flags_select(p: Params, flags: list[str] | None = None, shared: Shared | None = None, *,
                 store: bool = True):
    """UNION ALL of every flag's SELECT: columns flag, reason, officer_id, unit_id, certificate_id.
    Pass `shared` to reuse its officer_state CTE in a larger statement. Read from the flag store
    (app/rules/flagstore.py) when it holds `p`'s day and parameters, unless `store` is false (the
    store's own filling, the reference)."""
    if store and shared is None:
        rows = stored_select(p, flags)
        if rows is not None:
            return rows.subquery("flags")
    parts = [q for _code, q in flag_parts(p, flags, shared)]
    if not parts:
        return None
    return union_all(*parts).subquery("flags")


def flag_parts(p: Params, flags: list[str] | None = None, shared: Shared | None = None) -> list[tuple[str, Select]]:
    """[(flag, its SELECT of the five columns)] in FLAG_ORDER's order of building: what
    flags_select unions."""
    builders = {
        "UNLICENSED": unlicensed,
        "EXPIRING": expiring,
        "SHOULD_CANCEL": should_cancel,
        "INELIGIBLE": ineligible,
        "NEEDS_REISSUE": needs_reissue,
        "UNIT_UNDERSTAFFED": unit_understaffed,
    }
    if p.officer_id is not None or p.officer_ids is not None:
        builders.pop("UNIT_UNDERSTAFFED")  # a unit's flag, not an officer's
    sets = shared or Shared.of(p)
    parts = [(code, b(p, sets)) for code, b in builders.items() if not flags or code in flags]
    if p.include_training and (not flags or "TRAINING_SHORTFALL" in flags):
        extra = training_shortfall(p)
        if extra is not None:
            parts.append(("TRAINING_SHORTFALL", extra))
    return parts


def count_by_flag(p: Params, extra: dict[str, Any] | None = None) -> dict[str, int]:
    """How many of each flag; with `extra` ({name: condition(state, today) on the officer_state
    columns}), how many officers meet each condition too — all in one statement. Pass the same
    `extra` mapping every time (a module-level dict): the statement is then built once per `p`.
    Without `extra`, from the flag store when it serves `p`."""
    if not extra and store_serves(p):
        sub = stored_select(p).subquery()
        counts = dict.fromkeys(FLAG_ORDER, 0)
        counts.update(dict(db.session.execute(select(sub.c.flag, func.count()).group_by(sub.c.flag)).all()))
        return counts
    rows = db.session.execute(_count_statement(p, tuple((extra or {}).items()), tuple(_EXTRA_BUILDERS))).all()
    counts = dict.fromkeys(FLAG_ORDER, 0)
    counts.update({flag: n for flag, n in rows})
    return counts


@functools.lru_cache(maxsize=16)
def _count_statement(p: Params, extra: tuple, _builders: tuple):
    """count_by_flag's statement, kept for the same Params, conditions and flag builders (a
    day's dashboard: building it costs more SQLAlchemy time than its extras' SQL: notes/benchmarks.md)."""
    shared = Shared(p.today, p.officer_id)
    # each flag counted by itself (no union of every flag row to group again)
    counts = [select(literal(code).label("flag"), func.count()).select_from(part.subquery())
              for code, part in flag_parts(p, shared=shared)]
    st = shared.state
    counts += [select(literal(name), func.count()).select_from(st).where(cond(st, p.today)) for name, cond in extra]
    return union_all(*counts)


def _on_post_state(st):
    return and_(st.c.employment_status == "active", st.c.on_enforcement_post.is_(True))


def _figures(windows: tuple[int, ...]) -> dict:
    """The dashboard's figures as conditions on officer_state (the engine's way: count_by_flag's
    `extra`), one mapping per set of windows (count_by_flag keeps its statement per mapping)."""
    return {
        "officers_total": lambda st, d: st.c.employment_status == "active",
        "on_post": lambda st, d: _on_post_state(st),
        "certified": lambda st, d: and_(_on_post_state(st), st.c.eff_key.is_not(None)),
        **{f"expiring_{w}": (lambda st, d, w=w: and_(_on_post_state(st), expires_by(st, d + timedelta(days=w))))
           for w in windows},
    }


_FIGURES: dict[tuple, dict] = {}


def dashboard_counts(p: Params, windows: tuple[int, ...] = (30, 60, 90)) -> dict[str, int]:
    """Every flag's count and the dashboard's figures — officers_total (active), on_post,
    certified (on post holding an effective enforcement card), expiring_<w> (on post, that card
    expiring within w days) — in one statement. From the flag store when it serves `p` with a
    window of max(windows): the officers' two counts plus one pass over flag_row (certified = on
    post − UNLICENSED; expiring_<w>: the EXPIRING rows within w days); else the engine's
    count_by_flag over officer_state."""
    widest = replace(p, within=max(p.within, *windows))
    wanted = wanted_flags(p, None)
    fr = FlagRow
    # each count by itself, each answered from an index (a pass with a CASE per figure over every
    # row costs SQLite 3× more: 26 vs 8 ms at 120,000 rows)
    others = [f for f in wanted if f != "EXPIRING"]
    parts = [select(fr.flag, func.count()).where(fr.flag.in_(others)).group_by(fr.flag)]
    if "EXPIRING" in wanted:
        parts.append(select(literal("EXPIRING"), func.count()).where(fr.flag == "EXPIRING", _expiring_within(p)))
    parts += [select(literal(f"expiring_{w}"), func.count()).where(fr.flag == "EXPIRING", _expiring_within(p, w))
              for w in windows]
    parts += [select(literal("officers_total"), func.count()).select_from(Officer).where(
                  Officer.employment_status == "active"),
              select(literal("on_post"), func.count()).select_from(Officer).where(Officer.on_post)]
    # the store's state read in the same statement (the first flag read of the request)
    rows = _STORE[1](widest, None, parts) if _STORE and not p.restricted else None
    if rows is None:
        extra = _FIGURES.setdefault(tuple(windows), _figures(tuple(windows)))
        return count_by_flag(p, extra)
    counts = dict.fromkeys(FLAG_ORDER, 0) | {f"expiring_{w}": 0 for w in windows}
    counts.update({k: int(v or 0) for k, v in rows})
    counts["certified"] = counts["on_post"] - counts["UNLICENSED"]
    return counts


def officer_ids_with_flag(p: Params, flag: str):
    """A subquery of officer ids carrying `flag`, for filtering officer lists."""
    sub = flags_select(p, [flag])
    return select(sub.c.officer_id).where(sub.c.officer_id.is_not(None))


def _flag_query(p: Params, cols, *, flags=None, unit=None, reason=None, search=None, officer_id=None,
                id_partial: bool = False):
    """The flags joined to unit, officer and certificate, filtered in SQL; None when no part."""
    sub = flags_select(p, flags)
    if sub is None:
        return None, None
    q = (
        select(*cols(sub))
        .select_from(sub)
        .join(Unit, Unit.id == sub.c.unit_id)
        .outerjoin(Officer, Officer.id == sub.c.officer_id)
        .outerjoin(Certificate, Certificate.id == sub.c.certificate_id)
    )
    if unit:
        q = q.where(Unit.name == unit)
    if reason:
        q = q.where(sub.c.reason == reason)
    if officer_id is not None:
        q = q.where(sub.c.officer_id == officer_id)
    if search:
        like = f"%{search.strip()}%"
        q = q.where(or_(Officer.name.like(like), Unit.name.like(like),
                        Officer.id_number_search(search, partial=id_partial)))
    return q, sub


def list_flags(
    p: Params,
    *,
    flags: list[str] | None = None,
    unit: str | None = None,
    reason: str | None = None,
    search: str | None = None,
    officer_id: int | None = None,
    limit: int | None = None,
    offset: int = 0,
    id_partial: bool = False,
    details: bool = True,
) -> list[dict[str, Any]]:
    """The flags as plain dicts of the report's JSON shape (docs/domain.md 命令行约定), in one query,
    filtered, ordered and (with `limit`/`offset`) cut to one page in SQL. `search` matches names and units in part, ID
    numbers whole (in part too with `id_partial`: admins only). TRAINING_SHORTFALL rows carry
    `missing` and `total_gap` (one more statement) unless `details` is false."""
    def cols(sub):
        return (sub.c.flag, sub.c.reason, sub.c.officer_id, Officer.name, Officer.id_number,
                Unit.name.label("unit"), Unit.id.label("unit_id"), Certificate.number,
                Certificate.expires_on)

    q, sub = _flag_query(p, cols, flags=flags, unit=unit, reason=reason, search=search, officer_id=officer_id,
                         id_partial=id_partial)
    if q is None:
        return []
    order = case({f: i for i, f in enumerate(FLAG_ORDER)}, value=sub.c.flag)
    q = q.order_by(order, Unit.sort_order, Unit.name_pinyin, Unit.name, Officer.name_pinyin, Officer.name,
                   sub.c.officer_id)
    if limit is not None:
        q = q.limit(limit).offset(offset)
    out = []
    for r in db.session.execute(q):
        out.append({
            "flag": r.flag,
            "reason": r.reason,
            "officer_id": r.officer_id,
            "name": r.name,
            "id_number_masked": mask(r.id_number) if r.id_number else None,
            "unit": r.unit,
            "certificate_number": r.number,
            "expires_on": r.expires_on.isoformat() if r.expires_on else None,
            "days_left": (r.expires_on - p.today).days if r.expires_on else None,
        })
        if r.flag == "TRAINING_SHORTFALL":  # the year the hours are short in (docs/domain.md 年度学时)
            out[-1]["year"] = p.today.year - 1 if r.reason == "shortfall" else p.today.year
    if details:
        _training_details(p, out)
    return out


def _training_details(p: Params, rows: list[dict[str, Any]]) -> None:
    """Add `missing` and `total_gap` to the TRAINING_SHORTFALL rows (one statement for them all)."""
    ids = [r["officer_id"] for r in rows if r["flag"] == "TRAINING_SHORTFALL"]
    if not ids:
        return
    details = shortfall_details(p, ids)
    for r in rows:
        if r["flag"] == "TRAINING_SHORTFALL":
            r.update(details.get(r["officer_id"], {"missing": [], "total_gap": 0}))


def count_by_flag_reason(p: Params, *, flags: list[str] | None = None, unit: str | None = None,
                         search: str | None = None, id_partial: bool = False) -> dict[tuple[str, str], int]:
    """{(flag, reason): how many} under the unit/search filters: one GROUP BY for every chip,
    reason menu and total of the flags page."""
    q, sub = _flag_query(p, lambda sub: (sub.c.flag, sub.c.reason, func.count()),
                         flags=flags, unit=unit, search=search, id_partial=id_partial)
    if q is None:
        return {}
    return {(f, r): n for f, r, n in db.session.execute(q.group_by(sub.c.flag, sub.c.reason))}


def flags_page(p: Params, *, flag: str | None = None, reason: str | None = None, unit: str | None = None,
               search: str | None = None, per_page: int = 50, page: int = 1,
               id_partial: bool = False) -> tuple[dict[tuple[str, str], int], list[dict[str, Any]], int]:
    """The flags page in ONE statement (the flags computed once): ({(flag, reason): count} under
    the unit/search filters, the rows of `page` under every filter in list order, the page shown —
    the last one when `page` is past the end). Each row is list_flags()' dict."""
    # a search is built afresh: its words (names, ID numbers) are not kept in the cache
    build = _page_statement.__wrapped__ if search else _page_statement
    q = build(p, flag, reason, unit, search, per_page, page, id_partial, tuple(_EXTRA_BUILDERS), store_serves(p))
    if q is None:
        return {}, [], 1
    counts: dict[tuple[str, str], int] = {}
    rows = []
    for r in db.session.execute(q):
        if r.kind == "count":
            counts[(r.flag, r.reason)] = r.n
        else:
            rows.append(r)
    rows.sort(key=lambda r: r.pos)
    total = sum(n for (f, rs), n in counts.items() if (not flag or f == flag) and (not reason or rs == reason))
    pages_n = max(1, -(-total // per_page))
    out = []
    for r in rows:
        out.append({
            "flag": r.flag, "reason": r.reason, "officer_id": r.officer_id, "name": r.name,
            "id_number_masked": mask(r.id_number) if r.id_number else None, "unit": r.unit,
            "certificate_number": r.number,
            "expires_on": r.expires_on.isoformat() if r.expires_on else None,
            "days_left": (r.expires_on - p.today).days if r.expires_on else None,
        })
        if r.flag == "TRAINING_SHORTFALL":
            out[-1]["year"] = p.today.year - 1 if r.reason == "shortfall" else p.today.year
    _training_details(p, out)
    return counts, out, min(max(page, 1), pages_n)


@functools.lru_cache(maxsize=64)
def _page_statement(p: Params, flag, reason, unit, search, per_page: int, page: int, id_partial: bool,
                    _builders: tuple, stored: bool):
    """flags_page's statement, kept for the same arguments (and flag builders): the page asked
    again the same day (the first page, a chip, a reload) skips the SQLAlchemy construction (notes/benchmarks.md).

    The flags are computed once (CTE `flag_set`, five narrow columns); the counts group it as it
    is (a unit filter is a unit id test; only a search joins the names). The rows are ordered by
    the flag first, so only the flags whose rows reach the page (from the chosen rows' counts per
    flag, in FLAG_ORDER) are joined to their officer and unit and sorted. `stored`: the flags are
    read from the flag store (part of the key: the statement differs)."""
    sub = flags_select(p, store=stored)
    if sub is None:
        return None
    # the engine's flags computed once (a CTE); the stored ones read where used (a CTE of 120,000
    # stored rows is copied by SQLite before it is read; inline, each use reads flag_row's indexes)
    f = sub if stored else select(sub).cte("flag_set")
    conds = []
    if unit:
        conds.append(f.c.unit_id.in_(select(Unit.id).where(Unit.name == unit).scalar_subquery()))
    if search:
        like = f"%{search.strip()}%"
        hit_unit = select(Unit.id).where(Unit.name.like(like)).scalar_subquery()
        hit_officer = (select(Officer.id).where(or_(Officer.name.like(like),
                                                    Officer.id_number_search(search, partial=id_partial)))
                       .scalar_subquery())
        conds.append(or_(f.c.unit_id.in_(hit_unit), f.c.officer_id.in_(hit_officer)))
    chosen = [*conds, *[c for c in ((f.c.flag == flag) if flag else None, (f.c.reason == reason) if reason else None)
                        if c is not None]]
    rank = case({fl: i for i, fl in enumerate(FLAG_ORDER)}, value=f.c.flag)
    # the chosen rows per flag, each flag's first position (0-based) in list order
    per_flag = (select(f.c.flag, rank.label("rank"), func.count().label("n"))
                .where(*chosen).group_by(f.c.flag).subquery())
    starts = select(per_flag.c.flag, per_flag.c.n,
                    cast(func.sum(per_flag.c.n).over(order_by=per_flag.c.rank) - per_flag.c.n,
                         BigInteger).label("start")
                    ).cte("starts")
    # (SUM is NUMERIC on PostgreSQL: cast back to an integer, so that `//` divides whole numbers)
    n_chosen = select(cast(func.coalesce(func.sum(starts.c.n), 0), BigInteger)).scalar_subquery()
    # the page number is clamped in SQL: the chosen rows' count decides the last page
    pages = (n_chosen + (per_page - 1)) // per_page
    # (no rows: page 1, offset 0 — PostgreSQL refuses a negative OFFSET)
    offset = (case((pages < 1, 1), (pages < page, pages), else_=page) - 1) * per_page if page > 1 else literal(0)
    reach = select(starts.c.flag).where(starts.c.start < offset + per_page, starts.c.start + starts.c.n > offset)
    # the first reaching flag's first position: the page's offset among the reaching flags' rows
    first_pos = select(func.coalesce(func.min(starts.c.start), 0)).where(
        starts.c.start < offset + per_page, starts.c.start + starts.c.n > offset).scalar_subquery()
    order = (rank, Unit.sort_order, Unit.name_pinyin, Unit.name, Officer.name_pinyin, Officer.name, f.c.officer_id)
    paged = (select(f.c.flag, f.c.reason, f.c.officer_id, f.c.certificate_id, Unit.name.label("unit"),
                    Unit.sort_order.label("unit_sort"), Unit.name_pinyin.label("unit_py"),
                    Officer.name.label("name"), Officer.name_pinyin.label("name_py"),
                    Officer.id_number.label("id_number"))
             .select_from(f).join(Unit, Unit.id == f.c.unit_id).outerjoin(Officer, Officer.id == f.c.officer_id)
             .where(*chosen, f.c.flag.in_(reach))
             .order_by(*order).limit(per_page).offset(offset - first_pos)
             .subquery("paged"))
    pos = func.row_number().over(order_by=(case({fl: i for i, fl in enumerate(FLAG_ORDER)}, value=paged.c.flag),
                                           paged.c.unit_sort, paged.c.unit_py, paged.c.unit, paged.c.name_py,
                                           paged.c.name, paged.c.officer_id))
    rows_q = (select(literal("row").label("kind"), paged.c.flag, paged.c.reason, paged.c.officer_id,
                     paged.c.name, paged.c.id_number, paged.c.unit, Certificate.number,
                     Certificate.expires_on, pos.label("pos"), literal(0).label("n"))
              .select_from(paged).outerjoin(Certificate, Certificate.id == paged.c.certificate_id))
    counts_q = (select(literal("count"), f.c.flag, f.c.reason, null(), null(), null(), null(), null(),
                       null(), literal(0), func.count()).where(*conds).group_by(f.c.flag, f.c.reason))
    return union_all(rows_q, counts_q)


def officer_flags(p: Params, officer_id: int) -> list[dict[str, Any]]:
    """One officer's flags, computed for that officer only (not filtered out of everyone's); without
    the training shortfall's `missing`/`total_gap` (the page shows the year's parts itself)."""
    return list_flags(replace(p, officer_id=officer_id), officer_id=officer_id, details=False)
