"""The exam list as a spec (app/web/lists.py): filters, sort keys, export columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import case, func, select

from app.extensions import db
from app.labels import EXAM_KINDS
from app.models.exams import Exam, ExamResult
from app.web.exports import Column
from app.web.lists import Criteria, Filter, FilterBar, Filtered, ListSpec


def exam_filters(args: Mapping[str, str], _d: date) -> Filtered:
    c = Criteria(args)
    c.year("year", Exam.held_on)
    c.choice("kind", EXAM_KINDS, Exam.kind, "类型")
    c.text("q", lambda q: Exam.title.contains(q, autoescape=True), limit=100)
    return c.filtered(select(Exam), count_from=Exam)


def passed_counts(ids: Sequence[int]) -> dict[int, tuple[int, int, int]]:
    """{exam_id: (candidates, takers, passed)} in one query."""
    if not ids:
        return {}
    rows = db.session.execute(
        select(ExamResult.exam_id, func.count(),
               func.sum(case((ExamResult.score.is_not(None) & ExamResult.absent.is_(False), 1), else_=0)),
               func.sum(case((ExamResult.passed, 1), else_=0)))
        .join(Exam, Exam.id == ExamResult.exam_id)
        .where(ExamResult.exam_id.in_(ids)).group_by(ExamResult.exam_id))
    return {eid: (n, t or 0, p or 0) for eid, n, t, p in rows}


def exam_export_rows(rows: Sequence[Any], _d: date) -> list[dict[str, Any]]:
    counts = passed_counts([r.Exam.id for r in rows])
    out = []
    for r in rows:
        e = r.Exam
        n, took, passed = counts.get(e.id, (0, 0, 0))
        out.append({"held_on": e.held_on, "title": e.title, "makeup": "是" if e.makeup_of_id else "否",
                    "kind": EXAM_KINDS.get(e.kind, e.kind), "max": float(e.max_score),
                    "pass": float(e.pass_score), "candidates": n, "took": took, "passed": passed})
    return out


EXAMS = ListSpec(
    title="考试", slug="exams", entity="exam", exact_count=True,  # its template shows 共 N 场
    filtered=exam_filters, export_rows=exam_export_rows,
    columns=[Column("日期", lambda r: r["held_on"], 16), Column("考试名称", lambda r: r["title"], 30),
             Column("补考", lambda r: r["makeup"], 6), Column("类型", lambda r: r["kind"], 12),
             Column("满分", lambda r: r["max"], 8), Column("合格分", lambda r: r["pass"], 8),
             Column("考生", lambda r: r["candidates"], 8), Column("参考", lambda r: r["took"], 8),
             Column("合格", lambda r: r["passed"], 8)],
    sorts={"date": (Exam.held_on,), "title": (Exam.title,), "kind": (Exam.kind,)},
    default_sort="-date", tiebreak=(Exam.id.desc(),),
    bar=FilterBar("exams", "exams.index", (
        Filter("year", "number", placeholder="年度", style="width:7em"),
        Filter("kind", choices=EXAM_KINDS, all="全部类型"),
        Filter("q", "text", placeholder="考试名称"))),
)
