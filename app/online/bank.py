"""The question bank: reading answers, validating an import file into a plan, applying the plan,
and editing or retiring one question.

Validation (`plan_import`: rows → plan + problems) and writing (`apply_plan`) are separate so an
import framework can wrap them; `import_questions` runs both, all or nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select

from app.audit.services import record, record_many
from app.errors import DomainError
from app.extensions import db
from app.imports.readers import (
    Column,
    ImportRefused,
    Problem,
    Table,
    map_headers,
    read_table,
    to_text,
)
from app.labels import QUESTION_TYPES, lookup
from app.online.models import Question

LETTERS = "ABCDEF"
TRUE_WORDS = {"对", "正确", "√", "✓", "t", "true", "是", "y", "yes"}
FALSE_WORDS = {"错", "错误", "×", "✗", "x", "f", "false", "否", "n", "no"}
_SEPARATORS = re.compile(r"[\s,，、;；/|.。]+")

COLUMNS = [
    Column("type", "题型", "type", required=True, kind="enum", mapping=QUESTION_TYPES),
    Column("stem", "题干", "stem", required=True),
    *[Column(f"option_{c.lower()}", f"选项{c}", f"option_{c.lower()}") for c in LETTERS],
    Column("answer", "答案", "answer", required=True),
    Column("points", "分值", "points"),
    Column("category", "类别", "category", max_length=100),
    Column("basis", "依据", "basis", max_length=500),
]
ZH = {c.field: c.zh for c in COLUMNS}


def read_answer(qtype: str, raw: Any, letters: str) -> str:
    """A typed answer in its stored form ("B", "ABD", "对"); raises DomainError saying why not.

    `letters` are the options the question has (for true/false: ignored)."""
    text = to_text(raw).strip()
    if qtype == "true_false":
        low = text.lower()
        if low in TRUE_WORDS:
            return "对"
        if low in FALSE_WORDS:
            return "错"
        raise DomainError(f"判断题的答案“{text[:20]}”无法识别，应为 对/错（也可写 正确/错误、√/×、T/F）")
    squeezed = _SEPARATORS.sub("", text).upper()
    if not squeezed:
        raise DomainError("答案为空")
    if not squeezed.isascii() or not squeezed.isalpha():
        raise DomainError(f"答案“{text[:20]}”应为选项字母（如 B 或 ABD）")
    chosen = sorted(set(squeezed))
    if len(chosen) != len(squeezed):
        raise DomainError(f"答案“{text[:20]}”中有重复的字母")
    missing = [c for c in chosen if c not in letters]
    if missing:
        raise DomainError(f"答案中的选项 {'、'.join(missing)} 不存在（本题只有选项 {'、'.join(letters)}）")
    if qtype == "single" and len(chosen) != 1:
        raise DomainError(f"单选题的答案只能是一个字母（现为“{text[:20]}”）")
    if qtype == "multiple" and len(chosen) < 2:
        raise DomainError(f"多选题的答案至少要有两个字母（现为“{text[:20]}”）")
    return "".join(chosen)


@dataclass
class PlannedQuestion:
    row: int
    data: dict[str, Any]
    existing: Question | None = None


@dataclass
class QuestionPlan:
    items: list[PlannedQuestion] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(1 for i in self.items if i.existing is None)

    @property
    def updated(self) -> int:
        return sum(1 for i in self.items if i.existing is not None)


def _row_data(number: int, values: dict[str, Any], problems: list[Problem]) -> dict[str, Any] | None:
    def bad(fieldname: str, message: str) -> None:
        problems.append(Problem(number, ZH[fieldname], message))

    before = len(problems)
    qtype = lookup(QUESTION_TYPES, to_text(values.get("type")))
    if not to_text(values.get("type")):
        bad("type", "题型不能为空")
    elif qtype is None:
        bad("type", f"未知的题型“{to_text(values.get('type'))}”，可选：单选、多选、判断")
    stem = to_text(values.get("stem"))
    if not stem:
        bad("stem", "题干不能为空")
    options: dict[str, str] = {}
    gap = None
    for c in LETTERS:
        text = to_text(values.get(f"option_{c.lower()}"))
        if text:
            if gap:
                bad(f"option_{c.lower()}", f"选项{gap}为空，但选项{c}有内容：选项应从 A 起连续填写")
            options[c] = text
        elif gap is None and options:
            gap = c
    if qtype in ("single", "multiple") and len(options) < 2:
        bad("option_a", f"选择题至少要有两个选项（现有 {len(options)} 个）")
    answer = None
    if qtype is not None:
        if qtype == "true_false" and options:
            bad("option_a", "判断题不应有选项")
        try:
            answer = read_answer(qtype, values.get("answer"), "".join(options))
        except DomainError as exc:
            bad("answer", str(exc))
    points = None
    raw_points = to_text(values.get("points"))
    if raw_points:
        try:
            points = float(raw_points)
        except ValueError:
            points = None
            bad("points", f"分值“{raw_points}”不是数字")
        else:
            if points <= 0:
                bad("points", f"分值应大于0（现为{raw_points}）")
    category = to_text(values.get("category"))
    basis = to_text(values.get("basis"))
    if len(category) > 100:
        bad("category", "类别不能超过100个字")
    if len(basis) > 500:
        bad("basis", "依据不能超过500个字")
    if len(problems) > before:
        return None
    return {"type": qtype, "stem": stem, "options": options if qtype != "true_false" else {},
            "answer": answer, "points": points, "category": category, "basis": basis}


def plan_import(table: Table) -> QuestionPlan:
    """Every problem of the file by row and column, and what would be created or updated."""
    plan = QuestionPlan()
    mapping, problems = map_headers(table.headers, COLUMNS)
    plan.problems.extend(problems)
    if problems:
        return plan
    seen: dict[tuple[str, str], int] = {}
    rows: list[PlannedQuestion] = []
    for number, raw in table.rows:
        values = {mapping[h].field: v for h, v in raw.items() if h in mapping}
        data = _row_data(number, values, plan.problems)
        stem, qtype = to_text(values.get("stem")), lookup(QUESTION_TYPES, to_text(values.get("type")))
        if stem and qtype:
            first = seen.setdefault((qtype, stem), number)
            if first != number:
                plan.problems.append(Problem(number, ZH["stem"], f"与第 {first} 行的题干和题型相同"))
                continue
        if data is not None:
            rows.append(PlannedQuestion(number, data))
    stems = [r.data["stem"] for r in rows]
    existing: dict[tuple[str, str], Question] = {}
    for start in range(0, len(stems), 500):
        for q in db.session.scalars(select(Question).where(Question.stem.in_(stems[start:start + 500]))):
            existing[(q.type, q.stem)] = q
    for r in rows:
        r.existing = existing.get((r.data["type"], r.data["stem"]))
    plan.items = rows
    return plan


QUESTION_FIELDS = ["type", "stem", "options", "answer", "points", "category", "basis"]


def _apply(q: Question, data: dict[str, Any]) -> dict[str, list[Any]]:
    changes = {f: [getattr(q, f), data[f]] for f in QUESTION_FIELDS if getattr(q, f) != data[f]}
    for f in QUESTION_FIELDS:
        setattr(q, f, data[f])
    return changes


def apply_plan(plan: QuestionPlan) -> None:
    """Write a plan that has no problems (flush, never commit)."""
    if plan.problems:
        raise ImportRefused(plan.problems)
    entries = []
    for item in plan.items:
        if item.existing is None:
            q = Question(retired=False, version=1)
            _apply(q, item.data)
            db.session.add(q)
            db.session.flush()
            entries.append((q.id, f"导入试题（第 {item.row} 行）", dict(item.data)))
        else:
            changes = _apply(item.existing, item.data)
            if changes:
                item.existing.version = (item.existing.version or 1) + 1
                record("import", "question", item.existing.id, f"导入更新试题（第 {item.row} 行）", changes)
    db.session.flush()
    record_many("import", "question", entries)


def import_questions(source: str | Path | bytes | BinaryIO, filename: str, *, dry_run: bool = False
                     ) -> QuestionPlan:
    """Read, validate, and (unless dry_run) write. Raises ImportRefused with every problem."""
    plan = plan_import(read_table(source, filename))
    if plan.problems:
        raise ImportRefused(plan.problems)
    if not dry_run:
        apply_plan(plan)
    return plan


def save_question(q: Question | None, data: dict[str, Any]) -> Question:
    """Create or edit one question from a form (same rules as the import)."""
    problems: list[Problem] = []
    cleaned = _row_data(0, data, problems)
    if cleaned is None:
        raise DomainError("；".join(f"{p.column}：{p.message}" for p in problems))
    clash = db.session.scalar(select(Question).where(Question.type == cleaned["type"],
                                                     Question.stem == cleaned["stem"],
                                                     Question.id != (q.id if q else -1)))
    if clash:
        raise DomainError(f"题库中已有题干和题型相同的试题（编号 {clash.id}）")
    creating = q is None
    if creating:
        q = Question(retired=False, version=1)
        db.session.add(q)
    changes = _apply(q, cleaned)
    if not creating and changes:
        q.version = (q.version or 1) + 1
    db.session.flush()
    if creating or changes:
        record("create" if creating else "update", "question", q.id,
               f"{'新增' if creating else '修改'}试题 {q.stem[:30]}", changes)
    return q


def set_retired(q: Question, retired: bool) -> None:
    if q.retired != retired:
        q.retired = retired
        db.session.flush()
        record("update", "question", q.id, f"{'停用' if retired else '恢复'}试题 {q.stem[:30]}",
               {"retired": [not retired, retired]})
