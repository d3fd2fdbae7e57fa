"""The question bank: reading answers, checking one question (the same rules for the form and the
import), editing or retiring one question. The import itself is `QuestionImporter` in
app.online.imports, one kind of the import framework (`flask import questions`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from app.audit.services import record
from app.errors import DomainError
from app.extensions import db
from app.importing.readers import to_text
from app.labels import QUESTION_TYPES, lookup
from app.models.online import Question

LETTERS = "ABCDEF"
TRUE_WORDS = {"对", "正确", "√", "✓", "t", "true", "是", "y", "yes"}
FALSE_WORDS = {"错", "错误", "×", "✗", "x", "f", "false", "否", "n", "no"}
_SEPARATORS = re.compile(r"[\s,，、;；/|.。]+")

ZH = {"type": "题型", "stem": "题干", **{f"option_{c.lower()}": f"选项{c}" for c in LETTERS},
      "answer": "答案", "points": "分值", "category": "类别", "basis": "依据"}


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


def _read_options(values: dict[str, Any], report: Callable[[str, str], None]) -> dict[str, str]:
    """The options filled in, by letter; a filled option after an empty one is reported."""
    options: dict[str, str] = {}
    gap = None
    for c in LETTERS:
        text = to_text(values.get(f"option_{c.lower()}"))
        if text:
            if gap:
                report(f"option_{c.lower()}", f"选项{gap}为空，但选项{c}有内容：选项应从 A 起连续填写")
            options[c] = text
        elif gap is None and options:
            gap = c
    return options


def _read_points(values: dict[str, Any], report: Callable[[str, str], None]) -> float | None:
    """The question's points (None when left empty); reported unless a positive number."""
    points = None
    raw_points = to_text(values.get("points"))
    if raw_points:
        try:
            points = float(raw_points)
        except ValueError:
            points = None
            report("points", f"分值“{raw_points}”不是数字")
        else:
            if points <= 0:
                report("points", f"分值应大于0（现为{raw_points}）")
    return points


def check_question(values: dict[str, Any], bad: Callable[[str, str], None]) -> dict[str, Any] | None:
    """A question's fields from a form's or an import row's values, each problem reported as
    bad(field, message); None when there was any."""
    found: list[str] = []

    def report(fieldname: str, message: str) -> None:
        found.append(fieldname)
        bad(fieldname, message)

    qtype = lookup(QUESTION_TYPES, to_text(values.get("type")))
    if not to_text(values.get("type")):
        report("type", "题型不能为空")
    elif qtype is None:
        report("type", f"未知的题型“{to_text(values.get('type'))}”，可选：单选、多选、判断")
    stem = to_text(values.get("stem"))
    if not stem:
        report("stem", "题干不能为空")
    options = _read_options(values, report)
    if qtype in ("single", "multiple") and len(options) < 2:
        report("option_a", f"选择题至少要有两个选项（现有 {len(options)} 个）")
    answer = None
    if qtype is not None:
        if qtype == "true_false" and options:
            report("option_a", "判断题不应有选项")
        try:
            answer = read_answer(qtype, values.get("answer"), "".join(options))
        except DomainError as exc:
            report("answer", str(exc))
    points = _read_points(values, report)
    category = to_text(values.get("category"))
    basis = to_text(values.get("basis"))
    if len(category) > 100:
        report("category", "类别不能超过100个字")
    if len(basis) > 500:
        report("basis", "依据不能超过500个字")
    if found:
        return None
    return {"type": qtype, "stem": stem, "options": options if qtype != "true_false" else {},
            "answer": answer, "points": points, "category": category, "basis": basis}


QUESTION_FIELDS = ["type", "stem", "options", "answer", "points", "category", "basis"]


def apply_fields(q: Question, data: dict[str, Any]) -> dict[str, list[Any]]:
    changes = {f: [getattr(q, f), data[f]] for f in QUESTION_FIELDS if getattr(q, f) != data[f]}
    for f in QUESTION_FIELDS:
        setattr(q, f, data[f])
    return changes


def save_question(q: Question | None, data: dict[str, Any]) -> Question:
    """Create or edit one question from a form (same rules as the import)."""
    problems: list[str] = []
    cleaned = check_question(data, lambda name, message: problems.append(f"{ZH[name]}：{message}"))
    if cleaned is None:
        raise DomainError("；".join(problems))
    clash = db.session.scalar(select(Question).where(Question.type == cleaned["type"],
                                                     Question.stem == cleaned["stem"],
                                                     Question.id != (q.id if q else -1)))
    if clash:
        raise DomainError(f"题库中已有题干和题型相同的试题（编号 {clash.id}）")
    creating = q is None
    if creating:
        q = Question(retired=False, version=1)
        db.session.add(q)
    changes = apply_fields(q, cleaned)
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
