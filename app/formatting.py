"""How dates and numbers read in Chinese (2024年3月1日), and a date as people type it."""

from __future__ import annotations

import re
from datetime import date, datetime

from app.clock import to_local


def cn_date(value: date | datetime | str | None) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return f"{value.year}年{value.month}月{value.day}日"


def cn_datetime(value: datetime | None) -> str:
    if not value:
        return ""
    local = to_local(value)  # stored in UTC; shown in the organisation's time
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def days_text(days: int | None) -> str:
    if days is None:
        return ""
    if days < 0:
        return f"已过期{-days}天"
    if days == 0:
        return "今天到期"
    return f"剩余{days}天"


def actor_label(actor: str | None) -> str:
    """Who did it, as stored in the audit log and certificate history ('cli:demo seed',
    'anonymous', a username), as a person reads it."""
    if not actor:
        return "—"
    if actor == "anonymous":
        return "匿名"
    if actor.startswith("cli:"):
        return f"命令行：{actor[4:].strip() or 'shell'}"
    return actor


# The spellings of a date the imports and the web forms accept: 2024-03-01 (also with / or . and
# a midnight time), 2024年3月1日, 20240301.
DATE_PATTERNS = [
    re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?:[ T]0{1,2}:0{1,2}(?::0{1,2})?)?$"),
    re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]


def read_date(text: str) -> date:
    """The date `text` (stripped, not blank) spells; ValueError saying what is wrong otherwise."""
    for pattern in DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            y, mo, d = (int(g) for g in m.groups())
            try:
                return date(y, mo, d)
            except ValueError:
                raise ValueError(f"日期“{text}”不存在") from None
    raise ValueError(f"“{text}”不是有效日期，应写成 2024-03-01、2024/3/1 或 2024年3月1日")
