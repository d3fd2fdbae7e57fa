"""Query-string arguments read forgivingly: a bad value is ignored, never an error page."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask import request

from app.forms import parse_date


def int_arg(args: Mapping[str, str], name: str, default: int | None = None,
            lo: int = 1, hi: int = 10**9) -> int | None:
    try:
        value = int(str(args.get(name, "")).strip())
    except ValueError:
        return default
    return value if lo <= value <= hi else default


def query_int(name: str, default: int | None = None, lo: int = 1900, hi: int = 2999) -> int | None:
    """An integer from the current request's query string (a year unless lo/hi say otherwise)."""
    return int_arg(request.args, name, default, lo, hi)


PAGE_MAX = 10**6  # no list has a million pages; far below any integer column's limit


def page_arg(args: Mapping[str, str] | None = None) -> int:
    """THE page number of every list (`?page=`; the current request's when `args` is None): an
    integer clamped to 1..PAGE_MAX (a page past the end shows the last page); anything that is
    not an integer is page 1."""
    if args is None:
        args = request.args
    try:
        value = int(str(args.get("page", "") or "").strip()[:30])
    except ValueError:
        return 1
    return min(max(value, 1), PAGE_MAX)


def text_arg(args: Mapping[str, str], name: str, limit: int = 50) -> str:
    return str(args.get(name, "") or "").strip()[:limit]


def date_filter(args: Mapping[str, str], name: str, label: str, problems: list[str]) -> date | None:
    """A date filter: a value that is no date is ignored with a message saying what to type."""
    raw = str(args.get(name, "") or "").strip()[:30]
    if not raw:
        return None
    try:
        return parse_date(raw)
    except ValueError as exc:
        problems.append(f"{label}：{exc}，已忽略")
        return None
