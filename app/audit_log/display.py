"""The audit log as a person reads it: Chinese names for entity types, fields and coded values,
unit names instead of ids, 是/否 for booleans, dates as 2024年3月1日, who as 命令行/匿名.

Rows are stored as written (codes, ISO dates); this layer only translates for display, so old
rows read the same as new ones.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from app import labels as L
from app.audit.services import hide_sensitive
from app.extensions import db
from app.formatting import actor_label  # noqa: F401  (the audit page's import)
from app.models.exams import Exam
from app.models.officers import Unit
from app.settings.services import SPECS

ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")

# field -> the code/label table of its values (a field whose meaning depends on the entity is
# looked up per entity type below)
VALUE_LABELS: dict[str, dict[str, str]] = {
    "establishment": L.ESTABLISHMENTS,
    "education": L.EDUCATIONS,
    "employment_status": L.EMPLOYMENT_STATUSES,
    "gender": L.GENDERS,
    "category": L.TRAINING_CATEGORIES,
    "role": L.ACCOUNT_ROLES,
    "result": L.REVIEW_RESULTS,
}
TYPE_LABELS = {"question": L.QUESTION_TYPES}
KIND_LABELS = {"unit": L.UNIT_KINDS, "certificate": L.CERT_KINDS, "exam": L.EXAM_KINDS}
STATUS_LABELS = {"certificate": L.CERT_STATUSES, "import_batch": L.IMPORT_BATCH_STATUSES}
UNIT_FIELDS = ("unit_id", "parent_id")


def iso_to_cn(text: str) -> str:
    """2024-03-01 anywhere in a text → 2024年3月1日."""
    return ISO_DATE.sub(lambda m: f"{int(m[1])}年{int(m[2])}月{int(m[3])}日", text)


def entity_label(entity_type: str | None, entity_id: int | None = None) -> str:
    name = L.ENTITY_TYPES.get(entity_type or "", entity_type or "")
    return f"{name}（编号 {entity_id}）" if entity_id else name


def field_label(field: str) -> str:
    if field in L.FIELD_LABELS:
        return L.FIELD_LABELS[field]
    if field in SPECS:
        return SPECS[field].label
    return field


class Translator:
    """Translates a page of audit rows; unit and exam names are read in one query each."""

    def __init__(self, events: list[Any]):
        unit_ids, exam_ids = set(), set()
        for e in events:
            for k, pair in (e.changes or {}).items():
                if isinstance(pair, list):
                    target = unit_ids if k in UNIT_FIELDS else exam_ids if k == "makeup_of_id" else None
                    if target is not None:
                        target.update(v for v in pair if isinstance(v, int))
        self.units = {i: n for i, n in db.session.execute(
            select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids)))} if unit_ids else {}
        self.exams = {i: t for i, t in db.session.execute(
            select(Exam.id, Exam.title).where(Exam.id.in_(exam_ids)))} if exam_ids else {}

    def value(self, entity_type: str, field: str, value: Any) -> str:
        if value is None or value == "":
            return "—"
        value = hide_sensitive(field, value)
        if isinstance(value, bool):
            return "是" if value else "否"
        if isinstance(value, float):  # a score or hours stored as REAL: 80, not 80.0
            return str(int(value)) if value.is_integer() else str(value)
        if field in UNIT_FIELDS and isinstance(value, int):
            return self.units.get(value, f"已删除的单位（编号 {value}）")
        if field == "makeup_of_id" and isinstance(value, int):
            return self.exams.get(value, f"编号 {value} 的考试")
        if field == "certificates" and isinstance(value, list):
            return f"{len(value)} 个证件"
        if isinstance(value, list):
            return "、".join(self.value(entity_type, field, v) for v in value)
        if isinstance(value, dict):
            return "；".join(f"{field_label(k)}：{self.value(entity_type, k, v)}" for k, v in value.items())
        table = VALUE_LABELS.get(field)
        if field == "kind":
            table = KIND_LABELS.get(entity_type)
        elif field == "status":
            table = STATUS_LABELS.get(entity_type)
        elif field == "type":
            table = TYPE_LABELS.get(entity_type)
        text = str(value)
        if field == "eligible_establishments":
            return "、".join(L.ESTABLISHMENTS.get(x, x) for x in text.split(",") if x)
        if field in SPECS and field not in L.FIELD_LABELS and text in ("True", "False"):
            return "是" if text == "True" else "否"
        if table and text in table:
            return table[text]
        return iso_to_cn(text)

    def summary(self, event: Any) -> str:
        text = event.summary or ""
        if event.entity_type == "setting":
            for name, spec in SPECS.items():
                text = re.sub(rf"\b{name}\b", spec.label, text)
        return iso_to_cn(text)

    def changes(self, event: Any) -> list[tuple[str, str, str]]:
        """[(field label, old, new)] of an audit row."""
        out = []
        for field, pair in (event.changes or {}).items():
            old, new = (pair if isinstance(pair, list) and len(pair) == 2 else (None, pair))
            out.append((field_label(field), self.value(event.entity_type, field, old),
                        self.value(event.entity_type, field, new)))
        return out
