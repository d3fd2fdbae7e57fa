"""Working days on the official calendar (docs/domain.md, 申请审批 — 办理期限).

Weekends are off, statutory holidays are off, and the weekend days worked in exchange (调休) are
working days. The calendar comes from `chinesecalendar` for the years it knows; for a later year an
administrator enters the year's holidays and worked weekend days (`calendar_day`, the page
/applications/calendar or `flask calendar set YEAR FILE`). A year known to neither is counted
Monday–Friday and the result is marked estimated (估算): nothing is refused for want of a calendar.

File format of `flask calendar set` (UTF-8 text), one day a line, `#` starts a comment:

    2027-01-01 休      # a holiday (no work)
    2027-02-07 班      # a weekend day worked (调休)
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import chinese_calendar
from sqlalchemy import delete, select

from app.audit.services import record
from app.errors import DomainError
from app.extensions import db
from app.models.applications import CalendarDay

OFF_WORDS = {"休", "假", "off", "holiday"}
WORK_WORDS = {"班", "work", "workday"}


def known_years() -> set[int]:
    """The years chinesecalendar holds data for."""
    return {d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays}


_KNOWN = known_years()


class Calendar:
    """Decides working days; reads the entered days of the years it is asked about once."""

    def __init__(self) -> None:
        self._entered: dict[int, dict[date, bool]] = {}

    def entered(self, year: int) -> dict[date, bool]:
        if year not in self._entered:
            rows = db.session.execute(select(CalendarDay.day, CalendarDay.workday).where(
                CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31))))
            self._entered[year] = dict(rows.all())
        return self._entered[year]

    def estimated(self, year: int) -> bool:
        return year not in _KNOWN and not self.entered(year)

    def is_workday(self, day: date) -> bool:
        own = self.entered(day.year)
        if day in own:
            return own[day]
        if day.year in _KNOWN:
            return chinese_calendar.is_workday(day)
        return day.weekday() < 5

    def add_working_days(self, start: date, n: int) -> tuple[date, bool]:
        """The n-th working day after `start` (start itself not counted), and whether a year on the
        way was counted Monday–Friday only (an estimate)."""
        day, left, estimated = start, n, False
        while left > 0:
            day += timedelta(days=1)
            estimated = estimated or self.estimated(day.year)
            if self.is_workday(day):
                left -= 1
        return day, estimated


LINE = re.compile(r"(\d{4}-\d{1,2}-\d{1,2})\s+(\S+)(?:\s+(.*))?")


def parse_days(text: str, year: int) -> list[tuple[date, bool, str]]:
    """The lines of a calendar file for `year`; DomainError naming each bad line."""
    out, problems, seen = [], [], set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = LINE.fullmatch(line)
        if not m:
            problems.append(f"第{number}行“{raw.strip()}”应写成 日期 休|班，如 {year}-01-01 休")
            continue
        try:
            day = date.fromisoformat("-".join(p.zfill(2) for p in m.group(1).split("-")))
        except ValueError:
            problems.append(f"第{number}行：日期“{m.group(1)}”不存在")
            continue
        word = m.group(2).strip().lower()
        if word not in OFF_WORDS | WORK_WORDS:
            problems.append(f"第{number}行：“{m.group(2)}”应为 休 或 班")
            continue
        if day.year != year:
            problems.append(f"第{number}行：{day.isoformat()} 不在 {year} 年")
            continue
        if day in seen:
            problems.append(f"第{number}行：{day.isoformat()} 重复")
            continue
        seen.add(day)
        out.append((day, word in WORK_WORDS, (m.group(3) or "").strip()[:50]))
    if problems:
        raise DomainError("；".join(problems))
    return out


def set_year(year: int, text: str) -> int:
    """Replace the entered days of `year` with those of `text` (audited); the number of days."""
    if not 2000 <= year <= 2100:
        raise DomainError(f"年份“{year}”应在 2000 到 2100 之间")
    days = parse_days(text, year)
    db.session.execute(delete(CalendarDay).where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31))))
    db.session.add_all(CalendarDay(day=d, workday=w, note=note) for d, w, note in days)
    db.session.flush()
    record("settings", "setting", None, f"设置 {year} 年工作日历（{len(days)} 天）",
           {"calendar": [None, f"{year}: {sum(not w for _d, w, _n in days)} 休, {sum(w for _d, w, _n in days)} 班"]})
    return len(days)


def year_text(year: int) -> str:
    """The entered days of `year` in the file format."""
    rows = db.session.execute(select(CalendarDay).where(
        CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31))).order_by(CalendarDay.day)).scalars()
    return "\n".join(f"{r.day.isoformat()} {'班' if r.workday else '休'}" + (f" {r.note}" if r.note else "")
                     for r in rows)
