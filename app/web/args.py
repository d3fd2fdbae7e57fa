"""Query-string arguments read forgivingly: a bad value is ignored, never an error page."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


def int_arg(args: Mapping[str, str], name: str, default: int | None = None,
            lo: int = 1, hi: int = 10**9) -> int | None:
    try:
        value = int(str(args.get(name, "")).strip())
    except ValueError:
        return default
    return value if lo <= value <= hi else default


def page_arg(args: Mapping[str, str]) -> int:
    return int_arg(args, "page", 1, 1, 10**6) or 1


def date_arg(args: Mapping[str, str], name: str) -> date | None:
    """2024-03-01, 2024/3/1, 2024.3.1 or 2024年3月1日; anything else is None."""
    m = _DATE.match(str(args.get(name, "") or ""))
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def text_arg(args: Mapping[str, str], name: str, limit: int = 50) -> str:
    return str(args.get(name, "") or "").strip()[:limit]


def choice_arg(args: Mapping[str, str], name: str, choices) -> str:
    value = str(args.get(name, "") or "")
    return value if value in choices else ""


def date_filter(args: Mapping[str, str], name: str, label: str, problems: list[str]) -> date | None:
    """A date filter: a value that is no date is ignored with a message saying what to type."""
    raw = str(args.get(name, "") or "").strip()
    if not raw:
        return None
    d = date_arg(args, name)
    if d is None:
        problems.append(f"{label}“{raw[:30]}”不是有效日期（例如 2024年3月1日 或 2024-03-01），已忽略")
    return d
