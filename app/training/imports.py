"""`flask import attendance FILE` as an importer of the framework in app.importing.base:
a session is identified by 培训名称 + 培训日期 and created when new; one row per officer and
session, updated when it exists. Applied in bulk (200,000 rows in bounded memory:
docs/architecture.md, Cost targets)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from app import idnumber
from app.errors import DomainError
from app.extensions import db
from app.importing.base import Importer, ImportResult, Sheet, chunks, register
from app.importing.readers import Column
from app.labels import ATTENDANCE_STATUSES, TRAINING_CATEGORIES, TRAINING_MODES
from app.models.officers import Officer
from app.models.training import Attendance, TrainingSession
from app.models_base import utcnow
from app.rules.hours import refresh_hours
from app.rules.training import LATE, check_years, closed_message, closed_since
from app.training import services as training

EXAMPLE_ID = "11010519491231002X"
ATTENDANCE_COLUMNS = [
    Column("title", "培训名称", "title", required=True, max_length=200, example="宪法专题讲座"),
    Column("date", "培训日期", "date", required=True, kind="date", example=date(2024, 3, 1)),
    Column("category", "培训类别", "category", kind="enum", mapping=TRAINING_CATEGORIES,
           example="通用法律知识"),
    Column("mode", "培训方式", "mode", kind="enum", mapping=TRAINING_MODES, example="线下",
           hint="线下 或 线上，留空为线下；线上学时超过年度上限的部分不计入"),
    Column("hours", "学时", "hours", required=True, example=4, hint="正数，以0.5为单位"),
    Column("id_number", "身份证号", "id_number", required=True, kind="id", example=EXAMPLE_ID),
    Column("status", "出勤情况", "status", kind="enum", mapping=ATTENDANCE_STATUSES, example="出席"),
    Column("credited_hours", "认定学时", "credited_hours",
           hint="留空时出席者认定为培训学时，其余为0"),
]
DEFAULT_CATEGORY = "general_law"  # 通用法律知识, for a new session whose rows leave 培训类别 empty
_BULK = 5000


def resolve_officers(sheet: Sheet, today: date,
                     cols: tuple = (Officer.id, Officer.id_number, Officer.name)) -> dict[int, Any]:
    """Each row's officer (`cols`: id, name by default; id_number always among them) by its ID
    number, a query per 500 numbers; an unknown or malformed number is reported on its cell."""
    wanted: dict[int, str] = {}
    checked_id = idnumber.validator(today)
    for row in sheet.rows:
        if row.is_bad("id_number"):
            continue
        if not row.get("id_number"):
            row.error("id_number", "身份证号不能为空")
            continue
        number = checked_id(row.get("id_number"))
        if isinstance(number, idnumber.IdNumberError):
            row.error("id_number", str(number))
        else:
            wanted[row.number] = number
    found: dict[str, Any] = {}
    for chunk in chunks(set(wanted.values())):
        found.update({o.id_number: o for o in db.session.execute(
            select(*cols).where(Officer.id_number.in_(chunk)))})
    out = {}
    by_number = {r.number: r for r in sheet.rows}
    for number, ric in wanted.items():
        if ric in found:
            out[number] = found[ric]
        else:
            by_number[number].error("id_number", f"系统中没有身份证号为 {idnumber.mask(ric)} 的执法人员")
    return out


class _Att:
    __slots__ = ("status", "credited_hours")


def _after_attendance_import(officer_ids: set[int], years: set[int]) -> None:
    """The bulk writes of an attendance import (and of its undo) bypass the ORM flush hook, so
    they refresh the per-officer, per-year training hours here, in the same transaction."""
    if officer_ids:
        refresh_hours(db.session, officer_ids=officer_ids, years=years)


def _merge_session(sessions: dict[tuple[str, date], dict[str, Any]], key: tuple[str, date], row,
                   hours: float) -> None:
    """The session a row names, its specification taken from its first row: a later row's hours,
    category and mode must agree with it (an empty category or mode takes the first one given)."""
    category = row.get("category")
    mode = row.get("mode")
    spec = sessions.get(key)
    if spec is None:
        spec = sessions[key] = {"hours": hours, "category": category, "mode": mode, "row": row.number}
    if mode and spec["mode"] and spec["mode"] != mode:
        row.error("mode", f"同一培训的培训方式与第 {spec['row']} 行不一致")
    spec["mode"] = spec["mode"] or mode
    if spec["hours"] != hours:
        row.error("hours", f"同一培训的学时与第 {spec['row']} 行（{spec['hours']:g}）不一致")
    if category and spec["category"] and spec["category"] != category:
        row.error("category", f"同一培训的类别与第 {spec['row']} 行不一致")
    spec["category"] = spec["category"] or category


def _stored_sessions(sheet: Sheet, here: set[tuple[str, date]],
                     sessions: dict[tuple[str, date], dict[str, Any]],
                     state: dict[str, Any]) -> dict[tuple[str, date], TrainingSession | None]:
    """The stored session of each key these rows name (None: new, noted in state["new"]); a stored
    session's hours and mode must agree with the file's, and a new one without a category gets the
    default."""
    existing: dict[tuple[str, date], TrainingSession | None] = {}
    by_row = {}
    rows_by_number = {r.number: r for r in sheet.rows}
    for key in here:
        spec = sessions[key]
        s = db.session.scalar(select(TrainingSession).where(
            TrainingSession.title == key[0], TrainingSession.held_on == key[1]))
        if s is None and not spec["category"]:
            spec["category"] = DEFAULT_CATEGORY  # 培训类别 is optional: a new session needs one
        elif s is not None and s.hours != spec["hours"]:
            by_row.setdefault(spec["row"], []).append(
                f"已登记的培训“{key[0]}”学时为 {s.hours:g}，与文件中的 {spec['hours']:g} 不一致")
        if s is None:
            state["new"].add(key)
        if (s is not None and spec["mode"] and (spec["mode"] == "online") != s.online
                and spec["row"] in rows_by_number):  # else told with an earlier chunk
            rows_by_number[spec["row"]].error(
                "mode", f"已登记的培训“{key[0]}”为{'线上' if s.online else '线下'}，"
                        f"与文件中的{TRAINING_MODES[spec['mode']]}不一致")
        existing[key] = s
    for number, messages in by_row.items():
        if number in rows_by_number:  # else told with an earlier chunk
            rows_by_number[number].error("hours", messages[0])
    return existing


@register
class AttendanceImporter(Importer):
    kind, entity, noun = "attendance", "attendance", "出勤记录"
    help = "导入培训出勤（培训名称+培训日期确定一次培训，新培训自动建立）"
    columns = ATTENDANCE_COLUMNS
    defaults = {"category": "通用法律知识（新培训）", "mode": "线下（新培训）", "status": "出席",
                "credited_hours": "出席者为培训学时，其余为0"}
    notes = ["同一培训（培训名称+培训日期相同）各行的学时、培训类别和培训方式须一致；"
             "新培训的培训类别留空时记为“通用法律知识”，培训方式留空时记为“线下”。"]

    streams = True

    def stream_state(self) -> dict[str, Any]:
        return {"sessions": {}, "seen": {}, "new": set()}

    def validate(self, sheet: Sheet, *, today: date, state: dict[str, Any] | None = None):
        """`state` (a streamed import): the sessions and (session, officer) pairs of the rows
        before these, and the sessions found new."""
        streamed = state is not None
        state = state if streamed else self.stream_state()
        officers = resolve_officers(sheet, today)
        sessions: dict[tuple[str, date], dict[str, Any]] = state["sessions"]
        seen: dict[tuple[str, date], dict[int, int]] = state["seen"]  # session -> officer -> row
        here: set[tuple[str, date]] = set()  # the sessions these rows name
        plan = []
        for row in sheet.rows:
            hours = None
            if row.get("hours") is not None:
                try:
                    hours = training.parse_hours(row.get("hours"))
                except DomainError as exc:
                    row.error("hours", str(exc))
            elif not row.is_bad("hours"):
                row.error("hours", "学时不能为空")
            if not row.get("title"):
                row.error("title", "培训名称不能为空")
            if not row.get("date"):
                row.error("date", "培训日期不能为空")
            if not (row.get("title") and row.get("date") and hours):
                continue
            key = (row.get("title"), row.get("date"))
            here.add(key)
            _merge_session(sessions, key, row, hours)
            officer = officers.get(row.number)
            if officer is None:
                continue
            in_session = seen.setdefault(key, {})
            if officer.id in in_session:
                row.error("id_number", f"与第 {in_session[officer.id]} 行重复")
                continue
            in_session[officer.id] = row.number
            plan.append((row, key, officer.id, row.get("status") or "attended",
                         row.get("credited_hours")))

        if not db.session.info.get(LATE):  # a closed year's attendance needs an admin's reason
            for row in sheet.rows:
                held = row.get("date")
                day = closed_since(held.year, today) if isinstance(held, date) else None
                if day is not None:
                    row.error("date", closed_message(held.year, day))
        existing = _stored_sessions(sheet, here, sessions, state)
        # Each row's status and credited hours, by the same rule as the grid (no ORM objects).
        probes = {key: SimpleNamespace(hours=sessions[key]["hours"]) for key in here}
        final = []
        for row, key, officer_id, status, credited in plan:
            att = _Att()
            try:
                training.set_attendance(probes[key], att, status, credited)
            except DomainError as exc:
                row.error("credited_hours", str(exc))
                continue
            final.append((key, officer_id, att.status, att.credited_hours))
        return {"sessions": {key: sessions[key] for key in here}, "existing": existing,
                "rows": final, "changes": None, "hours_later": state if streamed else None}

    def export_rows(self):
        for a in db.session.execute(select(
                TrainingSession.title, TrainingSession.held_on, TrainingSession.category, TrainingSession.online,
                TrainingSession.hours, Officer.id_number, Attendance.status, Attendance.credited_hours)
                .join(TrainingSession, TrainingSession.id == Attendance.session_id)
                .join(Officer, Officer.id == Attendance.officer_id)
                .order_by(TrainingSession.held_on, TrainingSession.id, Attendance.id)
                .execution_options(yield_per=2000)):
            yield {"title": a.title, "date": a.held_on, "category": TRAINING_CATEGORIES.get(a.category),
                   "mode": "线上" if a.online else "线下",
                   "hours": a.hours, "id_number": a.id_number,
                   "status": ATTENDANCE_STATUSES.get(a.status), "credited_hours": a.credited_hours}

    def _changes(self, plan) -> tuple[list, list, int]:
        """(rows to insert, rows to update, unchanged count) against the stored attendance."""
        known = [s.id for s in plan["existing"].values() if s is not None]
        wanted = sorted({officer_id for _k, officer_id, _s, _h in plan["rows"]})
        stored: dict[int, dict[int, tuple]] = {}  # session -> officer -> (id, status, hours)
        for chunk in chunks(known, 200):
            for officers in chunks(wanted, 2000):  # only these rows' officers: a chunk's worth
                for a in db.session.connection().execute(select(  # Core: rows streamed
                        Attendance.id, Attendance.session_id, Attendance.officer_id,
                        Attendance.status, Attendance.credited_hours).where(
                        Attendance.session_id.in_(chunk), Attendance.officer_id.in_(officers))):
                    stored.setdefault(a.session_id, {})[a.officer_id] = (
                        a.id, a.status, a.credited_hours)
        new, changed, same = [], [], 0
        for key, officer_id, status, hours in plan["rows"]:
            s = plan["existing"][key]
            a = stored.get(s.id, {}).get(officer_id) if s is not None else None
            if a is None:
                new.append((key, officer_id, status, hours))
            elif (a[1], a[2]) != (status, hours):
                changed.append({"_id": a[0], "status": status, "credited_hours": hours})
            else:
                same += 1
        return new, changed, same

    def result(self, plan) -> ImportResult:
        new, changed, same = plan["changes"] = self._changes(plan)
        created = sum(1 for s in plan["existing"].values() if s is None)
        result = ImportResult(self.noun, total=len(plan["rows"]), created=len(new),
                              updated=len(changed), unchanged=same)
        result.text = self._text(len(plan["sessions"]), created, result)
        return result

    @staticmethod
    def _text(sessions: int, created: int, result: ImportResult) -> str:
        return (f"培训 {sessions} 次（新建 {created}），出勤记录 {result.total} 条"
                f"（新增 {result.created}，更新 {result.updated}"
                + (f"，无变化 {result.unchanged}" if result.unchanged else "") + "）")

    def finish_streamed(self, state: dict[str, Any], result: ImportResult) -> None:
        result.text = self._text(len(state["sessions"]), len(state["new"]), result)
        if state.get("officers"):  # the chunks' officers' hours: one refresh, not one a chunk
            _after_attendance_import(state["officers"], state["years"])

    def apply(self, plan, *, today: date, result: ImportResult) -> None:
        new, changed, _same = plan["changes"]
        existing = plan["existing"]
        created_sessions = []
        with db.session.no_autoflush:
            for key, s in existing.items():
                if s is None:
                    created_sessions.append(key)
                    spec = plan["sessions"][key]
                    existing[key] = training.save_session(None, {
                        "title": key[0], "held_on": key[1], "hours": spec["hours"],
                        "category": spec["category"], "online": spec["mode"] == "online"})
        db.session.flush()
        now = utcnow()
        table = Attendance.__table__
        for chunk in chunks(new, _BULK):
            db.session.execute(insert(table), [
                {"session_id": existing[key].id, "officer_id": officer_id, "status": status,
                 "credited_hours": hours, "created_at": now, "updated_at": now}
                for key, officer_id, status, hours in chunk])
        stmt = update(table).where(table.c.id == bindparam("_id")).values(
            status=bindparam("status"), credited_hours=bindparam("credited_hours"), updated_at=now)
        for chunk in chunks(changed, _BULK):
            db.session.connection().execute(stmt, chunk)
        result.created_ids["training_session"] = [existing[k].id for k in created_sessions]
        new_by_session: dict[int, set[int]] = {}  # session -> officers given a new row
        for key, officer_id, _s, _h in new:
            new_by_session.setdefault(existing[key].id, set()).add(officer_id)
        ids = []
        for session_id, officers in sorted(new_by_session.items()):
            # by officer too: a streamed import's later chunks must not read the whole session
            for chunk in chunks(sorted(officers), 2000):
                ids += db.session.connection().execute(select(Attendance.id).where(
                    Attendance.session_id == session_id, Attendance.officer_id.in_(chunk))).scalars()
        result.created_ids["attendance"] = sorted(ids)
        touched = {o for _k, o, _s, _h in plan["rows"]}
        years = {key[1].year for key in plan["sessions"]}
        if plan["hours_later"] is not None:  # streamed: once for the whole file, at the end
            plan["hours_later"].setdefault("officers", set()).update(touched)
            plan["hours_later"].setdefault("years", set()).update(years)
        else:
            _after_attendance_import(touched, years)

        check_years(db.session, {key[1].year for key in plan["sessions"]})  # audits a late entry
