"""`flask import transfers FILE` (调动: 姓名, 身份证号*, 调入单位*, 日期*, 文号, 原因) and `flask import
departures FILE` (离岗: 身份证号*, 类型*, 日期*, 文号) as importers of the framework in
app.importing.base: every row checked, every problem reported by row and column, nothing written
unless all rows pass. Applied set-wise: a few statements per 1,000 rows, none per officer. Each row
does what the officer page's 调动 / 离岗 does (app/rules/transfers.py, departures.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update

from app.audit.services import record_changes_many
from app.errors import DomainError
from app.extensions import db
from app.formatting import cn_date
from app.importing.base import Importer, ImportResult, Sheet, chunks, register
from app.importing.readers import Column
from app.labels import DEPARTURES, EMPLOYMENT_STATUS_ALIASES
from app.models.certificates import Certificate
from app.models.officers import CardCancelTask, Officer, OfficerUnitHistory, Unit
from app.models_base import utcnow
from app.officers.departures import OPEN_CARD
from app.rules import flagstore
from app.rules.case_units import refresh_case_units
from app.rules.transfers import SINCE_EVER, Move, write_moves
from app.settings import services as settings
from app.training.imports import resolve_officers

EXAMPLE_ID = "11010519491231002X"
TRANSFER_COLUMNS = [
    Column("name", "姓名", "name", max_length=50, example="张三", hint="可不填；填写时须与身份证号登记的姓名一致"),
    Column("id_number", "身份证号", "id_number", required=True, kind="id", example=EXAMPLE_ID),
    Column("to_unit", "调入单位", "to_unit", required=True, max_length=100, example="城市管理科",
           aliases=("新单位",), hint="已登记的单位（不会新建）"),
    Column("on", "日期", "on", required=True, kind="date", example=date(2025, 3, 1), aliases=("调动日期",),
           hint="调动生效日期，不能晚于今天"),
    Column("document_no", "文号", "document_no", max_length=100, example="区人社〔2025〕12号"),
    Column("reason", "原因", "reason", max_length=200, example="工作需要", aliases=("调动原因",)),
]
DEPARTURE_COLUMNS = [
    Column("id_number", "身份证号", "id_number", required=True, kind="id", example=EXAMPLE_ID),
    Column("kind", "类型", "kind", required=True, kind="enum", mapping=DEPARTURES, example="退休",
           aliases=("离岗类型",), value_aliases=tuple(EMPLOYMENT_STATUS_ALIASES.items()),
           hint="调出、辞职、辞退、退休或死亡（调离 按调出处理）"),
    Column("on", "日期", "on", required=True, kind="date", example=date(2025, 3, 1), aliases=("离岗日期",),
           hint="离岗日期，不能晚于今天"),
    Column("document_no", "文号", "document_no", max_length=100, example="区人社〔2025〕30号"),
]


def _officers(sheet: Sheet, today: date) -> dict[int, Any]:
    """Each row's officer by its ID number (row number -> row of officer columns), a query per 500
    numbers; an unknown or malformed number is reported on its cell."""
    return resolve_officers(sheet, today, (Officer.id, Officer.id_number, Officer.name, Officer.unit_id,
                                           Officer.employment_status, Officer.version, Officer.post_since))


def _date(row, today: date, noun: str) -> date | None:
    on = row.get("on")
    if row.is_bad("on"):
        return None
    if on is None:
        row.error("on", f"请填写{noun}日期")
        return None
    if on > today:
        row.error("on", f"{noun}日期{cn_date(on)}晚于今天，请在生效后登记")
        return None
    return on


def _bump(officers: list[dict[str, Any]], fields: list[str], left_units=()) -> None:
    """UPDATE the officers' `fields` and their version, as the ORM's counter does; a row changed
    since it was read is refused (nothing written: the import's transaction is rolled back)."""
    t = Officer.__table__
    stmt = (update(t).where(t.c.id == bindparam("_id"), t.c.version == bindparam("_version"))
            .values({f: bindparam(f"_new_{f}") for f in fields} | {"version": t.c.version + 1, "updated_at": utcnow()}))
    connection = db.session.connection()
    for chunk in chunks(officers, 5000):
        done = connection.execute(stmt, chunk).rowcount
        if done != len(chunk):
            raise DomainError("导入期间有人员信息被他人修改，请重新导入")
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Officer):
            db.session.expire(obj)
    # Core updates: the stored flags of these officers and of the units they left, set-wise
    flagstore.refresh(db.session, {o["_id"] for o in officers}, unit_ids=left_units)


@dataclass
class _Transfer:
    row: Any
    officer: Any
    to_unit: Any
    on: date
    document_no: str
    reason: str
    from_unit: int = 0


def _check_move_order(plan: list[_Transfer]) -> None:
    """Each officer's moves in date order, from the current open interval: each later than the one
    before and to another unit; each move learns the unit it leaves (`from_unit`)."""
    starts: dict[int, date] = {}
    ids = sorted({t.officer.id for t in plan})
    h = OfficerUnitHistory
    for chunk in chunks(ids):
        starts.update(db.session.execute(select(h.officer_id, h.from_on)
                                         .where(h.officer_id.in_(chunk), h.to_on.is_(None))).all())
    by_officer: dict[int, list[_Transfer]] = {}
    for t in plan:
        by_officer.setdefault(t.officer.id, []).append(t)
    for oid, moves in by_officer.items():
        unit_id, since, prev_row = moves[0].officer.unit_id, starts.get(oid, SINCE_EVER), None
        for t in sorted(moves, key=lambda t: (t.on, t.row.number)):
            if prev_row is not None and t.on <= since:
                t.row.error("on", f"须晚于同一人第 {prev_row} 行的调动日期{cn_date(since)}")
            elif t.on <= since:
                t.row.error("on", f"须晚于调入现单位的日期{cn_date(since)}")
            elif t.to_unit.id == unit_id:
                t.row.error("to_unit", f"“{t.officer.name}”此时已在“{t.to_unit.name}”，无需调动")
            t.from_unit, unit_id, since, prev_row = unit_id, t.to_unit.id, t.on, t.row.number


@register
class TransferImporter(Importer):
    kind, entity, noun = "transfers", "officer", "调动记录"
    help = "导入调动（按身份证号找人，调到已登记的单位；日期起的案件和统计按新单位计）"
    columns = TRANSFER_COLUMNS
    notes = ["每行一次调动：调入单位须已登记（不会新建）；同一人可有多行，按日期先后处理，每次须晚于上一次。",
             "调出本系统（离开本机关）请用“离岗”导入，类型填“调出”。"]

    def validate(self, sheet: Sheet, *, today: date):
        people = _officers(sheet, today)
        names = {(r.get("to_unit") or "").strip() for r in sheet.rows if isinstance(r.get("to_unit"), str)}
        units: dict[str, Any] = {}
        for chunk in chunks(sorted(n for n in names if n)):
            units.update({u.name: u for u in db.session.execute(
                select(Unit.id, Unit.name).where(Unit.name.in_(chunk)))})
        plan: list[_Transfer] = []
        for row in sheet.rows:
            officer = people.get(row.number)
            unit_name = (row.get("to_unit") or "").strip() if not row.is_bad("to_unit") else None
            unit = units.get(unit_name) if unit_name else None
            if unit_name == "":
                row.error("to_unit", "请填写调入单位")
            elif unit_name and unit is None:
                row.error("to_unit", f"单位“{unit_name}”未登记（或不在您的管辖范围内）；请先登记单位")
            on = _date(row, today, "调动")
            if officer is not None:
                name = (row.get("name") or "").strip() if not row.is_bad("name") else ""
                if name and name != officer.name:
                    row.error("name", f"姓名“{name}”与身份证号登记的姓名“{officer.name}”不一致")
                if officer.employment_status != "active":
                    row.error("id_number", f"“{officer.name}”已不在职，不能登记调动")
            if officer is not None and unit is not None and on is not None:
                plan.append(_Transfer(row, officer, unit, on, (row.get("document_no") or "").strip(),
                                      (row.get("reason") or "").strip()))
        _check_move_order(plan)
        return plan

    def result(self, plan) -> ImportResult:
        return ImportResult(self.noun, total=len(plan), updated=len(plan),
                            text=f"调动 {len(plan)} 条（涉及 {len({t.officer.id for t in plan})} 人）")

    def apply(self, plan, *, today: date, result: ImportResult) -> None:
        write_moves([Move(t.officer.id, t.from_unit, t.to_unit.id, t.on, t.document_no, t.reason) for t in plan])
        last: dict[int, _Transfer] = {}
        for t in sorted(plan, key=lambda t: t.on):
            last[t.officer.id] = t
        _bump([{"_id": oid, "_version": t.officer.version, "_new_unit_id": t.to_unit.id} for oid, t in last.items()],
              ["unit_id"], left_units={t.from_unit for t in plan})
        refresh_case_units(db.session, (), officer_ids=set(last))
        unit_names = dict(db.session.execute(select(Unit.id, Unit.name).where(
            Unit.id.in_({t.from_unit for t in plan} | {t.to_unit.id for t in plan}))).all())
        record_changes_many("update", "officer", [
            (t.officer.id, f"调动：{t.officer.name}，{unit_names.get(t.from_unit, '')} → {t.to_unit.name}，"
             f"{cn_date(t.on)}"
             + (f"，文号 {t.document_no}" if t.document_no else "") + (f"，原因：{t.reason}" if t.reason else ""),
             {"unit_id": [t.from_unit, t.to_unit.id], "from_on": [None, t.on.isoformat()]})
            for t in plan])

    def export_rows(self):
        h = OfficerUnitHistory
        q = (select(Officer.name, Officer.id_number, Unit.name.label("unit"), h.from_on, h.document_no, h.reason)
             .join(Officer, Officer.id == h.officer_id).join(Unit, Unit.id == h.unit_id)
             .where(h.created_by != "")  # the recorded moves, not the seeded intervals
             .order_by(h.from_on, h.id))
        for r in db.session.execute(q):
            yield {"name": r.name, "id_number": r.id_number, "to_unit": r.unit, "on": r.from_on,
                   "document_no": r.document_no, "reason": r.reason}


@register
class DepartureImporter(Importer):
    kind, entity, noun = "departures", "officer", "离岗记录"
    help = "导入离岗（调出、辞职、辞退、退休、死亡：岗位结束，待注销的证件列入注销任务）"
    columns = DEPARTURE_COLUMNS
    notes = ["每人一行：登记后该人员不在执法岗位，其有效或暂扣的证件列入“离岗待注销证件”，须在期限内注销。"]

    def validate(self, sheet: Sheet, *, today: date):
        people = _officers(sheet, today)
        seen: dict[int, int] = {}
        plan = []
        for row in sheet.rows:
            officer = people.get(row.number)
            kind = row.get("kind")
            if kind is None and not row.is_bad("kind"):
                row.error("kind", "请填写离岗类型（调出、辞职、辞退、退休或死亡）")
            on = _date(row, today, "离岗")
            if officer is not None:
                if officer.id in seen:
                    row.error("id_number", f"与第 {seen[officer.id]} 行是同一人")
                    continue
                seen[officer.id] = row.number
                if officer.employment_status != "active":
                    row.error("id_number", f"“{officer.name}”已不在职，不能再登记离岗")
                    continue
            if officer is not None and kind and on is not None:
                plan.append((row, officer, kind, on, (row.get("document_no") or "").strip()))
        return plan

    def result(self, plan) -> ImportResult:
        return ImportResult(self.noun, total=len(plan), updated=len(plan), text=f"离岗 {len(plan)} 人")

    def apply(self, plan, *, today: date, result: ImportResult) -> None:
        days = int(settings.get("card_cancel_days"))
        _bump([{"_id": o.id, "_version": o.version, "_new_employment_status": kind, "_new_status_changed_on": on}
               for _row, o, kind, on, _doc in plan], ["employment_status", "status_changed_on"])
        by_officer = {o.id: (kind, on) for _row, o, kind, on, _doc in plan}
        cards: dict[int, list[tuple[int, str]]] = {}
        for chunk in chunks(sorted(by_officer)):
            for cid, oid, number in db.session.execute(
                    select(Certificate.id, Certificate.officer_id, Certificate.number)
                    .where(Certificate.officer_id.in_(chunk), Certificate.status.in_(OPEN_CARD))
                    .order_by(Certificate.id)):
                cards.setdefault(oid, []).append((cid, number))
        now = utcnow()
        tasks = [{"officer_id": oid, "certificate_id": cid, "departure": by_officer[oid][0],
                  "left_on": by_officer[oid][1], "due_on": by_officer[oid][1] + timedelta(days=days),
                  "created_at": now, "updated_at": now}
                 for oid, held in cards.items() for cid, _n in held]
        for chunk in chunks(tasks, 5000):
            db.session.execute(CardCancelTask.__table__.insert(), chunk)
        entries = []
        for _row, o, kind, on, doc in plan:
            held = cards.get(o.id, [])
            due = on + timedelta(days=days)
            entries.append((o.id, f"登记离岗：{o.name}，{DEPARTURES[kind]}，{cn_date(on)}"
                            + (f"，文号 {doc}" if doc else "")
                            + (f"；待注销证件 {'、'.join(n for _c, n in held)}，{cn_date(due)}前" if held else ""),
                            {"employment_status": ["active", kind], "status_changed_on": [None, on.isoformat()]}))
        record_changes_many("update", "officer", entries)

    def export_rows(self):
        q = (select(Officer.id_number, Officer.employment_status, Officer.status_changed_on)
             .where(Officer.employment_status.in_(list(DEPARTURES)), Officer.status_changed_on.is_not(None))
             .order_by(Officer.status_changed_on, Officer.id))
        for r in db.session.execute(q):
            yield {"id_number": r.id_number, "kind": DEPARTURES[r.employment_status], "on": r.status_changed_on,
                   "document_no": ""}
