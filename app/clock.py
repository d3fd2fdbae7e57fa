"""The one clock for business dates: every module asks here for "today" and "now".

Business days turn at midnight in the organisation's time zone (config ``TIMEZONE``, environment
variable of the same name, default Asia/Shanghai), whatever zone the server itself runs in: a server
on UTC still starts 15 June at 00:00 Beijing time, i.e. 16:00 UTC on 14 June.

Timestamps of rows (created_at, audit times) are stored as naive UTC (app.models_base.utcnow);
``to_local``/``from_local`` convert them for display and for times people type.

Tests set the date through the ``set_today`` fixture (tests/conftest.py), which patches this module.
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TIMEZONE = "Asia/Shanghai"


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone() -> ZoneInfo:
    """The organisation's time zone."""
    name = current_app.config.get("TIMEZONE") if has_app_context() else None
    return _zone(name or DEFAULT_TIMEZONE)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def now() -> datetime:
    """Wall-clock time in the organisation's zone, naive (as people read it)."""
    return _utcnow().astimezone(zone()).replace(tzinfo=None)


def today() -> date:
    return now().date()


def to_local(value: datetime) -> datetime:
    """A stored naive-UTC timestamp as the organisation's local time (naive)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone()).replace(tzinfo=None)


def from_local(value: datetime) -> datetime:
    """A naive local time someone typed, as naive UTC for storage."""
    return value.replace(tzinfo=zone()).astimezone(UTC).replace(tzinfo=None)
