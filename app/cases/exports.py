"""The case list as table / CSV / .xlsx columns (one spec for the CLI and the web export)."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.formatting import cn_date
from app.labels import CASE_REASONS
from app.web.exports import Column


def problem_text(p: dict[str, Any]) -> str:
    label = CASE_REASONS.get(p["reason"], p["reason"])
    parts = [x for x in (p.get("certificate_number"), cn_date(p.get("date"))) if x]
    return f"{label}（{' '.join(parts)}）" if parts else label


def to_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r | {"problems_text": "；".join(problem_text(p) for p in r["problems"])} for r in rows]


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


CASE_COLUMNS = [
    Column("案号", lambda r: r["case_no"], 24),
    Column("案件名称", lambda r: r["title"], 24),
    Column("立案日期", lambda r: _d(r["opened_on"]), 12),
    Column("决定日期", lambda r: _d(r["decided_on"]), 12),
    Column("承办单位", lambda r: r.get("unit", ""), 16),
    Column("执法证号", lambda r: "、".join(r["certificate_numbers"]), 32),
    Column("核查结果", lambda r: "符合" if r["ok"] else "不符合", 10),
    Column("问题", lambda r: r["problems_text"], 50),
]
