"""The training-session list as a spec (app/web/lists.py), and the ledger's export columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import case, func, select

from app.extensions import db
from app.labels import TRAINING_CATEGORIES
from app.models.training import Attendance, TrainingSession
from app.rules.hours import YEAR_STATUSES
from app.training import memo
from app.web.exports import Column
from app.web.lists import Criteria, Filter, FilterBar, Filtered, ListSpec


def session_filters(args: Mapping[str, str], _d: date) -> Filtered:
    c = Criteria(args)
    c.year("year", TrainingSession.held_on)
    c.choice("category", TRAINING_CATEGORIES, TrainingSession.category, "类别")
    c.text("q", lambda q: TrainingSession.title.contains(q, autoescape=True), limit=100)
    return c.filtered(select(TrainingSession), count_from=TrainingSession)


def attendance_counts(ids: Sequence[int]) -> dict[int, tuple[int, int, float]]:
    """{session_id: (enrolled, attended, credited hours)} in one query — of the user's officers:
    kept until the next write (app/training/memo.py; for a branch, the attendance's scope makes
    SQLite build the list of the branch's officers: 15 ms at 100,000 officers)."""
    if not ids:
        return {}
    kept = memo.remembered("session_counts", lambda: _counts(ids), ids=sorted(ids))
    return {int(sid): (n, att, hrs) for sid, (n, att, hrs) in kept.items()}


def _counts(ids: Sequence[int]) -> dict[str, list]:
    return {str(sid): [n, att or 0, hrs or 0] for sid, n, att, hrs in db.session.execute(
        select(Attendance.session_id, func.count(),
               func.sum(case((Attendance.status == "attended", 1), else_=0)),
               func.sum(Attendance.credited_hours))
        .where(Attendance.session_id.in_(ids)).group_by(Attendance.session_id))}


def session_export_rows(rows: Sequence[Any], _d: date) -> list[dict[str, Any]]:
    counts = attendance_counts([r.TrainingSession.id for r in rows])
    out = []
    for r in rows:
        s = r.TrainingSession
        n, att, hrs = counts.get(s.id, (0, 0, 0))
        out.append({"held_on": s.held_on, "title": s.title,
                    "category": TRAINING_CATEGORIES.get(s.category, s.category), "hours": float(s.hours),
                    "enrolled": n, "attended": att, "credited": float(hrs), "location": s.location or ""})
    return out


SESSIONS = ListSpec(
    title="培训", slug="training", entity="training_session", exact_count=True,  # its template shows 共 N 次
    filtered=session_filters, export_rows=session_export_rows,
    columns=[Column("日期", lambda r: r["held_on"], 16), Column("培训名称", lambda r: r["title"], 30),
             Column("类别", lambda r: r["category"], 12),
             Column("学时", lambda r: r["hours"], 8, number_format="0.0"),
             Column("参训人数", lambda r: r["enrolled"], 10), Column("出席人数", lambda r: r["attended"], 10),
             Column("认定学时合计", lambda r: r["credited"], 14, number_format="0.0"),
             Column("地点", lambda r: r["location"], 20)],
    sorts={"date": (TrainingSession.held_on,), "title": (TrainingSession.title,),
           "category": (TrainingSession.category,), "hours": (TrainingSession.hours,)},
    default_sort="-date", tiebreak=(TrainingSession.id.desc(),),
    bar=FilterBar("training", "training.index", (
        Filter("year", choices="years", all="全部年度"),
        Filter("category", choices=TRAINING_CATEGORIES, all="全部类别"),
        Filter("q", "text", placeholder="培训名称"))),
)

LEDGER_COLUMNS = [
    Column("单位", lambda r: r["unit"], 20), Column("姓名", lambda r: r["name"], 10),
    Column("身份证号", lambda r: r["id_number_masked"], 22),
    Column("认定学时", lambda r: r["hours"], 10, number_format="0.0"),
    Column("要求学时", lambda r: r["required"], 10, number_format="0.0"),
    Column("尚差学时", lambda r: r["shortfall"], 10, number_format="0.0"),
    Column("进度", lambda r: r["progress"], 8, number_format="0%"),
    Column("状态", lambda r: YEAR_STATUSES.get(r["status"], r["status"]), 10),
]


memo.register("session_counts", _counts)
