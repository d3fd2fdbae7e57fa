"""Training rules: sessions, bulk enrolment, the attendance grid, an officer's hours, the ledger."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Float, Integer, String, cast, func, literal, null, or_, select, union_all

from app import scope
from app.audit.services import (
    add_officer_rows,
    new_or_snapshot,
    record,
    record_joined,
    record_saved,
)
from app.errors import DomainError, required_text
from app.extensions import db
from app.formatting import cn_date
from app.grids import apply_grid
from app.idnumber import IdNumberError, mask, validate
from app.labels import ATTENDANCE_STATUSES, TRAINING_CATEGORIES, TRAINING_MODES, lookup
from app.models.me import TrainingClaim
from app.models.officers import Officer, Unit
from app.models.training import Attendance, TrainingSession
from app.paging import page_of
from app.rules.hours import attach_year, on_post, parts, records_since, rule_status_sql
from app.rules.training import category_groups, rule_for
from app.training import memo

SESSION_FIELDS = ["title", "category", "online", "held_on", "hours", "location", "organiser", "lecturer", "notes",
                  "unit_id"]


def parse_online(value: Any) -> bool:
    """培训方式: 线下 (False; also empty) or 线上 (True); a code, a label or a bool."""
    if isinstance(value, bool):
        return value
    text = str(value or "").strip()
    if not text:
        return False
    code = lookup(TRAINING_MODES, text)
    if code is None:
        raise DomainError(f"培训方式应为 线下 或 线上（现为“{text}”）")
    return code == "online"


def parse_hours(value: Any, label: str = "学时") -> float:
    """A positive number of hours in half-hour steps."""
    try:
        hours = float(str(value).strip())
    except (TypeError, ValueError):
        raise DomainError(f"{label}“{value}”不是数字") from None
    if hours <= 0:
        raise DomainError(f"{label}必须大于0（现为{value}）")
    if hours > 1000:
        raise DomainError(f"{label}不能超过1000")
    if abs(hours * 2 - round(hours * 2)) > 1e-9:
        raise DomainError(f"{label}应以0.5为单位（现为{value}）")
    return hours


def validate_session_data(data: dict[str, Any], *, exclude_id: int | None = None) -> dict[str, str]:
    errors: dict[str, str] = {}
    title = required_text(errors, data, "title", "培训名称", 200)
    if lookup(TRAINING_CATEGORIES, data.get("category")) is None:
        errors["category"] = (f"未知的培训类别“{data.get('category') or ''}”，可选："
                              f"{'、'.join(TRAINING_CATEGORIES.values())}")
    if not isinstance(data.get("held_on"), date):
        errors["held_on"] = "培训日期不能为空"
    try:
        parse_hours(data.get("hours"))
    except DomainError as exc:
        errors["hours"] = str(exc)
    try:
        parse_online(data.get("online"))
    except DomainError as exc:
        errors["online"] = str(exc)
    if title and isinstance(data.get("held_on"), date):
        clash = db.session.scalar(select(TrainingSession.id).where(
            TrainingSession.title == title, TrainingSession.held_on == data["held_on"],
            TrainingSession.id != (exclude_id or -1)).execution_options(scope_all=True))
        if clash:
            errors["title"] = f"{cn_date(data['held_on'])} 已有名为“{title}”的培训"
    return errors


def save_session(session: TrainingSession | None, data: dict[str, Any]) -> TrainingSession:
    """Create or edit a session. When its hours change, attended rows that were credited the old
    hours follow the new value (adjusted rows keep theirs)."""
    errors = validate_session_data(data, exclude_id=session.id if session else None)
    if errors:
        raise DomainError("；".join(errors.values()), fields=errors)
    creating = session is None
    unit_id = scope.organising_unit(data, None if creating else session.unit_id, creating)
    session, before = new_or_snapshot(session, TrainingSession, SESSION_FIELDS)
    old_hours = session.hours
    session.title = data["title"].strip()
    session.category = lookup(TRAINING_CATEGORIES, data["category"])
    if creating or "online" in data:
        session.online = parse_online(data.get("online"))
    session.held_on = data["held_on"]
    session.hours = parse_hours(data["hours"])
    for f in ("location", "organiser", "lecturer", "notes"):
        setattr(session, f, (data.get(f) or "").strip())
    session.unit_id = unit_id
    db.session.flush()
    if not creating and old_hours != session.hours:
        for a in session.attendances:
            if a.status == "attended" and a.credited_hours == old_hours:
                a.credited_hours = session.hours
        db.session.flush()
    record_saved("training_session", session, before, SESSION_FIELDS, f"培训 {session.title}", creating)
    return session


@dataclass
class Unmatched:
    """What typed-in names could not be matched: the sentences, and the entries as typed (to put
    back in the box)."""

    problems: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)


def find_officers(text: str) -> tuple[list[Officer], list[str]]:
    """Officers named in free text (ID numbers or names, one per line or separated by commas).
    Returns (officers, problems) — a name matching several people is a problem, not a guess."""
    officers, unmatched = match_officers(text)
    return officers, unmatched.problems


def match_officers(text: str) -> tuple[list[Officer], Unmatched]:
    """As `find_officers`, keeping the unmatched entries as typed."""
    tokens = [t for t in re.split(r"[\s,，;；、]+", text or "") if t]
    unmatched = Unmatched()
    if not tokens:
        return [], unmatched
    ids = {t.upper() for t in tokens if re.fullmatch(r"\d{17}[\dXx]", t)}
    names = {t for t in tokens if t.upper() not in ids}
    found = list(db.session.scalars(select(Officer).where(
        or_(Officer.id_number.in_(ids or {""}), Officer.name.in_(names or {""})))))
    by_id = {o.id_number: o for o in found}
    out: dict[int, Officer] = {}
    for t in dict.fromkeys(tokens):  # in the order typed, once each
        key = t.upper()
        if key in ids:
            if key in by_id:
                out[by_id[key].id] = by_id[key]
                continue
            try:
                validate(key)
            except IdNumberError as exc:  # a typo, not someone missing from the list
                unmatched.problems.append(f"“{mask(key)}”：{exc}")
            else:
                unmatched.problems.append(f"身份证号“{mask(key)}”不在人员名单中")
        elif re.fullmatch(r"[\dXx]{8,}", t):  # digits typed as an ID number, of the wrong length
            unmatched.problems.append(f"“{t}”不是有效的身份证号：应为18位，实际为{len(t)}位")
        else:
            matches = [o for o in found if o.name == t]
            if len(matches) == 1:
                out[matches[0].id] = matches[0]
                continue
            unmatched.problems.append(f"没有名为“{t}”的人员" if not matches
                                      else f"有{len(matches)}位人员名为“{t}”，请改用身份证号")
        unmatched.tokens.append(t)
    return list(out.values()), unmatched


def select_officers(mode: str, *, unit_id: int | None = None, text: str = "") -> list[Officer]:
    """The officers chosen for bulk enrolment: `unit` (active officers of a unit), `on_post`
    (every active officer on an enforcement post) or `hand` (ID numbers / names typed in)."""
    if mode == "unit":
        if not unit_id or db.session.get(Unit, unit_id) is None:
            raise DomainError("请选择单位")
        return list(db.session.scalars(select(Officer).where(
            Officer.unit_id == unit_id, Officer.employment_status == "active")
            .order_by(Officer.name_pinyin, Officer.name)))
    if mode == "on_post":
        return list(db.session.scalars(select(Officer).where(on_post()).order_by(Officer.name_pinyin, Officer.name)))
    if mode == "hand":
        officers, problems = find_officers(text)
        if problems:
            raise DomainError("；".join(problems))
        if not officers:
            raise DomainError("请填写身份证号或姓名")
        return officers
    raise DomainError("请选择添加方式")


def select_officers_partial(mode: str, *, unit_id: int | None = None,
                            text: str = "") -> tuple[list[Officer], Unmatched]:
    """As `select_officers`, but typed-in entries that match nobody (or several people) do not
    stop the others: they come back in `Unmatched` for the person to fix."""
    if mode != "hand":
        return select_officers(mode, unit_id=unit_id), Unmatched()
    officers, unmatched = match_officers(text)
    if not officers and not unmatched.tokens:
        raise DomainError("请填写身份证号或姓名")
    return officers, unmatched


def enrol(session: TrainingSession, officers: list[Officer]) -> int:
    """Register officers for a session; those already on it are skipped. Returns how many added."""
    have = set(db.session.scalars(select(Attendance.officer_id).where(Attendance.session_id == session.id)))
    return add_officer_rows(officers, have,
                            lambda o: Attendance(session=session, officer_id=o.id, status="registered",
                                                 credited_hours=0.0),
                            "training_session", session.id,
                            lambda added: f"培训 {session.title} 添加 {added} 名参训人员")


def bulk_enrol(session: TrainingSession, officers: list[Officer]) -> int:
    """enrol() for a selection from the officer list: also one audit row per officer added."""
    have = set(db.session.scalars(select(Attendance.officer_id).where(Attendance.session_id == session.id)))
    added = enrol(session, officers)
    record_joined(officers, have, "批量报名培训", "training_session", session.title)
    return added


def set_attendance(session: TrainingSession, att: Attendance, status: str, credited: Any = None) -> None:
    """One row: credited hours default to the session's hours when attended, 0 otherwise."""
    code = lookup(ATTENDANCE_STATUSES, status)
    if code is None:
        raise DomainError(f"未知的出勤情况“{status}”，可选：{'、'.join(ATTENDANCE_STATUSES.values())}")
    if code != "attended":
        hours = 0.0
    elif credited is None or str(credited).strip() == "":
        hours = session.hours
    else:
        try:
            hours = float(str(credited).strip())
        except ValueError:
            raise DomainError(f"认定学时“{credited}”不是数字") from None
        if hours < 0 or hours > session.hours:
            raise DomainError(f"认定学时应在0到{session.hours:g}之间（现为{credited}）")
    att.status, att.credited_hours = code, hours


def save_grid(session: TrainingSession, rows: dict[int, tuple[str, Any]]) -> int:
    """Mark many rows at once: {attendance_id: (status, credited_hours or None)}. All or nothing."""
    changes = apply_grid({a.id: a for a in session.attendances}, rows,
                         lambda att, status, credited: set_attendance(session, att, status, credited),
                         lambda att: f"{ATTENDANCE_STATUSES.get(att.status, att.status)} {att.credited_hours:g}")
    db.session.flush()
    if changes:
        record("update", "training_session", session.id,
               f"培训 {session.title} 登记出勤 {len(changes)} 人", changes)
    return len(changes)


def remove_attendance(session: TrainingSession, att_id: int) -> None:
    att = db.session.get(Attendance, att_id)
    if att is None or att.session_id != session.id:
        raise DomainError("该人员不在此培训名单中")
    name = att.officer.name
    db.session.delete(att)
    db.session.flush()
    record("update", "training_session", session.id, f"培训 {session.title} 移除 {name}")


def officer_training(officer_id: int) -> list[dict[str, Any]]:
    """Hours per year with the sessions behind them — and the approved training claims
    (app/me/claims.py, `claim` set: counted like an attended session held on its date, as
    training_hours counts them) — newest year first (one query)."""
    s, a, c = TrainingSession, Attendance, TrainingClaim
    sessions = (select(literal(0, Integer).label("claim"), s.id.label("id"), s.title.label("title"),
                       s.held_on.label("held_on"), s.online.label("online"), s.category.label("category"),
                       a.status.label("status"), a.credited_hours.label("credited"))
                .join(a, a.session_id == s.id).where(a.officer_id == officer_id))
    claims = (select(literal(1, Integer), c.id, c.title, c.held_on, c.online,
                     c.category, literal("claimed", String), c.hours)
              .where(c.officer_id == officer_id, c.status == "approved"))
    u = union_all(sessions, claims).subquery("officer_rows")
    rows = db.session.execute(select(u).order_by(u.c.held_on.desc(), u.c.claim, u.c.id.desc())).all()
    years: dict[int, dict[str, Any]] = {}
    for r in rows:
        y = years.setdefault(r.held_on.year, {"year": r.held_on.year, "hours": 0.0, "sessions": []})
        if r.status in ("attended", "claimed"):
            y["hours"] += r.credited
        y["sessions"].append({"id": r.id, "title": r.title, "held_on": r.held_on, "online": bool(r.online),
                              "category": r.category, "status": r.status, "credited": r.credited,
                              "claim": bool(r.claim)})
    return [_year_parts(y) for y in years.values()]


def _year_parts(y: dict[str, Any]) -> dict[str, Any]:
    """One officer's year against its rule, from the year's sessions: counted hours (online hours
    past the cap dropped, the earliest sessions keeping theirs), counted hours per group, and the
    rule's parts (group, counted, minimum) — what training_hours holds, for the page."""
    rule = rule_for(y["year"])
    mapping = category_groups()
    used = counted = dropped = 0.0
    by_group: dict[str, float] = {}
    # the order training_hours caps online hours in (app/rules/hours.py _rows: a claim's
    # place is its negative id)
    for s in sorted(y["sessions"], key=lambda s: (s["held_on"], -s["id"] if s.get("claim") else s["id"])):
        if s["status"] not in ("attended", "claimed"):
            continue
        h = s["credited"]
        if s["online"] and rule.online_max is not None:
            keep = max(0.0, min(h, rule.online_max - used))
            dropped += h - keep
            used += h
            h = keep
        counted += h
        grp = mapping.get(s["category"], s["category"])
        by_group[grp] = by_group.get(grp, 0.0) + h
    y.update(rule=rule, counted=round(counted, 2), online_dropped=round(dropped, 2),
             parts=[(g, round(by_group.get(g, 0.0), 2), m) for g, m in rule.minimums])
    return y


def ledger(year: int, today: date, required: float, *, unit_id: int | None = None,
           status: str | None = None, search: str | None = None, page: int | None = None,
           per_page: int = 100, id_partial: bool = False, units: list[int] | None = None) -> list[dict[str, Any]]:
    """培训台账: every active officer on an enforcement post with the year's credited and counted
    hours and counted hours per content group (from training_hours / training_group_hours), against
    the year's rule (`required`: the total when no rule is set). Filters in SQL; with `page`, only
    that page's rows (each row carries `total`, the number of rows on all pages; past the end: the
    last page). `units`: the ids of the units in their order, when the caller has them."""
    rule = rule_for(year, default_total=float(required))
    mins = [g for g, _m in rule.minimums]
    # what each officer owes (from post_since, for the years judged: docs/domain.md) and
    # year_status() in SQL, so the status filter and the paging happen in the database — the
    # same rule as the TRAINING_SHORTFALL flag
    since = records_since(today)
    base = select(Officer.id).join(Unit, Unit.id == Officer.unit_id)
    base, cols, per_group = attach_year(base, year, mins)
    st, is_judged, due, by_now, _meets = rule_status_sql(cols["counted"], per_group, rule, year, today, since)
    q = (base.with_only_columns(
            Officer.id, Officer.name, Officer.id_number, Officer.post_since, Unit.name.label("unit"),
            cols["hours"].label("hours"), cols["counted"].label("counted"),
            *[c.label(f"g{i}") for i, c in enumerate(per_group.values())],
            st.label("status"), is_judged.label("judged"), due.label("due"),
            (by_now if by_now is not None else cast(null(), Float)).label("by_now"), maintain_column_froms=True)
         .where(on_post()))
    order = (Unit.sort_order, Unit.name_pinyin, Unit.name, Officer.name_pinyin, Officer.name, Officer.id)
    if unit_id:
        q = q.where(Officer.unit_id == unit_id)
    if search:
        q = q.where(or_(Officer.name.like(f"%{search.strip()}%"),
                        Officer.id_number_search(search, partial=id_partial)))
    if status:
        q = q.where(st == status)
    total = None
    if page is not None and not search:
        # the counts per unit and status, kept until the next write (memo.py): the page is found
        # by walking the units in their order, and only its units' officers are read
        result, total = _page_by_units(q, order, year, today, required, unit_id, status, page, per_page, units)
    elif page is not None:
        result, total, _shown = page_of(q, order, page, per_page)
    else:
        result = db.session.execute(q.order_by(*order)).all()
    out = []
    for r in result:
        got, owes = float(r.counted), float(r.due)
        by_group = {g: float(getattr(r, f"g{i}")) for i, g in enumerate(mins)}
        rest = parts(rule, year, r.post_since, got, by_group, bool(r.judged))
        out.append({
            "officer_id": r.id, "name": r.name, "id_number_masked": mask(r.id_number), "unit": r.unit,
            "hours": round(float(r.hours), 2), "counted": round(got, 2), "required": round(owes, 2),
            "shortfall": round(max(owes - got, 0.0), 2) if r.judged else 0.0,
            "progress": min(got / owes, 1.0) if owes else 1.0,
            "pace": round(float(r.by_now), 1) if r.by_now is not None else None,
            "status": r.status,
            # the rule's parts: (group, counted hours, minimum owed) — 公共法律知识 15/20
            "parts": [(g, round(by_group[g], 2), rest["minimums"][g]) for g in mins],
            "missing": rest["missing"],
            "total": total,
        })
    return out


def ledger_counts(year: int, required: float, day: str) -> dict[str, dict[str, int]]:
    """{unit id: {status: officers}} of the ledger of `year` seen on `day` (ISO) — every active
    officer on an enforcement post, by unit and year_status() — in one GROUP BY over the officers
    (the scope's)."""
    today = date.fromisoformat(day)
    rule = rule_for(year, default_total=float(required))
    base, cols, per_group = attach_year(select(Officer.id), year, [g for g, _m in rule.minimums])
    st = rule_status_sql(cols["counted"], per_group, rule, year, today, records_since(today))[0]
    # `unit_id + 0`: no index for the grouping, so SQLite reads the officers from the covering
    # ix_officer_flag_columns (70 instead of 123 ms at 100,000 officers) rather than by unit
    sub = (base.with_only_columns((Officer.unit_id + 0).label("unit_id"), st.label("status"),
                                  maintain_column_froms=True)
           .where(on_post()).subquery("ledger_status"))
    out: dict[str, dict[str, int]] = {}
    for unit, st_, n in db.session.execute(
            select(sub.c.unit_id, sub.c.status, func.count()).group_by(sub.c.unit_id, sub.c.status)):
        out.setdefault(str(unit), {})[st_] = n
    return out


def _page_by_units(q, order, year: int, today: date, required: float, unit_id: int | None, status: str | None,
                   page: int, per_page: int, units: list[int] | None) -> tuple[list, int]:
    """(rows of the page shown, total rows) of the ledger query `q`: the total and the units that
    hold the page from the kept counts, then the page's rows from those units only (an OFFSET
    inside the first of them, never over the officers before it). Past the end: the last page."""
    day = today.isoformat()
    counts = memo.remembered("ledger", lambda: ledger_counts(year, required, day), year=year, required=required,
                             day=day)
    if units is None:
        units = list(db.session.scalars(select(Unit.id).order_by(Unit.sort_order, Unit.name_pinyin, Unit.name)))
    sizes = []
    for uid in units:
        if unit_id and uid != unit_id:
            continue
        c = counts.get(str(uid), {})
        n = c.get(status, 0) if status else sum(c.values())
        if n:
            sizes.append((uid, n))
    total = sum(n for _u, n in sizes)
    if not total:
        return [], 0
    shown = min(page, -(-total // per_page))
    start, seen, chosen, skip = (shown - 1) * per_page, 0, [], 0
    for uid, n in sizes:
        if seen + n <= start:
            seen += n
            continue
        if not chosen:
            skip = start - seen
        chosen.append(uid)
        seen += n
        if seen >= start + per_page:
            break
    # the page's rows: `chosen` are units of the user's own list (the scope's), so the scope's
    # criteria would only repeat it — for each table joined (SQLite: the branch's officer list
    # built for each hours table, PostgreSQL: ~10 ms of compiling 200-unit lists)
    rows = db.session.execute(q.where(Officer.unit_id.in_(chosen)).order_by(*order).offset(skip).limit(per_page)
                              .execution_options(**scope.UNSCOPED)).all()
    return rows, total


memo.register("ledger", ledger_counts)
