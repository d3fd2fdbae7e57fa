"""Card numbers from a pattern (setting certificate_number_pattern), e.g. {地区码}{年份:2}{序号:06}:
the region code (setting region_code), the issue year (2 or 4 digits), and a sequence number,
zero-padded, one more than the highest of the numbers with the same prefix and suffix."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models.certificates import Certificate
from app.settings import services as settings

FIELD = re.compile(r"\{([^{}:]+)(?::(\d+))?\}")
NAMES = {"地区码", "年份", "序号"}


def check_pattern(pattern: str) -> str | None:
    """None when the pattern can be used; otherwise what is wrong with it."""
    names = [m.group(1) for m in FIELD.finditer(pattern)]
    unknown = [n for n in names if n not in NAMES]
    if unknown:
        return f"未知的编号字段“{unknown[0]}”，可用：{{地区码}}、{{年份:2}} 或 {{年份:4}}、{{序号:06}}"
    if names.count("序号") != 1:
        return "编号规则须含一个 {序号:位数}，如 {序号:06}"
    rest = FIELD.sub("", pattern)
    if "{" in rest or "}" in rest:
        return "花括号不成对"
    for m in FIELD.finditer(pattern):
        if m.group(1) == "年份" and m.group(2) not in (None, "2", "4"):
            return "{年份} 只能取 2 位或 4 位，如 {年份:2}"
    return None


def next_number(pattern: str, region: str, issued_on: date) -> str:
    """The next free number for this pattern on this issue date (one query)."""
    seq = None
    prefix, suffix, target = "", "", "prefix"
    pos = 0
    for m in FIELD.finditer(pattern):
        literal = pattern[pos:m.start()]
        name, width = m.group(1), m.group(2)
        if name == "序号":
            prefix += literal
            seq = int(width or "1")
            target = "suffix"
        else:
            value = region if name == "地区码" else (str(issued_on.year)[-2:] if width == "2" else str(issued_on.year))
            if target == "prefix":
                prefix += literal + value
            else:
                suffix += literal + value
        pos = m.end()
    suffix += pattern[pos:]
    numbers = db.session.scalars(select(Certificate.number).where(
        Certificate.number.startswith(prefix, autoescape=True)).execution_options(scope_all=True))
    highest = 0
    for number in numbers:
        middle = number[len(prefix):len(number) - len(suffix) if suffix else None]
        if (not suffix or number.endswith(suffix)) and middle.isdigit():
            highest = max(highest, int(middle))
    return f"{prefix}{highest + 1:0{seq}d}{suffix}"


settings.add_check("certificate_number_pattern", lambda pattern: check_pattern(pattern) if pattern else None)
