"""Exam rules: create/edit, make-up exams, the results grid, pass logic, an officer's history.

passed = not absent and score ≥ the exam's pass score (computed, never stored). A make-up exam
(补考) repeats an earlier exam, takes its kind, and is only for those who have not passed it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from app import scope
from app.audit.services import add_officer_rows, record, record_joined, record_saved, snapshot
from app.errors import DomainError, required_text
from app.extensions import db
from app.formatting import cn_date
from app.grids import apply_grid
from app.labels import EXAM_KINDS, lookup
from app.models.exams import Exam, ExamResult
from app.models.officers import Officer
from app.settings.services import get

EXAM_FIELDS = ["title", "kind", "held_on", "max_score", "pass_score", "makeup_of_id", "unit_id"]

# A kind of exam that ends by the clock (the online exam, app.online, a floor above this one) adds
# its check here when it is imported: check(exam, now) closes the exam if its time is up and says
# whether it did. The exam page runs them before it shows an exam, so its scores are there.
CLOSE_CHECKS: list[Callable[[Exam, datetime], bool]] = []


def close_if_due(exam: Exam, now: datetime) -> bool:
    """Run every kind's close check on the exam; True when one of them closed it."""
    return any([check(exam, now) for check in CLOSE_CHECKS])


def default_pass_score() -> float:
    return float(get("exam_pass_score"))


def _number(value: Any, label: str) -> float | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        return float(str(value).strip())
    except ValueError:
        raise DomainError(f"{label}“{value}”不是数字") from None


def validate_exam_data(data: dict[str, Any], *, exclude_id: int | None = None) -> dict[str, str]:
    errors: dict[str, str] = {}
    title = required_text(errors, data, "title", "考试名称", 200)
    makeup = db.session.get(Exam, data["makeup_of_id"]) if data.get("makeup_of_id") else None
    if data.get("makeup_of_id") and makeup is None:
        errors["makeup_of_id"] = "补考对应的考试不存在"
    if lookup(EXAM_KINDS, data.get("kind")) is None and makeup is None:
        errors["kind"] = f"未知的考试类型“{data.get('kind') or ''}”，可选：{'、'.join(EXAM_KINDS.values())}"
    held = data.get("held_on")
    if not isinstance(held, date):
        errors["held_on"] = "考试日期不能为空"
    try:
        mx = _number(data.get("max_score"), "满分")
        ps = _number(data.get("pass_score"), "合格分数")
    except DomainError as exc:
        errors["max_score"] = str(exc)
        mx = ps = None
    mx = 100.0 if mx is None else mx
    ps = default_pass_score() if ps is None else ps
    if "max_score" not in errors:
        if mx <= 0:
            errors["max_score"] = f"满分必须大于0（现为{mx:g}）"
        elif ps <= 0 or ps > mx:
            errors["pass_score"] = f"合格分数应在0到满分{mx:g}之间（现为{ps:g}）"
    if makeup is not None:
        if exclude_id and makeup.id == exclude_id:
            errors["makeup_of_id"] = "考试不能是自己的补考"
        elif isinstance(held, date) and held < makeup.held_on:
            errors["makeup_of_id"] = (f"补考日期（{cn_date(held)}）不能早于原考试“{makeup.title}”"
                                      f"的日期（{cn_date(makeup.held_on)}）")
    if title and isinstance(held, date):
        clash = db.session.scalar(select(Exam.id).where(Exam.title == title, Exam.held_on == held,
                                                        Exam.id != (exclude_id or -1))
                                  .execution_options(scope_all=True))
        if clash:
            errors["title"] = f"{cn_date(held)} 已有名为“{title}”的考试"
    return errors


def save_exam(exam: Exam | None, data: dict[str, Any]) -> Exam:
    errors = validate_exam_data(data, exclude_id=exam.id if exam else None)
    if errors:
        raise DomainError("；".join(errors.values()), fields=errors)
    makeup = db.session.get(Exam, data["makeup_of_id"]) if data.get("makeup_of_id") else None
    mx = _number(data.get("max_score"), "满分")
    ps = _number(data.get("pass_score"), "合格分数")
    ps = default_pass_score() if ps is None else ps
    creating = exam is None
    unit_id = scope.organising_unit(data, None if creating else exam.unit_id, creating)
    if creating:
        exam = Exam()
        before = dict.fromkeys(EXAM_FIELDS)
    else:
        before = snapshot(exam, EXAM_FIELDS)
    exam.title = data["title"].strip()
    exam.held_on = data["held_on"]
    exam.makeup_of_id = makeup.id if makeup else None
    exam.kind = makeup.kind if makeup else lookup(EXAM_KINDS, data["kind"])
    exam.max_score = 100.0 if mx is None else mx
    exam.pass_score = ps
    exam.unit_id = unit_id
    if creating:
        db.session.add(exam)
    if not creating:
        over = [r for r in exam.results if r.score is not None and r.score > exam.max_score]
        if over:
            raise DomainError(f"已有 {len(over)} 个成绩高于新的满分{exam.max_score:g}，请先修改成绩")
    db.session.flush()
    record_saved("exam", exam, before, EXAM_FIELDS, f"考试 {exam.title}", creating)
    return exam


def passed_officers(exam: Exam) -> set[int]:
    return {r.officer_id for r in exam.results if r.passed}


def makeup_candidates(exam: Exam) -> list[Officer]:
    """For a make-up exam: those who sat or missed the original and did not pass it."""
    if exam.makeup_of is None:
        return []
    passed = passed_officers(exam.makeup_of)
    return [r.officer for r in exam.makeup_of.results if r.officer_id not in passed]


def add_candidates(exam: Exam, officers: list[Officer]) -> int:
    """Put officers on the exam's list (no result yet). For a make-up, those who passed the
    original are refused by name."""
    if exam.makeup_of is not None:
        passed = passed_officers(exam.makeup_of)
        refused = [o.name for o in officers if o.id in passed]
        if refused:
            raise DomainError(f"{'、'.join(refused)} 已通过原考试“{exam.makeup_of.title}”，不需要补考")
    return add_officer_rows(officers, {r.officer_id for r in exam.results},
                            lambda o: ExamResult(exam=exam, officer_id=o.id, score=None, absent=False),
                            "exam", exam.id, lambda added: f"考试 {exam.title} 添加 {added} 名考生")


def bulk_add_candidates(exam: Exam, officers: list[Officer]) -> int:
    """add_candidates() for a selection from the officer list: also one audit row per officer added."""
    have = {r.officer_id for r in exam.results}
    added = add_candidates(exam, officers)
    record_joined(officers, have, "批量报名考试", "exam", exam.title)
    return added


def set_result(exam: Exam, result: ExamResult, score: Any, absent: bool) -> None:
    """Score, or absent (an empty score with absent unticked means not yet entered)."""
    if absent or (isinstance(score, str) and score.strip() == "缺考"):
        result.score, result.absent = None, True
        return
    value = _number(score, "成绩")
    if value is not None and (value < 0 or value > exam.max_score):
        raise DomainError(f"成绩应在0到满分{exam.max_score:g}之间（现为{value:g}）")
    result.score, result.absent = value, False


def save_results(exam: Exam, rows: dict[int, tuple[Any, bool]], *, today: date | None = None) -> int:
    """Enter many results at once: {result_id: (score, absent)}. All or nothing. An exam that
    has not been held by `today` takes no scores yet."""
    if today is not None and exam.held_on > today and any(
            (str(score or "").strip() or absent) for score, absent in rows.values()):
        raise DomainError(f"考试日期（{cn_date(exam.held_on)}）还没到，不能登记成绩；如考试日期有误，请先修改考试信息")
    changes = apply_grid({r.id: r for r in exam.results}, rows,
                         lambda r, score, absent: set_result(exam, r, score, absent),
                         lambda r: "缺考" if r.absent else r.score)
    db.session.flush()
    if changes:
        record("update", "exam", exam.id, f"考试 {exam.title} 登记成绩 {len(changes)} 人", changes)
    return len(changes)


def remove_candidate(exam: Exam, result_id: int) -> None:
    r = db.session.get(ExamResult, result_id)
    if r is None or r.exam_id != exam.id:
        raise DomainError("该考生不在此考试名单中")
    db.session.delete(r)
    db.session.flush()
    record("update", "exam", exam.id, f"考试 {exam.title} 移除考生")


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def has_recent_passed_qualification(officer_id: int, today: date, years: int = 3) -> bool:
    """A passed qualification exam (or its make-up) held in the last `years` years, up to today."""
    return bool(recently_qualified([officer_id], today, years))


def recently_qualified(officer_ids, today: date, years: int = 3) -> set[int]:
    """Those of `officer_ids` with a passed qualification exam (or its make-up) held in the last
    `years` years up to today: the rule of has_recent_passed_qualification, for many (one query)."""
    if not officer_ids:
        return set()
    return set(db.session.scalars(
        select(ExamResult.officer_id).join(Exam, Exam.id == ExamResult.exam_id).where(
            ExamResult.officer_id.in_(list(officer_ids)), Exam.kind == "qualification",
            Exam.held_on.between(years_before(today, years), today),
            ExamResult.passed).distinct()))


def officer_exams(officer_id: int) -> list[dict[str, Any]]:
    """An officer's exam history, newest first (one query)."""
    rows = db.session.scalars(
        select(ExamResult).join(Exam, Exam.id == ExamResult.exam_id).options(contains_eager(ExamResult.exam))
        .where(ExamResult.officer_id == officer_id).order_by(Exam.held_on.desc(), Exam.id.desc()))
    return [{"exam_id": r.exam.id, "title": r.exam.title, "kind": r.exam.kind, "held_on": r.exam.held_on,
             "score": r.score, "max_score": r.exam.max_score, "pass_score": r.exam.pass_score,
             "absent": r.absent, "passed": r.passed, "makeup": r.exam.makeup_of_id is not None,
             "entered": r.absent or r.score is not None} for r in rows]


NO_EXAM_MESSAGE = "该人员近3年没有通过资格考试的记录：如确需发证，请勾选确认并填写原因"


def issue_confirmation(officer_id: int, kind: str, target_status: str, *, today: date,
                       confirmed: bool, reason: str) -> tuple[bool, str | None]:
    """For issuing a certificate: (needs confirmation, the override reason to record or None).

    Raises DomainError when an enforcement certificate would become valid for someone with no
    passed qualification exam in the last 3 years and the person has not confirmed with a reason.
    """
    if kind != "enforcement" or target_status != "valid" or has_recent_passed_qualification(officer_id, today):
        return False, None
    reason = (reason or "").strip()
    if not confirmed or not reason:
        raise DomainError(NO_EXAM_MESSAGE)
    return True, reason
