"""`flask import scores FILE` as an importer of the framework in app.importing.base: an
exam is identified by 考试名称 + 考试日期 and created when new; a make-up names the exam it repeats."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from app.errors import DomainError
from app.exams import services as exam_services
from app.extensions import db
from app.importing.base import Importer, ImportResult, Sheet, register
from app.importing.readers import Column
from app.labels import EXAM_KINDS
from app.models.exams import Exam, ExamResult
from app.models.officers import Officer
from app.training.imports import EXAMPLE_ID, resolve_officers

SCORE_COLUMNS = [
    Column("title", "考试名称", "title", required=True, max_length=200, example="2024年度执法资格考试"),
    Column("date", "考试日期", "date", required=True, kind="date", example=date(2024, 6, 1)),
    Column("kind", "考试类型", "kind", kind="enum", mapping=EXAM_KINDS, example="资格考试"),
    Column("max_score", "满分", "max_score", example=100),
    Column("pass_score", "合格分数", "pass_score", example=60),
    Column("id_number", "身份证号", "id_number", required=True, kind="id", example=EXAMPLE_ID),
    Column("score", "成绩", "score", example=85, aliases=("分数", "考试成绩"), hint="数字；缺考写“缺考”"),
    Column("makeup_of", "补考对应考试", "makeup_of", max_length=200,
           hint="补考时填写原考试的考试名称"),
]


@register
class ScoreImporter(Importer):
    kind, entity, noun = "scores", "exam_result", "成绩"
    help = "导入考试成绩（考试名称+考试日期确定一场考试，新考试自动建立）"
    columns = SCORE_COLUMNS
    defaults = {"kind": "资格考试", "max_score": "100", "pass_score": "60"}

    def validate(self, sheet: Sheet, *, today: date):
        rows_by_number = {r.number: r for r in sheet.rows}

        def error(number: int, name: str, message: str) -> None:
            rows_by_number[number].error(name, message)

        officers = resolve_officers(sheet, today)
        exams, plan = _plan_rows(sheet, officers, error)
        existing, makeups, in_file_makeups = _find_exams(exams, error)
        _check_scores(plan, exams, existing, makeups, error)
        return {"exams": exams, "existing": existing, "makeups": makeups,
                "in_file_makeups": in_file_makeups, "plan": plan}

    def export_rows(self):
        titles = {e.id: e.title for e in db.session.execute(select(Exam.id, Exam.title))}
        for r in db.session.execute(select(
                Exam.title, Exam.held_on, Exam.kind, Exam.max_score, Exam.pass_score,
                Exam.makeup_of_id, Officer.id_number, ExamResult.score, ExamResult.absent)
                .join(Exam, Exam.id == ExamResult.exam_id).join(Officer, Officer.id == ExamResult.officer_id)
                .order_by(Exam.held_on, Exam.id, ExamResult.id)):
            yield {"title": r.title, "date": r.held_on, "kind": EXAM_KINDS.get(r.kind),
                   "max_score": r.max_score, "pass_score": r.pass_score, "id_number": r.id_number,
                   "score": "缺考" if r.absent else r.score,
                   "makeup_of": titles.get(r.makeup_of_id) if r.makeup_of_id else None}

    def result(self, p) -> ImportResult:
        created = sum(1 for e in p["existing"].values() if e is None)
        known = [e.id for e in p["existing"].values() if e is not None]
        stored = {(r.exam_id, r.officer_id): (r.score, r.absent) for r in db.session.execute(
            select(ExamResult.exam_id, ExamResult.officer_id, ExamResult.score, ExamResult.absent)
            .where(ExamResult.exam_id.in_(known)))} if known else {}
        new = updated = 0
        for _n, key, officer, score in p["plan"]:
            exam = p["existing"][key]
            before = stored.get((exam.id, officer.id)) if exam is not None else None
            if before is None:
                new += 1
            elif before != _score_of(score):
                updated += 1
        same = len(p["plan"]) - new - updated
        return ImportResult(self.noun, total=len(p["plan"]), created=new, updated=updated,
                            unchanged=same, text=(
            f"考试 {len(p['exams'])} 场（新建 {created}），成绩 {len(p['plan'])} 条"
            f"（新增 {new}，更新 {updated}" + (f"，无变化 {same}" if same else "") + "）"))

    def apply(self, p, *, today: date, result: ImportResult) -> None:
        exams, existing, makeups = p["exams"], p["existing"], p["makeups"]
        in_file_makeups, plan = p["in_file_makeups"], p["plan"]
        created_exams, created_results = [], []
        with db.session.no_autoflush:
            # originals first, so a make-up in the same file can point at its exam
            for key in sorted(existing, key=lambda k: (k in in_file_makeups, k[1])):
                if existing[key] is None:
                    spec = exams[key]
                    orig = makeups.get(key) or (existing[in_file_makeups[key]] if key in in_file_makeups else None)
                    created_exams.append(key)
                    existing[key] = exam_services.save_exam(None, {
                        "title": key[0], "held_on": key[1], "kind": spec["kind"] or "qualification",
                        "max_score": spec["max_score"], "pass_score": spec["pass_score"],
                        "makeup_of_id": orig.id if orig is not None else None})
            results = {(r.exam_id, r.officer_id): r for r in db.session.scalars(select(ExamResult).where(
                ExamResult.exam_id.in_([e.id for e in existing.values()])))}
            for _n, key, officer, score in plan:
                exam = existing[key]
                r = results.get((exam.id, officer.id))
                if r is None:
                    r = ExamResult(exam=exam, officer_id=officer.id)
                    db.session.add(r)
                    created_results.append(r)
                exam_services.set_result(exam, r, score, score is None)
        db.session.flush()
        result.created_ids["exam"] = [existing[k].id for k in created_exams]
        result.created_ids["exam_result"] = [r.id for r in created_results]


def _plan_rows(sheet: Sheet, officers, error):
    """The exams the rows name (their specification, first row wins) and the (row, exam key, officer, score)
    plan; rows without a title or date, or repeating an officer in one exam, are reported."""
    exams: dict[tuple[str, date], dict[str, Any]] = {}
    plan, seen = [], {}
    for row in sheet.rows:
        number, v = row.number, {k: row.get(k) for k in row.values}
        if not v.get("title"):
            error(number, "title", "考试名称不能为空")
        if not v.get("date"):
            error(number, "date", "考试日期不能为空")
        if not (v.get("title") and v.get("date")):
            continue
        key = (v["title"], v["date"])
        spec = exams.setdefault(key, {"row": number, "kind": v.get("kind"), "max_score": v.get("max_score"),
                                      "pass_score": v.get("pass_score"), "makeup_of": v.get("makeup_of")})
        for f in ("kind", "max_score", "pass_score", "makeup_of"):
            if v.get(f) and spec[f] and v[f] != spec[f]:
                error(number, f, f"同一考试与第 {spec['row']} 行不一致")
            spec[f] = spec[f] or v.get(f)
        officer = officers.get(number)
        if officer is None:
            continue
        if (key + (officer.id,)) in seen:
            error(number, "id_number", f"与第 {seen[key + (officer.id,)]} 行重复")
            continue
        seen[key + (officer.id,)] = number
        plan.append((number, key, officer, v.get("score")))
    return exams, plan


def _find_exams(exams, error):
    """Each exam stored already (or None: to be created), the stored exam each make-up repeats, and the
    make-ups that repeat an exam of this file; a new exam's data is validated."""
    existing: dict[tuple[str, date], Exam | None] = {}
    makeups: dict[tuple[str, date], Exam] = {}
    in_file_makeups: dict[tuple[str, date], tuple[str, date]] = {}
    for key, spec in exams.items():
        exam = db.session.scalar(select(Exam).where(Exam.title == key[0], Exam.held_on == key[1]))
        existing[key] = exam
        if spec["makeup_of"]:
            # the exam repeated: the latest earlier one of that title, in this file or already stored
            in_file = [k for k in exams if k[0] == spec["makeup_of"] and k[1] <= key[1] and k != key]
            if in_file:
                in_file_makeups[key] = max(in_file, key=lambda k: k[1])
            else:
                orig = db.session.scalars(select(Exam).where(
                    Exam.title == spec["makeup_of"], Exam.held_on <= key[1]).order_by(Exam.held_on.desc())).first()
                if orig is None:
                    error(spec["row"], "makeup_of", f"没有名为“{spec['makeup_of']}”且早于本次考试的考试")
                    continue
                makeups[key] = orig
        if exam is None:
            errors = exam_services.validate_exam_data({
                "title": key[0], "held_on": key[1], "kind": spec["kind"] or "qualification",
                "max_score": spec["max_score"], "pass_score": spec["pass_score"],
                "makeup_of_id": makeups[key].id if key in makeups else None})
            for f, message in errors.items():
                error(spec["row"], {"held_on": "date", "makeup_of_id": "makeup_of"}.get(f, f), message)
    return existing, makeups, in_file_makeups


def _check_scores(plan, exams, existing, makeups, error) -> None:
    """Each planned score fits its exam, and no one sits a make-up of an exam they passed."""
    for number, key, officer, score in plan:
        exam = existing[key]
        spec = exams[key]
        try:
            mx = float(spec["max_score"]) if spec["max_score"] else (exam.max_score if exam else 100.0)
        except ValueError:
            continue  # reported above
        probe_exam = Exam(max_score=mx, pass_score=0)
        try:
            exam_services.set_result(probe_exam, ExamResult(), score, False)
        except DomainError as exc:
            error(number, "score", str(exc))
        orig = makeups.get(key)
        if orig is not None and officer.id in exam_services.passed_officers(orig):
            error(number, "id_number", f"{officer.name} 已通过原考试“{orig.title}”，不需要补考")


def _score_of(score: Any) -> tuple[float | None, bool]:
    """(score, absent) as set_result stores them, for telling an unchanged row."""
    probe = SimpleNamespace(score=None, absent=False)
    try:
        exam_services.set_result(SimpleNamespace(max_score=10 ** 9, pass_score=0), probe, score,
                                 score is None)
    except DomainError:
        return (None, False)
    return (probe.score, probe.absent)
