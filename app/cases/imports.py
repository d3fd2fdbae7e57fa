"""`flask import cases FILE [--dry-run]` (issue 12): the case list from .xlsx / .csv.

Two steps kept apart so the import framework can wrap them as one importer:
`validate_rows(table)` turns the file's rows into a plan and every problem (row and column);
`apply_plan(plan)` writes it. All or nothing: any problem and nothing is written. A row whose 案号
exists updates that case. A certificate number the registry does not know is not a problem: the
case is stored and the check reports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select

from app.audit.services import record
from app.cases.models import PenaltyCase
from app.cases.services import CASE_FIELDS, save_case, split_numbers, validate_case_data
from app.extensions import db
from app.imports.readers import (
    CellError,
    Column,
    ImportRefused,
    Problem,
    Table,
    convert,
    map_headers,
    read_table,
)

Source = str | Path | bytes | BinaryIO
_CHUNK = 500

CASE_COLUMNS = [
    Column("case_no", "案号", "case_no", required=True, max_length=100, example="南岸海街罚〔2023〕8号"),
    Column("title", "案件名称", "title", max_length=200, example="某餐馆占道经营案"),
    Column("opened_on", "立案日期", "opened_on", kind="date", example=date(2023, 6, 20)),
    Column("decided_on", "决定日期", "decided_on", required=True, kind="date", example=date(2023, 7, 1)),
    Column("certificate_numbers", "执法证号", "certificate_numbers", required=True,
           example="50010823000001、50010823000002"),
    Column("unit", "承办单位", "unit", max_length=100, example="城市管理科"),
    Column("officer_names", "执法人员", "officer_names", max_length=200, example="张三、李四"),
    Column("outcome", "处罚结果", "outcome", example="罚款500元"),
]


@dataclass
class CaseImportResult:
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False
    entity: str = "case"

    @property
    def counts(self) -> str:
        text = f"行政处罚案件 {self.total} 条（新增 {self.created}，更新 {self.updated}"
        if self.unchanged:
            text += f"，无变化 {self.unchanged}"
        return text + "）"

    def summary(self) -> str:
        if self.dry_run:
            return f"校验通过，未写入任何数据（仅校验）。正式导入将导入{self.counts}"
        return f"导入{self.counts}"


@dataclass
class CasePlan:
    """What the file asks for: (row, data, existing case id | None, changed) per row."""

    rows: list[tuple[int, dict[str, Any], int | None, bool]] = field(default_factory=list)

    def result(self, dry_run: bool) -> CaseImportResult:
        r = CaseImportResult(total=len(self.rows), dry_run=dry_run)
        r.created = sum(1 for _n, _d, cid, _c in self.rows if cid is None)
        r.updated = sum(1 for _n, _d, cid, c in self.rows if cid is not None and c)
        r.unchanged = r.total - r.created - r.updated
        return r


def validate_rows(table: Table) -> tuple[CasePlan, list[Problem]]:
    """Rows → plan and every problem (in file order), with two queries for existing cases."""
    mapping, problems = map_headers(table.headers, CASE_COLUMNS)
    if problems:
        return CasePlan(), problems
    header_of = {col.field: h for h, col in mapping.items()}
    header_of |= {c.field: c.zh for c in CASE_COLUMNS if c.field not in header_of}
    order = {h: i for i, h in enumerate(table.headers)}

    parsed: list[tuple[int, dict[str, Any], dict[str, str]]] = []
    for number, raw in table.rows:
        values: dict[str, Any] = {}
        bad: dict[str, str] = {}
        for h, col in mapping.items():
            try:
                values[col.field] = convert(raw.get(h), col)
            except CellError as exc:
                bad[col.field] = str(exc)
        values["certificate_numbers"] = split_numbers(values.get("certificate_numbers"))
        parsed.append((number, values, bad))

    case_nos = [v["case_no"] for _n, v, _b in parsed if v.get("case_no")]
    existing: dict[str, PenaltyCase] = {}
    for i in range(0, len(case_nos), _CHUNK):
        existing.update({c.case_no: c for c in db.session.scalars(
            select(PenaltyCase).where(PenaltyCase.case_no.in_(case_nos[i:i + _CHUNK])))})

    plan = CasePlan()
    seen: dict[str, int] = {}
    for number, values, bad in parsed:
        data = {f: values.get(f) for f in CASE_FIELDS} | {
            "certificate_numbers": values["certificate_numbers"]}
        for name, message in validate_case_data(data, check_unique=False).items():
            bad.setdefault(name, message)
        case_no = (data.get("case_no") or "").strip()
        if case_no and "case_no" not in bad:
            if case_no in seen:
                bad["case_no"] = f"案号“{case_no}”与第 {seen[case_no]} 行重复"
            else:
                seen[case_no] = number
        for name, message in bad.items():
            problems.append(Problem(number, header_of[name], message))
        current = existing.get(case_no)
        changed = current is None or current.numbers != data["certificate_numbers"] or any(
            (getattr(current, f) or None) != (data[f] or None) for f in CASE_FIELDS)
        plan.rows.append((number, data, current.id if current is not None else None, changed))
    problems.sort(key=lambda p: (p.row or 0, order.get(p.column or "", len(order))))
    return plan, problems


def apply_plan(plan: CasePlan, *, filename: str = "") -> None:
    """Write a validated plan: new cases and changed ones (each audited as usual). Flushes."""
    existing = {c.id: c for i in range(0, len(plan.rows), _CHUNK) for c in db.session.scalars(
        select(PenaltyCase).where(PenaltyCase.id.in_(
            [cid for _n, _d, cid, _c in plan.rows[i:i + _CHUNK] if cid is not None])))}
    for _number, data, case_id, changed in plan.rows:
        if changed:
            save_case(existing.get(case_id) if case_id else None, data)
    db.session.flush()
    record("import", "case", None, plan.result(False).summary(), {"file": [None, filename]})


def import_cases(source: Source, filename: str, *, today: date | None = None,
                 dry_run: bool = False) -> CaseImportResult:
    """Read, validate, and (unless dry_run) write. Raises ImportRefused; flushes, never commits."""
    table = read_table(source, filename)
    with db.session.no_autoflush:
        plan, problems = validate_rows(table)
    if problems:
        raise ImportRefused(problems)
    if not dry_run:
        apply_plan(plan, filename=filename)
    return plan.result(dry_run)
