"""`flask import cases FILE [--dry-run]`: the case list from a spreadsheet, as one
importer of the framework in app.importing.base. All or nothing: any problem and nothing
is written. A row whose 案号 exists updates that case. A certificate number the registry does not
know is not a problem: the case is stored and the check reports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select

from app.cases.services import CASE_FIELDS, save_case, split_numbers, validate_case_data
from app.extensions import db
from app.importing.base import Importer, ImportResult, Sheet, chunks, register
from app.importing.readers import Column
from app.models.cases import PenaltyCase

Source = str | Path | bytes | BinaryIO

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
class CasePlan:
    """What the file asks for: (row, data, existing case id | None, changed) per row."""

    rows: list[tuple[int, dict[str, Any], int | None, bool]] = field(default_factory=list)


@register
class CaseImporter(Importer):
    kind, entity, noun = "cases", "case", "行政处罚案件"
    help = "导入行政处罚案件（按案号新增或更新）"
    columns = CASE_COLUMNS
    notes = ["执法证号可写多个，用顿号、逗号、分号、斜杠或空格分隔；系统中没有的证号照样保存，核查时会列出。"]

    def validate(self, sheet: Sheet, *, today: date) -> CasePlan:
        """Rows → plan, each problem reported on its row and column; two queries for existing cases."""
        case_nos = [r.get("case_no").strip() for r in sheet.rows if r.get("case_no")]
        existing: dict[str, PenaltyCase] = {}
        with db.session.no_autoflush:
            for chunk in chunks(case_nos):
                existing.update({c.case_no: c for c in db.session.scalars(
                    select(PenaltyCase).where(PenaltyCase.case_no.in_(chunk)))})
        plan = CasePlan()
        seen: dict[str, int] = {}
        for row in sheet.rows:
            data = {f: row.get(f) for f in CASE_FIELDS} | {
                "certificate_numbers": split_numbers(row.get("certificate_numbers"))}
            for name, message in validate_case_data(data, check_unique=False).items():
                row.error(name, message)
            case_no = (data.get("case_no") or "").strip()
            if case_no and not row.is_bad("case_no"):
                if case_no in seen:
                    row.error("case_no", f"案号“{case_no}”与第 {seen[case_no]} 行重复")
                else:
                    seen[case_no] = row.number
            current = existing.get(case_no)
            changed = current is None or current.numbers != data["certificate_numbers"] or any(
                (getattr(current, f) or None) != (data[f] or None) for f in CASE_FIELDS)
            plan.rows.append((row.number, data, current.id if current is not None else None, changed))
        return plan

    def result(self, plan: CasePlan) -> ImportResult:
        created = sum(1 for _n, _d, cid, _c in plan.rows if cid is None)
        updated = sum(1 for _n, _d, cid, c in plan.rows if cid is not None and c)
        return ImportResult(self.noun, total=len(plan.rows), created=created, updated=updated,
                            unchanged=len(plan.rows) - created - updated)

    def apply(self, plan: CasePlan, *, today: date, result: ImportResult) -> None:
        """New cases and changed ones, each through save_case (audited as usual)."""
        ids = [cid for _n, _d, cid, _c in plan.rows if cid is not None]
        existing = {c.id: c for chunk in chunks(ids) for c in db.session.scalars(
            select(PenaltyCase).where(PenaltyCase.id.in_(chunk)))}
        created = []
        for _number, data, case_id, changed in plan.rows:
            if changed:
                case = save_case(existing.get(case_id) if case_id else None, data)
                if case_id is None:
                    created.append(case)
        db.session.flush()
        result.created_ids["penalty_case"] = [c.id for c in created]

    def export_rows(self):
        for c in db.session.scalars(select(PenaltyCase).order_by(PenaltyCase.decided_on, PenaltyCase.id)):
            yield {"case_no": c.case_no, "title": c.title, "opened_on": c.opened_on,
                   "decided_on": c.decided_on, "certificate_numbers": "、".join(c.numbers),
                   "unit": c.unit, "officer_names": c.officer_names, "outcome": c.outcome}
