"""The training requirement of each year (docs/domain.md, 年度学时): total, minimums per content
group, the most online hours that count, its source and the day the year's records close.

A year without its own rule takes the latest earlier one; with no rule at all the setting
`training_hours_required` is the total, with no minimums and no cap.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import date

from flask import g, has_app_context
from sqlalchemy import event, insert, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from app import clock
from app.audit.services import record
from app.errors import DomainError
from app.extensions import db
from app.formatting import cn_date
from app.models.settings import Setting
from app.models.training import Attendance, TrainingRule, TrainingSession
from app.models_base import utcnow
from app.settings import services as settings
from app.settings.services import _stored, get
from app.settings.services import forget as forget_settings


@dataclass(frozen=True)
class Rule:
    year: int | None  # the year the rule was set for; None: the setting (no rule at all)
    total: float
    minimums: tuple[tuple[str, float], ...] = ()
    online_max: float | None = None
    source: str = ""
    closes_on: date | None = None

    def minimum(self, group: str) -> float:
        return dict(self.minimums).get(group, 0.0)


def _row_rule(r: TrainingRule) -> Rule:
    mins = tuple((str(k), float(v)) for k, v in (r.minimums or {}).items())
    return Rule(r.year, float(r.total), mins, None if r.online_max is None else float(r.online_max),
                r.source or "", r.closes_on)


VERSION = "training_rules_version"  # a setting row, renewed by every change of the rules
_KEPT: dict[str, tuple[Rule, ...]] = {}  # the rules read under each version (this process)


def all_rules() -> tuple[Rule, ...]:
    """Every stored rule by year: kept in the process under the version the settings carry (read
    with them, so a page reads no rule of its own), read again when the version changes."""
    cache = g.get("_training_rules") if has_app_context() else None
    if cache is None:
        version = _stored().get(VERSION, "")
        cache = _KEPT.get(version)
        if cache is None:
            cache = tuple(_row_rule(r) for r in db.session.scalars(
                select(TrainingRule).order_by(TrainingRule.year)))
            _KEPT.clear()
            _KEPT[version] = cache
        if has_app_context():
            g._training_rules = cache
    return cache


def forget() -> None:
    if has_app_context():
        g.pop("_training_rules", None)


@event.listens_for(Session, "after_flush")
def _rules_after_flush(session, _ctx) -> None:
    """A rule written, changed or deleted (by the services or any ORM write): a new version of the
    rules, so every process reads them again (rules.hours recounts the hours after it, in the same
    transaction)."""
    years = {o.year for o in (*session.new, *session.dirty, *session.deleted) if isinstance(o, TrainingRule)}
    if not years:
        return
    stamp, now = uuid.uuid4().hex, utcnow()
    t = Setting.__table__
    done = session.execute(update(t).where(t.c.name == VERSION).values(value=stamp, updated_at=now))
    if not done.rowcount:
        session.execute(insert(t).values(name=VERSION, value=stamp, created_at=now, updated_at=now))
    forget_settings()
    forget()


def rule_for(year: int, rules: tuple[Rule, ...] | None = None, default_total: float | None = None) -> Rule:
    """The rule of `year`: its own, else the latest earlier one, else the setting's total."""
    rules = all_rules() if rules is None else rules
    chosen = None
    for r in rules:
        if r.year is not None and r.year <= year:
            chosen = r
    if chosen is not None:
        return chosen
    if default_total is None:
        default_total = float(get("training_hours_required"))
    return Rule(None, float(default_total))


def groups(rules: tuple[Rule, ...] | None = None) -> list[str]:
    """The content groups, in the order of the categories' mapping (then any group a rule names)."""
    out = list(dict.fromkeys(get("training_category_groups").values()))
    for r in all_rules() if rules is None else rules:
        out += [grp for grp, _ in r.minimums if grp not in out]
    return out


def category_groups() -> dict[str, str]:
    return get("training_category_groups")


def _hours(value, what: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise DomainError(f"{what}应为数字") from None
    if not math.isfinite(x) or x < 0 or x > 10000:
        raise DomainError(f"{what}应在 0 到 10000 之间")
    return x


def set_rule(year: int, total, minimums: dict[str, object], online_max=None, source: str = "",
             closes_on: date | None = None) -> TrainingRule:
    """Create or replace the rule of `year` (audited) and recount every officer's hours from
    that year on (the cap changes what counts). Flushes; the caller commits."""
    if not isinstance(year, int) or not 1990 <= year <= 2100:
        raise DomainError("年度应为 1990 到 2100 之间的年份")
    total = _hours(total, "年度总学时")
    if total <= 0:
        raise DomainError("年度总学时应大于 0")
    known = list(dict.fromkeys(category_groups().values()))
    mins: dict[str, float] = {}
    for grp, hours in (minimums or {}).items():
        grp = str(grp).strip()
        if grp not in known:
            raise DomainError(f"未知的内容类别“{grp}”，可选：{'、'.join(known)}（在系统设置“培训内容类别”中设定）")
        mins[grp] = _hours(hours, f"“{grp}”的最低学时")
    if sum(mins.values()) > total:
        raise DomainError("各内容类别最低学时之和不能超过年度总学时")
    cap = None if online_max in (None, "") else _hours(online_max, "线上学时上限")
    source = (source or "").strip()
    if len(source) > 500:
        raise DomainError("依据不能超过500个字")
    if closes_on is not None and closes_on.year < year:
        raise DomainError("记录截止日期不能早于该年度")
    row = db.session.get(TrainingRule, year)
    new = {"total": total, "minimums": mins, "online_max": cap, "source": source,
           "closes_on": closes_on.isoformat() if closes_on else None}
    if row is None:
        old = None
        row = TrainingRule(year=year)
        db.session.add(row)
    else:
        old = {"total": row.total, "minimums": row.minimums, "online_max": row.online_max,
               "source": row.source, "closes_on": row.closes_on.isoformat() if row.closes_on else None}
    row.total, row.minimums, row.online_max, row.source, row.closes_on = total, mins, cap, source, closes_on
    db.session.flush()  # recounts the hours (rules.hours._rules_after_flush)
    changes = {k: [None if old is None else old[k], v] for k, v in new.items() if old is None or old[k] != v}
    record("update" if old else "create", "training_rule", year, f"{year}年度学时要求", changes)
    return row


def delete_rule(year: int) -> None:
    row = db.session.get(TrainingRule, year)
    if row is None:
        raise DomainError(f"{year}年度没有单独的学时要求")
    db.session.delete(row)
    db.session.flush()  # recounts the hours (rules.hours._rules_after_flush)
    record("delete", "training_rule", year, f"删除{year}年度学时要求", {"total": [row.total, None]})


def describe(rule: Rule) -> str:
    def n(x: float) -> str:
        return f"{x:g}"

    parts = [f"总学时 {n(rule.total)}"]
    parts += [f"{grp}不少于 {n(h)}" for grp, h in rule.minimums]
    if rule.online_max is not None:
        parts.append(f"线上学时最多计 {n(rule.online_max)}")
    return "，".join(parts)


# --- closing a year's records (docs/domain.md, 年度学时) -------------------------------------------

LATE = "late_entry_reason"  # session.info: the reason an admin gave for writing a closed year


def closes(year: int) -> date | None:
    """The day `year`'s records close: only the year's own rule's closes_on (an earlier year's
    rule taken over does not close this year)."""
    for r in all_rules():
        if r.year == year:
            return r.closes_on
    return None


def closed_since(year: int, today: date | None = None) -> date | None:
    """The closing day when `year`'s records are closed on `today` (after that day), else None."""
    day = closes(year)
    return day if day is not None and (today or clock.today()) > day else None


def closed_message(year: int, day: date) -> str:
    return (f"{year}年度培训记录已于{cn_date(day)}截止，不能再登记、修改或删除该年度的出勤；"
            "确需补录的，请由系统管理员填写补录理由")


def allow_late(reason: str) -> None:
    """Let this transaction write attendance of closed years, for `reason` (an admin's, checked by
    the caller); each closed year written is audited with it."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("补录理由不能为空")
    if len(reason) > 500:
        raise DomainError("补录理由不能超过500个字")
    db.session.info[LATE] = reason


def check_years(session, years: set[int]) -> None:
    """Refuse writes to closed years unless allow_late() was called: then audit each year once."""
    if not years or not any(r.closes_on for r in all_rules()):
        return
    for year in sorted(years):
        day = closed_since(year)
        if day is None:
            continue
        reason = session.info.get(LATE)
        if not reason:
            raise DomainError(closed_message(year, day))
        noted = session.info.setdefault("late_entry_noted", set())
        if year not in noted:
            noted.add(year)
            record("late_entry", "training_rule", year, f"补录已截止的{year}年度培训记录：{reason}",
                   {"reason": [None, reason]})


@event.listens_for(Session, "before_flush")
def _closed_years_before_flush(session, _ctx, _instances) -> None:
    """Attendance rows written, changed or removed, and sessions moved, re-timed or removed, in a
    closed year: refused (DomainError) without an admin's reason."""
    if not any(r.closes_on for r in all_rules()):
        return
    session_ids: set[int] = set()
    years: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Attendance):
            if obj in session.dirty and not session.is_modified(obj):
                continue
            if obj.session is not None and obj.session.held_on is not None:
                years.add(obj.session.held_on.year)
            elif obj.session_id is not None:
                session_ids.add(obj.session_id)
        elif isinstance(obj, TrainingSession) and obj not in session.new:
            attrs = sa_inspect(obj).attrs
            if obj in session.deleted or any(getattr(attrs, a).history.has_changes()
                                             for a in ("held_on", "hours", "online", "category")):
                years.update(d.year for d in (*attrs.held_on.history.deleted, obj.held_on) if d is not None)
    if session_ids:
        years.update(d.year for d in session.execute(
            select(TrainingSession.held_on).where(TrainingSession.id.in_(sorted(session_ids)))).scalars())
    check_years(session, years)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_late(session) -> None:
    session.info.pop(LATE, None)
    session.info.pop("late_entry_noted", None)


# the settings page shows the rules and the content groups beside the settings
settings.show_on_page("training_rules", all_rules)
settings.show_on_page("training_groups", groups)
