"""The one clock for business dates: every module asks here for "today" and "now".

Tests set the date through the ``set_today`` fixture (tests/conftest.py), which patches this module.
Timestamps of rows (created_at, audit times) come from app.models_base.utcnow, not from here.
"""
from __future__ import annotations

from datetime import date, datetime


def today() -> date:
    return date.today()


def now() -> datetime:
    return datetime.now()
