"""Reports over the compliance engine: filtering, counting, exporting, auditing exports.

The flags themselves come from `app.rules.compliance` only; this module never recomputes them. No
request, session or flash here: the web page and the `flask report` command share it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.labels import FLAG_REASONS, FLAGS, lookup
from app.models.officers import Unit
from app.rules import compliance
from app.web import exports

# `flask report <name>` → the flag codes it lists (None: every flag)
REPORTS: dict[str, list[str] | None] = {
    "flags": None,
    "unlicensed": ["UNLICENSED"],
    "expiring": ["EXPIRING"],
}
FORECAST_TITLE = "持证力量预测"


@dataclass
class FlagFilters:
    """What a person can narrow the flags list by (all optional)."""

    flag: str | None = None
    reason: str | None = None
    unit: str | None = None
    search: str | None = None
    id_partial: bool = False  # admins may search by the end of an ID number

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("flag", self.flag), ("reason", self.reason),
                                  ("unit", self.unit), ("q", self.search)) if v}

    def described(self) -> list[str]:
        """The filters in words, as the list's title row shows them."""
        return [*([f"问题：{FLAGS.get(self.flag, self.flag)}"] if self.flag else []),
                *([f"原因：{FLAG_REASONS.get(self.reason, self.reason)}"] if self.reason else []),
                *([f"单位：{self.unit}"] if self.unit else []), *([f"搜索：{self.search}"] if self.search else [])]


@dataclass
class FlagsResult:
    rows: list[dict[str, Any]]
    counts: dict[str, int] = field(default_factory=dict)  # per flag, under the other filters
    reasons: list[str] = field(default_factory=list)  # reasons present for the chosen flag
    total: int = 0  # rows matching every filter (all pages)


def flags_report(p: compliance.Params, f: FlagFilters, *, page: int | None = None,
                 per_page: int = 50) -> FlagsResult:
    """The flags matching `f` (one page of them when `page` is given, the last page when it is
    past the end), plus per-flag counts for the chips: one statement for a page (flags_page), a
    GROUP BY and the rows for the download."""
    if page is not None:
        by, rows, _shown = compliance.flags_page(p, flag=f.flag, reason=f.reason, unit=f.unit or None,
                                                 search=f.search or None, per_page=per_page, page=page,
                                                 id_partial=f.id_partial)
    else:
        by = compliance.count_by_flag_reason(p, unit=f.unit or None, search=f.search or None,
                                             id_partial=f.id_partial)
    counts = dict.fromkeys(compliance.FLAG_ORDER, 0)
    for (flag, _reason), n in by.items():
        counts[flag] += n
    reasons = sorted({r for (flag, r) in by if r and (not f.flag or flag == f.flag)})
    total = sum(n for (flag, r), n in by.items()
                if (not f.flag or flag == f.flag) and (not f.reason or r == f.reason))
    kw = {"flags": [f.flag] if f.flag else None, "unit": f.unit or None, "reason": f.reason or None,
          "search": f.search or None, "id_partial": f.id_partial}
    if page is None:
        rows = compliance.list_flags(p, **kw) if total else []
        return FlagsResult(rows=rows, counts=counts, reasons=reasons, total=len(rows))
    return FlagsResult(rows=rows, counts=counts, reasons=reasons, total=total)


def report_rows(name: str, p: compliance.Params, unit: str | None = None) -> list[dict[str, Any]]:
    """Rows of `flask report <name>` (JSON shape: docs/domain.md 命令行约定)."""
    return compliance.list_flags(p, flags=REPORTS[name], unit=unit)


def unit_names() -> list[str]:
    return list(db.session.scalars(select(Unit.name).order_by(Unit.sort_order, Unit.name_pinyin, Unit.name)))


def unit_exists(name: str) -> bool:
    return db.session.scalar(select(Unit.id).where(Unit.name == name)) is not None


def similar_units(name: str, limit: int = 5) -> list[str]:
    """A few unit names close to a mistyped one (for the error message; never the whole list)."""
    names = list(db.session.scalars(select(Unit.name)))
    close = difflib.get_close_matches(name, names, n=limit, cutoff=0.4)
    if len(close) < limit:
        close += [n for n in names if name and name in n and n not in close][: limit - len(close)]
    return close


def export_filename(title: str, today: date, ext: str) -> str:
    return f"{title}_{today.isoformat()}.{ext}"



def render(rows: list[dict[str, Any]], fmt: str, *, title: str = "", heading: str | None = None) -> bytes:
    """The flag rows in `fmt` (xlsx, csv); other reports call `exports` with their own columns.
    `heading`: a first row above the headers (the web export writes its filters there)."""
    if fmt == "xlsx":
        return exports.to_xlsx(rows, exports.FLAG_COLUMNS, sheet=title or "问题提示", title=heading)
    if fmt == "csv":
        return exports.to_csv(rows, exports.FLAG_COLUMNS)
    raise ValueError(f"unknown format {fmt}")



def flag_code(value: str | None) -> str | None:
    """A flag code from a code or its Chinese label; None when unknown or empty."""
    if not value:
        return None
    code = lookup(FLAGS, value)
    return code if code else (value.upper() if value.upper() in FLAGS else None)
