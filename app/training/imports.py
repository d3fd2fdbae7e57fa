"""`flask import attendance FILE` and `flask import scores FILE` (issue 3), on the readers of
app.imports: same headers (Chinese or English), same cell rules, all-or-nothing, every problem
with its row and column, exit 1 when refused.

A session (exam) is identified by title + date and created when new.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from app.audit.services import record
from app.errors import DomainError
from app.exams import services as exam_services
from app.exams.models import Exam, ExamResult
from app.extensions import db
from app.imports.cli import import_cli
from app.imports.readers import (
    SUPPORTED_EXTENSIONS,
    CellError,
    Column,
    ImportRefused,
    Problem,
    convert,
    extension,
    map_headers,
    read_table,
    unsupported_message,
)
from app.labels import ATTENDANCE_STATUSES, EXAM_KINDS, TRAINING_CATEGORIES
from app.officers import idnumber
from app.officers.models import Officer
from app.training import services as training
from app.training.hours import refresh_hours
from app.training.models import Attendance, TrainingSession

ATTENDANCE_COLUMNS = [
    Column("title", "培训名称", "title", required=True, max_length=200),
    Column("date", "培训日期", "date", required=True, kind="date"),
    Column("category", "培训类别", "category", kind="enum", mapping=TRAINING_CATEGORIES),
    Column("hours", "学时", "hours", required=True),
    Column("id_number", "身份证号", "id_number", required=True, kind="id"),
    Column("status", "出勤情况", "status", kind="enum", mapping=ATTENDANCE_STATUSES),
    Column("credited_hours", "认定学时", "credited_hours"),
]
DEFAULT_CATEGORY = "general_law"  # 通用法律知识, for a new session whose rows leave 培训类别 empty
SCORE_COLUMNS = [
    Column("title", "考试名称", "title", required=True, max_length=200),
    Column("date", "考试日期", "date", required=True, kind="date"),
    Column("kind", "考试类型", "kind", kind="enum", mapping=EXAM_KINDS),
    Column("max_score", "满分", "max_score"),
    Column("pass_score", "合格分数", "pass_score"),
    Column("id_number", "身份证号", "id_number", required=True, kind="id"),
    Column("score", "成绩", "score"),
    Column("makeup_of", "补考对应考试", "makeup_of", max_length=200),
]


class _Rows:
    """Read and convert every cell; collect problems per (row, column header)."""

    def __init__(self, source: Any, filename: str, columns: list[Column]):
        table = read_table(source, filename)
        mapping, problems = map_headers(table.headers, columns)
        if problems:
            raise ImportRefused(problems)
        self.problems: list[Problem] = []
        self.header = {c.field: c.zh for c in columns} | {c.field: h for h, c in mapping.items()}
        self.rows: list[tuple[int, dict[str, Any]]] = []
        for number, raw in table.rows:
            values: dict[str, Any] = {}
            for h, col in mapping.items():
                try:
                    values[col.field] = convert(raw.get(h), col)
                except CellError as exc:
                    values[col.field] = None
                    self.error(number, col.field, str(exc))
            self.rows.append((number, values))

    def error(self, row: int, field: str, message: str) -> None:
        self.problems.append(Problem(row, self.header[field], message))

    def officers(self, today: date) -> dict[str, Officer]:
        """Resolve every row's ID number to an officer in one query; unknown ones are problems."""
        wanted = {}
        for number, v in self.rows:
            if not v.get("id_number"):
                self.error(number, "id_number", "身份证号不能为空")
                continue
            try:
                wanted[number] = idnumber.validate(v["id_number"], today=today)
            except idnumber.IdNumberError as exc:
                self.error(number, "id_number", str(exc))
        found = {o.id_number: o for o in db.session.scalars(
            select(Officer).where(Officer.id_number.in_(set(wanted.values()) or {""})))}
        out = {}
        for number, ric in wanted.items():
            if ric in found:
                out[number] = found[ric]
            else:
                self.error(number, "id_number", f"系统中没有身份证号为 {idnumber.mask(ric)} 的执法人员")
        return out

    def refuse_if_any(self) -> None:
        if self.problems:
            raise ImportRefused(sorted(self.problems, key=lambda p: (p.row or 0)))


def import_attendance(source: Any, filename: str, *, today: date, dry_run: bool = False) -> str:
    data = _Rows(source, filename, ATTENDANCE_COLUMNS)
    officers = data.officers(today)
    sessions: dict[tuple[str, date], dict[str, Any]] = {}
    seen: dict[tuple[str, date, int], int] = {}
    plan = []
    for number, v in data.rows:
        hours = None
        if v.get("hours") is not None:
            try:
                hours = training.parse_hours(v["hours"])
            except DomainError as exc:
                data.error(number, "hours", str(exc))
        elif "hours" not in {p.column for p in data.problems if p.row == number}:
            data.error(number, "hours", "学时不能为空")
        if not v.get("title"):
            data.error(number, "title", "培训名称不能为空")
        if not v.get("date"):
            data.error(number, "date", "培训日期不能为空")
        if not (v.get("title") and v.get("date") and hours):
            continue
        key = (v["title"], v["date"])
        spec = sessions.setdefault(key, {"hours": hours, "category": v.get("category"), "row": number})
        if spec["hours"] != hours:
            data.error(number, "hours", f"同一培训的学时与第 {spec['row']} 行（{spec['hours']:g}）不一致")
        if v.get("category") and spec["category"] and spec["category"] != v["category"]:
            data.error(number, "category", f"同一培训的类别与第 {spec['row']} 行不一致")
        spec["category"] = spec["category"] or v.get("category")
        officer = officers.get(number)
        if officer is None:
            continue
        if (key + (officer.id,)) in seen:
            data.error(number, "id_number", f"与第 {seen[key + (officer.id,)]} 行重复")
            continue
        seen[key + (officer.id,)] = number
        plan.append((number, key, officer, v.get("status") or "attended", v.get("credited_hours")))
    existing = {}
    for key, spec in sessions.items():
        s = db.session.scalar(select(TrainingSession).where(
            TrainingSession.title == key[0], TrainingSession.held_on == key[1]))
        if s is None and not spec["category"]:
            spec["category"] = DEFAULT_CATEGORY  # 培训类别 is optional (issue 3): a new session needs one
        elif s is not None and s.hours != spec["hours"]:
            data.error(spec["row"], "hours", f"已登记的培训“{key[0]}”学时为 {s.hours:g}，与文件中的 {spec['hours']:g} 不一致")
        existing[key] = s
    # Check each row's credited hours against its session (a dummy session for new ones).
    for number, key, _o, status, credited in plan:
        probe = TrainingSession(hours=sessions[key]["hours"])
        try:
            training.set_attendance(probe, Attendance(), status, credited)
        except DomainError as exc:
            data.error(number, "credited_hours", str(exc))
    data.refuse_if_any()
    created = sum(1 for s in existing.values() if s is None)
    summary = f"培训 {len(sessions)} 次（新建 {created}），出勤记录 {len(plan)} 条"
    if dry_run:
        return "校验通过，未写入任何数据（仅校验）。" + summary
    with db.session.no_autoflush:
        for key, s in existing.items():
            if s is None:
                existing[key] = training.save_session(None, {
                    "title": key[0], "held_on": key[1], "hours": sessions[key]["hours"],
                    "category": sessions[key]["category"]})
        rows = {(a.session_id, a.officer_id): a for a in db.session.scalars(select(Attendance).where(
            Attendance.session_id.in_([s.id for s in existing.values()])))}
        for _n, key, officer, status, credited in plan:
            s = existing[key]
            att = rows.get((s.id, officer.id))
            if att is None:
                att = Attendance(session=s, officer_id=officer.id)
                db.session.add(att)
            training.set_attendance(s, att, status, credited)
    db.session.flush()
    refresh_hours(db.session, session_ids=[s.id for s in existing.values()])  # training_hours (issue 8)
    record("import", "attendance", None, "导入" + summary, {"file": [None, filename]})
    return "导入" + summary


def import_scores(source: Any, filename: str, *, today: date, dry_run: bool = False) -> str:
    data = _Rows(source, filename, SCORE_COLUMNS)
    officers = data.officers(today)
    exams: dict[tuple[str, date], dict[str, Any]] = {}
    plan, seen = [], {}
    for number, v in data.rows:
        if not v.get("title"):
            data.error(number, "title", "考试名称不能为空")
        if not v.get("date"):
            data.error(number, "date", "考试日期不能为空")
        if not (v.get("title") and v.get("date")):
            continue
        key = (v["title"], v["date"])
        spec = exams.setdefault(key, {"row": number, "kind": v.get("kind"), "max_score": v.get("max_score"),
                                      "pass_score": v.get("pass_score"), "makeup_of": v.get("makeup_of")})
        for f in ("kind", "max_score", "pass_score", "makeup_of"):
            if v.get(f) and spec[f] and v[f] != spec[f]:
                data.error(number, f, f"同一考试与第 {spec['row']} 行不一致")
            spec[f] = spec[f] or v.get(f)
        officer = officers.get(number)
        if officer is None:
            continue
        if (key + (officer.id,)) in seen:
            data.error(number, "id_number", f"与第 {seen[key + (officer.id,)]} 行重复")
            continue
        seen[key + (officer.id,)] = number
        plan.append((number, key, officer, v.get("score")))
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
                    data.error(spec["row"], "makeup_of", f"没有名为“{spec['makeup_of']}”且早于本次考试的考试")
                    continue
                makeups[key] = orig
        if exam is None:
            errors = exam_services.validate_exam_data({
                "title": key[0], "held_on": key[1], "kind": spec["kind"] or "qualification",
                "max_score": spec["max_score"], "pass_score": spec["pass_score"],
                "makeup_of_id": makeups[key].id if key in makeups else None})
            for f, message in errors.items():
                data.error(spec["row"], {"held_on": "date", "makeup_of_id": "makeup_of"}.get(f, f), message)
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
            data.error(number, "score", str(exc))
        orig = makeups.get(key)
        if orig is not None and officer.id in exam_services.passed_officers(orig):
            data.error(number, "id_number", f"{officer.name} 已通过原考试“{orig.title}”，不需要补考")
    data.refuse_if_any()
    created = sum(1 for e in existing.values() if e is None)
    summary = f"考试 {len(exams)} 场（新建 {created}），成绩 {len(plan)} 条"
    if dry_run:
        return "校验通过，未写入任何数据（仅校验）。" + summary
    with db.session.no_autoflush:
        # originals first, so a make-up in the same file can point at its exam
        for key in sorted(existing, key=lambda k: (k in in_file_makeups, k[1])):
            if existing[key] is None:
                spec = exams[key]
                orig = makeups.get(key) or (existing[in_file_makeups[key]] if key in in_file_makeups else None)
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
            exam_services.set_result(exam, r, score, score is None)
    db.session.flush()
    record("import", "exam_result", None, "导入" + summary, {"file": [None, filename]})
    return "导入" + summary


def _run(fn, file: str, dry_run: bool, today: date | None) -> None:
    path = Path(file)
    if not path.is_file():
        click.echo(f"错误：文件不存在：{file}", err=True)
        sys.exit(2)
    if extension(file) not in SUPPORTED_EXTENSIONS:
        click.echo(f"错误：{unsupported_message(file)}", err=True)
        sys.exit(2)
    try:
        summary = fn(path, path.name, today=today or date.today(), dry_run=dry_run)
    except ImportRefused as refused:
        db.session.rollback()
        for problem in refused.problems:
            click.echo(str(problem), err=True)
        click.echo(f"导入被拒绝：共 {len(refused.problems)} 个问题，未写入任何数据", err=True)
        sys.exit(1)
    except DomainError as exc:
        db.session.rollback()
        click.echo(f"导入被拒绝：{exc}；未写入任何数据", err=True)
        sys.exit(1)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    click.echo(summary)


def _options(fn):
    from app.cli import DATE

    fn = click.option("--today", type=DATE, default=None, help="导入日（默认今天）")(fn)
    fn = click.option("--dry-run", is_flag=True, help="只校验，不写入")(fn)
    return click.argument("file")(fn)


@import_cli.command("attendance")
@_options
def import_attendance_cmd(file: str, dry_run: bool, today: date | None) -> None:
    """导入培训出勤（培训名称+培训日期确定一次培训，新培训自动建立）"""
    _run(import_attendance, file, dry_run, today)


@import_cli.command("scores")
@_options
def import_scores_cmd(file: str, dry_run: bool, today: date | None) -> None:
    """导入考试成绩（考试名称+考试日期确定一场考试，新考试自动建立）"""
    _run(import_scores, file, dry_run, today)
