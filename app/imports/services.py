"""Importing officers and certificates (docs/domain.md 导入; the columns are declared below).

All or nothing: every row is checked first and every problem is collected with its Excel row
number and column header; if there is any problem nothing at all is written (not even a unit).
The field rules are the modules' own (`validate_officer_data`, `validate_certificate_data`);
this module adds what only a file has — duplicate rows, unreadable cells — and does the lookups
in a few queries, not one per row. Existing rows that changed go through `save_officer` /
`update_certificate`, so each change is audited as usual. New rows are written with bulk
INSERTs and one "import" audit event: one by one through `save_officer` / `create_certificate`,
a 10,000-row file would miss its time target (docs/architecture.md; notes/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, BinaryIO

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from app import idnumber, scope
from app.audit.services import (
    changes_of,
    current_actor,
    record_changes_many,
    record_many,
    refresh_subjects,
)
from app.certificates.services import (
    CERT_FIELDS,
    validate_certificate_data,
)
from app.errors import DomainError
from app.extensions import db
from app.importing.base import Importer, ImportResult, Row, Sheet, chunks, importers, register
from app.importing.readers import Column, ImportRefused, Problem
from app.imports import templates
from app.labels import (
    CERT_ACTIONS,
    CERT_KINDS,
    CERT_STATUSES,
    EDUCATIONS,
    EMPLOYMENT_STATUS_ALIASES,
    EMPLOYMENT_STATUSES,
    ESTABLISHMENTS,
    RETIREMENT_BASES,
)
from app.models.certificates import Certificate, CertificateEvent
from app.models.officers import Officer, Unit
from app.models_base import utcnow
from app.officers.services import (
    OFFICER_FIELDS,
    basis_value,
    get_or_create_unit,
    officer_values,
    validate_officer_data,
)
from app.pinyin import sort_key
from app.rules import flagstore  # the stored flags: Core writes refresh them themselves
from app.rules.case_units import refresh_case_units
from app.rules.transfers import record_moves
from app.rules.verdicts import refresh_verdicts  # Core inserts: no flush hook sees them

Source = str | Path | bytes | BinaryIO
EXAMPLE_ID = "11010519491231002X"

OFFICER_COLUMNS = [
    Column("name", "姓名", "name", required=True, example="张三"),
    Column("id_number", "身份证号", "id_number", required=True, kind="id", example=EXAMPLE_ID),
    Column("unit", "单位", "unit", required=True, max_length=100, example="城市管理科"),
    Column("position", "职务", "position", max_length=50, example="科员"),
    Column("establishment", "编制类型", "establishment", kind="enum", mapping=ESTABLISHMENTS,
           example="行政编制"),
    Column("education", "学历", "education", kind="enum", mapping=EDUCATIONS, example="本科"),
    Column("on_enforcement_post", "执法岗位", "on_enforcement_post", kind="bool", example="是",
           aliases=("是否在执法岗位", "是否执法岗位", "在执法岗位"), hint="是/否（也可写 √/×、Y/N）"),
    Column("employment_status", "在职状态", "employment_status", kind="enum",
           mapping=EMPLOYMENT_STATUSES, example="在职", value_aliases=tuple(EMPLOYMENT_STATUS_ALIASES.items())),
    Column("phone", "联系电话", "phone", example="13800000000", as_text=True,
           aliases=("电话", "手机", "手机号码")),
    Column("employee_no", "工号", "employee_no", max_length=30, example="A001", as_text=True),
    Column("post_since", "任执法岗位日期", "post_since", kind="date", example=date(2020, 7, 1)),
    Column("retirement_basis", "原法定退休年龄", "retirement_basis", kind="enum", mapping=RETIREMENT_BASES,
           hint="仅女性填写：50 或 55（留空按55岁）；按2025年渐进式延迟退休规定计算退休日期"),
]
OFFICER_DEFAULTS = {"establishment": "civil_servant", "employment_status": "active",
                    "on_enforcement_post": True}
# What an existing officer keeps when its cell is empty (the others are cleared by an empty cell).
KEEP_WHEN_EMPTY = set(OFFICER_DEFAULTS)

CERTIFICATE_COLUMNS = [
    Column("id_number", "身份证号", "id_number", required=True, kind="id", example=EXAMPLE_ID),
    Column("kind", "证件类型", "kind", kind="enum", mapping=CERT_KINDS, example="行政执法证"),
    Column("number", "证件编号", "number", required=True, max_length=50, example="11010024000001",
           as_text=True),
    Column("issuing_authority", "发证机关", "issuing_authority", max_length=100,
           example="北京市人民政府"),
    Column("issued_on", "发证日期", "issued_on", required=True, kind="date", example=date(2024, 3, 1)),
    Column("expires_on", "有效期至", "expires_on", required=True, kind="date",
           example=date(2029, 2, 28)),
    Column("categories", "执法类别", "categories", max_length=200, example="市容环境卫生"),
    Column("area", "执法区域", "area", max_length=200, example="朝阳区"),
    Column("status", "状态", "status", kind="enum", mapping=CERT_STATUSES, label="证件状态",
           example="有效"),
    Column("status_date", "状态日期", "status_date", kind="date"),
]

_chunks = chunks
_Row = Row


def _normal_id(value: Any) -> str | None:
    """idnumber.normalize without stdnum's per-character generator (called for every row)."""
    if not isinstance(value, str) or not value:
        return None
    return value.replace(" ", "").replace("-", "").strip().upper()


# --- officers ------------------------------------------------------------------------------------

_COMPARE = ["name", "position", "establishment", "education", "on_enforcement_post",
            "employment_status", "phone", "employee_no", "post_since", "retirement_basis"]


def _officer_data(row: _Row, current: Any | None) -> dict[str, Any]:
    """The officer's fields after this row: defaults for a new officer, and for an existing one
    its current value where the file has no such column (or an empty cell for a defaulted field)."""
    data: dict[str, Any] = {}
    for col in OFFICER_COLUMNS:
        name = col.field
        present = name in row.values
        value = row.get(name)
        if current is not None and name != "unit" and (
                not present or (value is None and name in KEEP_WHEN_EMPTY)):
            data[name] = getattr(current, name)
        elif value is None and name in OFFICER_DEFAULTS:
            data[name] = OFFICER_DEFAULTS[name]
        else:
            data[name] = value if value is not None else ("" if col.kind in ("text", "id") else None)
    return data


def _comparable(name: str, value: Any) -> Any:
    return basis_value(value) if name == "retirement_basis" else value


def _validate_officers(rows: list[_Row], today: date, state: dict | None = None):
    """`state`: the ID numbers and 工号 of the rows before these (a streamed import's chunks)."""
    ids = {n for r in rows if (n := _normal_id(r.get("id_number")))}
    emps = {e for r in rows if (e := r.get("employee_no"))}
    cols = [Officer.id, Officer.id_number, Officer.name, Officer.unit_id, Officer.position,
            Officer.establishment, Officer.education, Officer.on_enforcement_post,
            Officer.employment_status, Officer.phone, Officer.employee_no, Officer.post_since,
            Officer.retirement_basis]
    existing = {}
    for chunk in _chunks(ids):
        existing.update({r.id_number: r for r in db.session.execute(
            select(*cols).where(Officer.id_number.in_(chunk)))})
    emp_owner = {}
    for chunk in _chunks(emps):
        emp_owner.update({r.employee_no: r for r in db.session.execute(
            select(Officer.employee_no, Officer.id_number, Officer.name, Officer.unit_id).where(
                Officer.employee_no.in_(chunk)).execution_options(scope_all=True))})  # unique everywhere
    unit_names = {u.id: u.name for u in db.session.execute(select(Unit.id, Unit.name))}
    outside_units, outside_ids = _outside_scope(ids, existing, set(unit_names.values()))

    plan = []  # (row number, data, existing officer id | None, changed)
    state = state if state is not None else {}
    seen_ids: dict[str, int] = state.setdefault("ids", {})
    seen_emps: dict[str, int] = state.setdefault("emps", {})
    for row in rows:
        current = existing.get(_normal_id(row.get("id_number")) or "")
        data = _officer_data(row, current)
        for name in ("name", "id_number"):
            if not row.get(name):
                row.error(name, "姓名不能为空" if name == "name" else "身份证号不能为空")
        for name, message in validate_officer_data(data, today=today).items():
            row.error(name, message)
        if not data["unit"]:
            row.error("unit", "单位不能为空")
        elif data["unit"] in outside_units:
            row.error("unit", f"单位“{data['unit']}”不在您的管辖范围内")
        number = data["id_number"]
        if number in outside_ids:
            row.error("id_number", f"身份证号 {idnumber.mask(number)} 的人员不在您的管辖范围内，不能导入")
        if not row.is_bad("id_number"):
            if number in seen_ids:
                row.error("id_number", f"身份证号 {idnumber.mask(number)} 与第 {seen_ids[number]} 行重复")
            else:
                seen_ids[number] = row.number
        emp = data.get("employee_no")
        if emp and not row.is_bad("employee_no"):
            owner = emp_owner.get(emp)
            if emp in seen_emps:
                row.error("employee_no", f"工号“{emp}”与第 {seen_emps[emp]} 行重复")
            elif owner is not None and owner.id_number != number:
                row.error("employee_no", f"工号“{emp}”已被“{owner.name}”使用" if scope.covers(owner.unit_id)
                          else f"工号“{emp}”已被您管辖范围以外的人员使用")
            seen_emps.setdefault(emp, row.number)
        changed = current is None or unit_names.get(current.unit_id) != data["unit"] or any(
            (getattr(current, f) or None) != (_comparable(f, data[f]) or None) for f in _COMPARE)
        plan.append((row.number, data, current.id if current is not None else None, changed))
    return plan, set(unit_names.values())


def _outside_scope(ids: set[str], existing: dict, own_units: set[str]) -> tuple[set[str], set[str]]:
    """For a user limited to a branch of the unit tree: the names of the units outside it, and which
    of the file's ID numbers belong to officers outside it (rows naming either are refused).
    Empty for a user of the whole organisation."""
    if scope.scope_ids() is None:
        return set(), set()
    everywhere = set(db.session.scalars(select(Unit.name).execution_options(scope_all=True)))
    outside = set()
    for chunk in _chunks(ids - set(existing)):
        outside.update(db.session.scalars(select(Officer.id_number).where(Officer.id_number.in_(chunk))
                                          .execution_options(scope_all=True)))
    return everywhere - own_units, outside


def _new_officer(data: dict[str, Any], unit_id: int, now: datetime) -> dict[str, Any]:
    """The row of a new officer; its pinyin key and timestamps given (not the columns' defaults,
    called row by row), and the same as `save_officer` writes."""
    number = data["id_number"]  # validated: digits 7–14 are a real date
    name = data["name"].strip()
    return {
        "name": name, "name_pinyin": sort_key(name), "created_at": now, "updated_at": now,
        "id_number": number, "gender": idnumber.gender(number),
        "birth_date": date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
        "employee_no": data["employee_no"] or None,
        "unit_id": unit_id, "position": data["position"] or "",
        "establishment": data["establishment"], "education": data["education"] or None,
        "on_enforcement_post": bool(data["on_enforcement_post"]),
        "employment_status": data["employment_status"], "phone": (data["phone"] or "").strip(),
        "post_since": data.get("post_since") or None, "notes": "", "version": 1,
        "retirement_basis": basis_value(data.get("retirement_basis")),
    }


@register
class OfficerImporter(Importer):
    kind, entity, noun = "officers", "officer", "执法人员"
    help = "导入执法人员（按身份证号新增或更新）"
    columns = OFFICER_COLUMNS
    unit_field = "unit"
    defaults = {"establishment": "行政编制（已登记人员保持原值）", "on_enforcement_post": "是（已登记人员保持原值）",
                "employment_status": "在职（已登记人员保持原值）"}

    streams = True

    def validate(self, sheet: Sheet, *, today: date, state: dict | None = None):
        return _validate_officers(sheet.rows, today, state)

    def export_rows(self):
        units = {u.id: u.name for u in db.session.execute(select(Unit.id, Unit.name))}
        for o in db.session.execute(select(
                Officer.name, Officer.id_number, Officer.unit_id, Officer.position,
                Officer.establishment, Officer.education, Officer.on_enforcement_post,
                Officer.employment_status, Officer.phone, Officer.employee_no,
                Officer.post_since, Officer.retirement_basis).order_by(Officer.id)):
            yield {"name": o.name, "id_number": o.id_number, "unit": units.get(o.unit_id),
                   "position": o.position, "establishment": ESTABLISHMENTS.get(o.establishment),
                   "education": EDUCATIONS.get(o.education) if o.education else None,
                   "on_enforcement_post": o.on_enforcement_post,
                   "employment_status": EMPLOYMENT_STATUSES.get(o.employment_status),
                   "phone": o.phone, "employee_no": o.employee_no, "post_since": o.post_since,
                   "retirement_basis": str(o.retirement_basis) if o.retirement_basis else None}

    def result(self, plan) -> ImportResult:
        plan, known_units = plan
        result = ImportResult(self.noun, total=len(plan))
        result.created = sum(1 for _n, _d, oid, _c in plan if oid is None)
        result.updated = sum(1 for _n, _d, oid, c in plan if oid is not None and c)
        result.unchanged = result.total - result.created - result.updated
        result.units_created = list(dict.fromkeys(
            d["unit"] for _n, d, _o, c in plan if c and d["unit"] not in known_units))
        return result

    def apply(self, plan, *, today: date, result: ImportResult) -> None:
        """Create units, insert new officers and update the changed ones."""
        plan, _known = plan
        row_number = None
        try:
            units = {name: get_or_create_unit(name) for name in dict.fromkeys(
                d["unit"] for _n, d, _o, c in plan if c)}
            result.created_ids["unit"] = [units[n].id for n in result.units_created]
            now = utcnow()
            new = [_new_officer(d, units[d["unit"]].id, now) for _n, d, oid, _c in plan if oid is None]
            if new:
                result.created_ids["officer"] = _insert_officers(new)
            old_units = _update_officers({oid: d for _n, d, oid, c in plan if oid is not None and c}, units,
                                         today=today)
            db.session.flush()
            flagstore.refresh(db.session, {*result.created_ids.get("officer", ()),
                                           *(oid for _n, _d, oid, c in plan if oid is not None and c)},
                              unit_ids=old_units)
        except ImportRefused:
            raise
        except DomainError as exc:  # validated above, so only a concurrent change gets here
            raise ImportRefused([Problem(row_number, None, str(exc))]) from None
        except IntegrityError:
            raise ImportRefused([Problem(None, None, "导入时数据已被他人修改（身份证号或工号冲突），"
                                                     "请重新导入")]) from None


def import_officers(source: Source, filename: str, *, today: date, dry_run: bool = False) -> ImportResult:
    """Validate every row, then (unless dry_run) write. Raises ImportRefused with every problem;
    flushes, never commits."""
    return OfficerImporter().run(source, filename, today=today, dry_run=dry_run)


_CONCURRENT = "导入时数据已被他人修改，请重新导入"


def _bulk_update(table, fields: list[str], writes: list[dict[str, Any]]) -> None:
    """UPDATE each row (`_id`, `_version`, the fields' new values) and bump its version, as the
    ORM's version counter does; refused when a row was changed since it was read."""
    if not writes:
        return

    stmt = update(table).where(table.c.id == bindparam("_id"),
                               table.c.version == bindparam("_version")).values(
        {f: bindparam(f"_new_{f}") for f in fields} | {"version": table.c.version + 1,
                                                         "updated_at": utcnow()})
    connection = db.session.connection()
    for chunk in _chunks(writes, 5000):
        done = connection.execute(stmt, [{"_id": w["_id"], "_version": w["_version"],
                                          **{f"_new_{f}": w[f] for f in fields}} for w in chunk])
        if done.rowcount != len(chunk):
            raise ImportRefused([Problem(None, None, _CONCURRENT)])


def _expire(model) -> None:
    """Instances of `model` loaded in this session no longer match their rows after a Core write."""
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, model):
            db.session.expire(obj)


# What save_officer writes: OFFICER_FIELDS and the pinyin key of the name.
_OFFICER_WRITES = [*OFFICER_FIELDS, "name_pinyin"]


def _update_officers(updates: dict[int, dict[str, Any]], units: dict[str, Unit], *,
                     today: date) -> set[int]:
    """The changed officers, each exactly as `save_officer(officer, {**data, "unit": unit})`
    changes it — the same values (`officer_values`, the rule both share),
    version + 1 and an "update" audit row with the same changes — in a few statements instead of
    four per officer. `data` has passed validate_officer_data in validate()."""
    cols = [Officer.id, Officer.version, Officer.name_pinyin,
            *(getattr(Officer, f) for f in OFFICER_FIELDS)]
    writes, audits, moved = [], [], {}
    flag_units: set[int] = set()  # returned: the units officers left
    for chunk in _chunks(updates):
        for cur in db.session.execute(select(*cols).where(Officer.id.in_(chunk))):
            data = updates[cur.id]
            new = SimpleNamespace(**{f: getattr(cur, f) for f in OFFICER_FIELDS}
                                  | officer_values(data, today=today, current_status=cur.employment_status)
                                  | {"unit_id": units[data["unit"]].id})
            new.name_pinyin = sort_key(new.name)
            changes = changes_of(new, cur._asdict(), OFFICER_FIELDS)
            if "unit_id" in changes:
                moved[cur.id] = (cur.unit_id, new.unit_id)
                flag_units.add(cur.unit_id)  # the old unit's UNIT_UNDERSTAFFED (flagstore.refresh)
            if changes or new.name_pinyin != cur.name_pinyin:  # the ORM writes a stale key too
                writes.append({"_id": cur.id, "_version": cur.version,
                               **{f: getattr(new, f) for f in _OFFICER_WRITES}})
            if changes:
                audits.append((cur.id, f"修改执法人员 {new.name}", changes))
    _bulk_update(Officer.__table__, _OFFICER_WRITES, writes)
    if moved:  # Core updates: no flush hook sees the officers' cases change branch

        record_moves(moved, on=today, reason="导入人员信息时更改单位")  # first: the cases read it
        refresh_case_units(db.session, (), officer_ids=set(moved))
        refresh_subjects(db.session, officer_ids=set(moved))
    record_changes_many("update", "officer", audits)
    _expire(Officer)
    return flag_units


# Columns of a new officer that its "create" audit row leaves out (as record() for save_officer).
_NOT_AUDITED = {"created_at", "updated_at", "version", "photo", "photo_mime", "name_pinyin"}


def _insert_officers(new: list[dict[str, Any]]) -> list[int]:
    """Insert the new officers and write a "create" audit row for each (ID numbers masked).
    A plain Core executemany and the ids read back by ID number: INSERT … RETURNING of many rows
    (SQLAlchemy's "insertmanyvalues") costs twice as much on SQLite (measured)."""
    db.session.execute(insert(Officer.__table__), new)
    by_number = {d["id_number"]: d for d in new}
    entries = []
    for chunk in _chunks(by_number):
        for oid, number in db.session.execute(
                select(Officer.id, Officer.id_number).where(Officer.id_number.in_(chunk))):
            values = by_number[number]
            entries.append((oid, f"导入执法人员 {values['name']}",
                            {k: v for k, v in values.items() if k not in _NOT_AUDITED}))
    record_many("create", "officer", entries)
    return [e[0] for e in entries]


# --- certificates --------------------------------------------------------------------------------


def _certificate_status(row: _Row, data: dict[str, Any], current, status_date: date | None,
                        today: date) -> str | None:
    """The status a row gives its certificate (a new one: valid unless told), checked: an import
    never changes a registered certificate's status, and a new one's status date lies between its
    issue date and today."""
    status = row.get("status")
    if current is not None:
        if status is not None and status != current.status:
            row.error("status", f"该证件已登记，当前状态为“{CERT_STATUSES[current.status]}”；导入不改变已登记"
                                f"证件的状态，请在证件页面办理“{CERT_STATUSES[status]}”")
    else:
        status = status or "valid"
        if status not in ("valid", "applying"):
            effective = status_date or today
            if effective > today:
                row.error("status_date", f"状态日期（{effective.isoformat()}）不能晚于今天")
            elif isinstance(data["issued_on"], date) and effective < data["issued_on"]:
                row.error("status_date", f"状态日期（{effective.isoformat()}）早于发证日期"
                                         f"（{data['issued_on'].isoformat()}）")
    return status


def _by_kind(keys) -> Iterator[tuple[str, list[str]]]:
    """(kind, numbers) chunks of the (kind, number) keys: each look-up names its kind, so it walks
    the unique (kind, number) index — `number` alone has none, and `number IN (…)` read the whole
    certificate table once per chunk (a 200,000-row import grew with the square of its size)."""
    grouped: dict[str, set[str]] = {}
    for kind, number in keys:
        grouped.setdefault(kind, set()).add(number)
    for kind, numbers in grouped.items():
        for chunk in _chunks(numbers):
            yield kind, chunk


def _validate_certificates(rows: list[_Row], today: date, state: dict | None = None):
    ids = {n for r in rows if (n := _normal_id(r.get("id_number")))}
    officers = {}
    for chunk in _chunks(ids):
        officers.update({r.id_number: r for r in db.session.execute(
            select(Officer.id, Officer.id_number, Officer.name).where(Officer.id_number.in_(chunk)))})
    existing = {}
    for kind, chunk in _by_kind((r.get("kind") or "enforcement", r.get("number"))
                                for r in rows if r.get("number")):
        existing.update({(c.kind, c.number): c for c in db.session.execute(
            select(Certificate.id, Certificate.officer_id, Certificate.status, Officer.name,
                   *(getattr(Certificate, f) for f in CERT_FIELDS))
            .join(Officer, Officer.id == Certificate.officer_id)
            .where(Certificate.kind == kind, Certificate.number.in_(chunk)))})

    plan = []  # (row number, data, officer id, status, status date, existing cert id | None, changed)
    seen: dict[tuple[str, str], int] = (state if state is not None else {}).setdefault("keys", {})
    checked_id = idnumber.validator(today)
    for row in rows:
        officer = None
        if not row.get("id_number"):
            row.error("id_number", "身份证号不能为空")
        number = checked_id(row.get("id_number") or "")
        if isinstance(number, idnumber.IdNumberError):
            row.error("id_number", str(number))
        else:
            officer = officers.get(number)
            if officer is None:
                row.error("id_number", f"系统中没有身份证号为 {idnumber.mask(number)} 的执法人员，"
                                       "请先导入或登记该人员")
        data = {f: row.get(f) for f in CERT_FIELDS}
        data["kind"] = data["kind"] or "enforcement"
        for f in ("issuing_authority", "categories", "area", "number"):
            data[f] = data[f] or ""
        key = (data["kind"], data["number"])
        current = existing.get(key)
        for name, message in validate_certificate_data(
                data, check_unique=False).items():  # keys checked against `existing` above/below
            row.error(name, message)
        if data["number"] and not row.is_bad("number"):
            if key in seen:
                row.error("number", f"{CERT_KINDS[data['kind']]}编号“{data['number']}”与第 {seen[key]} 行重复")
            else:
                seen[key] = row.number
            if current is not None and officer is not None and current.officer_id != officer.id:
                row.error("number", f"{CERT_KINDS[data['kind']]}编号“{data['number']}”已登记给“{current.name}”")
        status_date = row.get("status_date")
        status = _certificate_status(row, data, current, status_date, today)
        changed = current is None or any(getattr(current, f) != data[f] for f in CERT_FIELDS)
        plan.append((row.number, data, officer.id if officer is not None else None, status,
                     status_date, current.id if current is not None else None, changed))
    return plan


# The status event an imported certificate gets after its issue event: the action that takes a
# valid card to that status (suspended → suspend, cancelled → cancel, …), as create_certificate does.
_STATUS_ACTION = {target: code for code, (_label, sources, target) in CERT_ACTIONS.items()
                  if "valid" in sources and target != "valid"}


def _insert_certificates(plan: list[tuple], *, today: date) -> list[int]:
    """New certificates and their history in three statements. The same rows and events as
    `create_certificate` (issue — or apply — dated 发证日期, then a status event dated 状态日期 or
    the import day); one by one it is too slow for a 10,000-row file (notes/benchmarks.md)."""
    if not plan:
        return []

    actor = current_actor()[0]
    db.session.execute(insert(Certificate.__table__), [
        {"officer_id": officer_id, "status": status, "version": 1, "replaced_by_id": None,
         **{f: data[f].strip() if isinstance(data[f], str) else data[f] for f in CERT_FIELDS}}
        for _n, data, officer_id, status, _sd, _cid, _c in plan])
    ids: dict[tuple[str, str], int] = {}
    for kind, chunk in _by_kind((p[1]["kind"], p[1]["number"].strip()) for p in plan):
        ids.update({(c.kind, c.number): c.id for c in db.session.execute(
            select(Certificate.id, Certificate.kind, Certificate.number).where(
                Certificate.kind == kind, Certificate.number.in_(chunk)))})
    events = []
    for _n, data, _oid, status, status_date, _cid, _c in plan:
        event = {"certificate_id": ids[(data["kind"], data["number"].strip())], "reason": "导入",
                 "document_no": "", "actor": actor, "from_status": None}
        if status == "applying":
            events.append(event | {"kind": "apply", "to_status": "applying",
                                   "effective_on": data["issued_on"]})
            continue
        events.append(event | {"kind": "issue", "to_status": "valid", "effective_on": data["issued_on"]})
        if status != "valid":
            events.append(event | {"kind": _STATUS_ACTION[status], "from_status": "valid",
                                   "to_status": status, "effective_on": status_date or today})
    db.session.execute(insert(CertificateEvent.__table__), events)
    refresh_verdicts(db.session, numbers={p[1]["number"].strip() for p in plan},
                     officer_ids={p[2] for p in plan})
    flagstore.refresh(db.session, {p[2] for p in plan})
    record_many("create", "certificate", [
        (ids[(data["kind"], data["number"].strip())],
         f"导入{CERT_KINDS[data['kind']]} {data['number'].strip()}",
         {**{f: data[f] for f in CERT_FIELDS}, "status": status})
        for _n, data, _oid, status, _sd, _cid, _c in plan])
    return sorted(ids[(p[1]["kind"], p[1]["number"].strip())] for p in plan)


def _update_certificates(updates: dict[int, dict[str, Any]]) -> None:
    """The changed certificates, each exactly as `update_certificate(cert, data)` changes it (the
    fields stripped, version + 1, an "update" audit row with the same changes), in a few
    statements. `data` has passed validate_certificate_data in validate(), and its (kind, number)
    is the certificate's own, so the uniqueness check cannot fail."""
    cols = [Certificate.id, Certificate.version, Certificate.officer_id,
            *(getattr(Certificate, f) for f in CERT_FIELDS)]
    writes, audits, officers = [], [], set()
    for chunk in _chunks(updates):
        for cur in db.session.execute(select(*cols).where(Certificate.id.in_(chunk))):
            data = updates[cur.id]
            new = SimpleNamespace(**{f: data[f].strip() if isinstance(data[f], str) else data[f]
                                     for f in CERT_FIELDS})
            changes = changes_of(new, cur._asdict(), CERT_FIELDS)
            if changes:
                writes.append({"_id": cur.id, "_version": cur.version, **vars(new)})
                audits.append((cur.id, f"修改证件 {new.number}", changes))
                officers.add(cur.officer_id)
    _bulk_update(Certificate.__table__, CERT_FIELDS, writes)
    record_changes_many("update", "certificate", audits)
    _expire(Certificate)
    if writes:  # Core updates: no flush hook sees them; the officers' cases are re-judged

        refresh_verdicts(db.session, numbers={w["number"] for w in writes}, officer_ids=officers)
        flagstore.refresh(db.session, officers)


@register
class CertificateImporter(Importer):
    kind, entity, noun = "certificates", "certificate", "证件"
    help = "导入证件（按证件类型+证件编号新增或更新）"
    columns = CERTIFICATE_COLUMNS
    defaults = {"kind": "行政执法证", "status": "有效", "status_date": "导入当天"}

    streams = True

    def validate(self, sheet: Sheet, *, today: date, state: dict | None = None):
        with db.session.no_autoflush:
            return _validate_certificates(sheet.rows, today, state)

    def export_rows(self):
        for c in db.session.execute(select(
                Officer.id_number, Certificate.status, *(getattr(Certificate, f) for f in CERT_FIELDS))
                .join(Officer, Officer.id == Certificate.officer_id).order_by(Certificate.id)):
            yield {"id_number": c.id_number, "kind": CERT_KINDS.get(c.kind), "number": c.number,
                   "issuing_authority": c.issuing_authority, "issued_on": c.issued_on,
                   "expires_on": c.expires_on, "categories": c.categories, "area": c.area,
                   "status": CERT_STATUSES.get(c.status), "status_date": None}

    def result(self, plan) -> ImportResult:
        result = ImportResult(self.noun, total=len(plan))
        result.created = sum(1 for p in plan if p[5] is None)
        result.updated = sum(1 for p in plan if p[5] is not None and p[6])
        result.unchanged = result.total - result.created - result.updated
        return result

    def apply(self, plan, *, today: date, result: ImportResult) -> None:
        """Register the new certificates — each with its issue event and, for a status other
        than valid/applying, a status event — and update the changed ones."""
        row_number = None
        try:
            result.created_ids["certificate"] = _insert_certificates(
                [p for p in plan if p[5] is None], today=today)
            _update_certificates({p[5]: p[1] for p in plan if p[5] is not None and p[6]})
            db.session.flush()
        except ImportRefused:
            raise
        except DomainError as exc:
            raise ImportRefused([Problem(row_number, None, str(exc))]) from None
        except IntegrityError:
            raise ImportRefused([Problem(None, None, "导入时数据已被他人修改（证件编号冲突），"
                                                     "请重新导入")]) from None


def import_certificates(source: Source, filename: str, *, today: date,
                        dry_run: bool = False) -> ImportResult:
    return CertificateImporter().run(source, filename, today=today, dry_run=dry_run)


def run_import(kind: str, source: Source, filename: str, *, today: date, dry_run: bool = False,
               ignore=(), assign=None) -> ImportResult:
    return importers()[kind].run(source, filename, today=today, dry_run=dry_run, ignore=ignore,
                                 assign=assign)


def template_workbook(kind: str) -> bytes:
    return templates.template_workbook(importers()[kind])
