"""How dates and numbers read in Chinese (2024年3月1日)."""

from __future__ import annotations

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
