"""`flask import questions FILE` (and `flask exams import-questions FILE`, the bank's upload page, the
import wizard): the question bank from a spreadsheet, as one importer of the framework in
app.importing.base. All or nothing: any problem and nothing is written, every problem by
row and column. A row whose 题干 and 题型 match a bank question updates that question (its version
goes up; papers already drawn keep their copy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select

from app.audit.services import record, record_many
from app.extensions import db
from app.importing.base import Importer, ImportResult, Sheet, chunks, register
from app.importing.readers import Column
from app.labels import QUESTION_TYPES
from app.models.online import OnlineExam, PaperItem, Question
from app.online.bank import LETTERS, QUESTION_FIELDS, apply_fields, check_question

_OPTION_HINT = "选择题至少填两个选项，从选项A起连续填写；判断题不填选项"
_EXAMPLE_OPTIONS = {"A": "一名", "B": "两名以上", "C": "三名以上", "D": "不限"}

QUESTION_COLUMNS = [
    Column("type", "题型", "type", required=True, kind="enum", mapping=QUESTION_TYPES, example="单选"),
    Column("stem", "题干", "stem", required=True, example="行政处罚应当由几名以上具有执法资格的执法人员实施？"),
    *[Column(f"option_{c.lower()}", f"选项{c}", f"option_{c.lower()}", example=_EXAMPLE_OPTIONS.get(c),
             hint=_OPTION_HINT) for c in LETTERS],
    Column("answer", "答案", "answer", required=True, example="B",
           hint="单选：一个字母；多选：两个以上字母（如 ABD，顺序和分隔符不限）；"
                "判断：对/错（也可写 正确/错误、√/×、T/F）"),
    Column("points", "分值", "points", example=2, hint="组卷时默认的每题分值（可空）；组卷规则中的分值为准"),
    Column("category", "类别", "category", max_length=100, example="公共法律知识",
           hint="如 公共法律知识、专门法律知识；组卷规则可按类别抽题"),
    Column("basis", "依据", "basis", max_length=500, example="《行政处罚法》第四十二条", hint="法条出处（可空）"),
]


@dataclass
class QuestionPlan:
    """(row number, the question's fields, existing question | None, changed) per row."""

    rows: list[tuple[int, dict[str, Any], Question | None, bool]] = field(default_factory=list)


@register
class QuestionImporter(Importer):
    kind, entity, noun = "questions", "question", "试题"
    help = "导入题库（题干+题型与已有试题相同的更新该题）"
    columns = QUESTION_COLUMNS
    notes = ["题干和题型与题库中已有试题相同的行更新该题（版本号加一；已抽入考生试卷的题目保持原样，成绩不变）。",
             "同一文件中题干和题型相同的两行会被拒绝。"]

    def validate(self, sheet: Sheet, *, today: date) -> QuestionPlan:
        """Every row checked by the rules of the question form, and the same stem and type twice
        in the file; one query per 500 stems for the bank questions they update."""
        checked: list[tuple[int, dict[str, Any]]] = []
        seen: dict[tuple[str, str], int] = {}
        for row in sheet.rows:
            data = check_question({name: row.get(name) for name in row.values}, row.error)
            stem, qtype = row.get("stem"), row.get("type")
            if stem and qtype:
                first = seen.setdefault((qtype, stem), row.number)
                if first != row.number:
                    row.error("stem", f"与第 {first} 行的题干和题型相同")
            if data is not None and not row.bad:
                checked.append((row.number, data))
        existing: dict[tuple[str, str], Question] = {}
        with db.session.no_autoflush:
            for chunk in chunks(list(dict.fromkeys(d["stem"] for _n, d in checked))):
                for q in db.session.scalars(select(Question).where(Question.stem.in_(chunk))):
                    existing[(q.type, q.stem)] = q
        plan = QuestionPlan()
        for number, data in checked:
            q = existing.get((data["type"], data["stem"]))
            changed = q is None or any(getattr(q, f) != data[f] for f in QUESTION_FIELDS)
            plan.rows.append((number, data, q, changed))
        return plan

    def result(self, plan: QuestionPlan) -> ImportResult:
        created = sum(1 for _n, _d, q, _c in plan.rows if q is None)
        updated = sum(1 for _n, _d, q, c in plan.rows if q is not None and c)
        return ImportResult(self.noun, total=len(plan.rows), created=created, updated=updated,
                            unchanged=len(plan.rows) - created - updated)

    def apply(self, plan: QuestionPlan, *, today: date, result: ImportResult) -> None:
        """Insert the new questions, update the changed ones (version + 1); each audited."""
        new: list[tuple[int, Question, dict[str, Any]]] = []
        for number, data, q, changed in plan.rows:
            if q is None:
                q = Question(retired=False, version=1)
                apply_fields(q, data)
                db.session.add(q)
                new.append((number, q, data))
            elif changed:
                changes = apply_fields(q, data)
                q.version = (q.version or 1) + 1
                record("import", "question", q.id, f"导入更新试题（第 {number} 行）", changes)
        db.session.flush()
        record_many("import", "question", [(q.id, f"导入试题（第 {number} 行）", dict(data))
                                           for number, q, data in new])
        result.created_ids["question"] = [q.id for _n, q, _d in new]

    def export_rows(self):
        for q in db.session.scalars(select(Question).order_by(Question.id)):
            options = q.options or {}
            yield {"type": QUESTION_TYPES.get(q.type), "stem": q.stem,
                   **{f"option_{c.lower()}": options.get(c) for c in LETTERS},
                   "answer": q.answer, "points": q.points, "category": q.category, "basis": q.basis}

    def why_not_undo(self, created: dict[str, list[int]]) -> str | None:
        """Questions edited since (their version went up), drawn onto a candidate's paper or
        chosen for a fixed paper stay."""
        ids = set(created.get("question") or [])
        used: set[int] = set()
        for chunk in chunks(ids):
            edited = db.session.scalar(select(func.count()).select_from(Question).where(
                Question.id.in_(chunk), Question.version != 1))
            if edited:
                return f"导入后已有 {edited} 条试题被修改，不能撤销"
        for chunk in chunks(ids):
            used.update(db.session.scalars(select(PaperItem.question_id).distinct()
                                           .where(PaperItem.question_id.in_(chunk))))
        for fixed in db.session.scalars(select(OnlineExam.fixed_questions)
                                        .where(OnlineExam.fixed_questions.is_not(None))):
            used.update(i for i in fixed or [] if i in ids)
        if used:
            return f"导入的试题中已有 {len(used)} 道用于考试的试卷，不能撤销"
        return None
