"""The set-based compliance engine against a slow, obviously-correct Python reading of docs/domain.md,
on a random data set of a few hundred officers and several `today`s."""

from __future__ import annotations

import calendar
import json
import random
from datetime import date, datetime, timedelta

import pytest

from app.extensions import db as _db
from app.idnumber import mask
from app.labels import TRAINING_CATEGORIES
from app.models.certificates import Certificate
from app.models.officers import Officer, Unit
from app.models.training import Attendance, TrainingSession
from app.rules import compliance
from app.rules import training as training_rules
from app.settings.services import DEFAULT_GROUPS
from tests.factories import id_number

STATUSES = ["valid"] * 6 + ["applying", "suspended", "cancelled", "revoked", "lost", "replaced"]
EMPLOYMENT = ["active"] * 8 + ["transferred", "retired", "resigned", "dismissed"]
ESTABLISHMENTS = ["civil_servant"] * 5 + ["public_institution", "contract", "temporary", "auxiliary"]
TODAYS = [date(2025, 1, 1), date(2026, 6, 15), date(2026, 12, 31), date(2027, 3, 1)]
ELIGIBLE = ("civil_servant", "public_institution")


def build(rng: random.Random, n: int = 300) -> dict:
    """Officers, certificates (0–4 each, every status, dates around the `today`s), training."""
    units = [Unit(name=f"随机单位{i}", kind="department", sort_order=rng.randint(0, 3)) for i in range(9)]
    _db.session.add_all(units)
    _db.session.flush()
    officers = []
    for _i in range(n):
        officers.append(Officer(
            name=f"人员{rng.randint(0, 60):02d}", id_number=id_number(), gender="M",
            birth_date=date(1980, 1, 1), unit_id=rng.choice(units).id, position="科员",
            establishment=rng.choice(ESTABLISHMENTS), on_enforcement_post=rng.random() < 0.8,
            employment_status=rng.choice(EMPLOYMENT), phone="",
            # when the row was recorded: irrelevant to every rule (an import can record anyone any day)
            created_at=datetime(rng.choice([2020, 2024, 2025, 2026, 2027]), rng.randint(1, 12), rng.randint(1, 28), 9),
            # 任执法岗位日期: mostly unknown, else long ago or during the years the todays look at
            # (some after 1 October: that year is not judged; some after a `today`)
            post_since=None if rng.random() < 0.5 else rng.choice([
                date(2019, 3, 1), date(2025, 1, 1), date(2025, 10, 1), date(2025, 10, 2),
                date(rng.choice([2024, 2025, 2026, 2027]), rng.randint(1, 12), rng.randint(1, 28))])))
    _db.session.add_all(officers)
    _db.session.flush()
    number = 0
    base = date(2026, 6, 15)
    for o in officers:
        for _ in range(rng.choice([0, 1, 1, 1, 2, 2, 3, 4])):
            number += 1
            issued = base + timedelta(days=rng.randint(-2500, 700))
            if rng.random() < 0.15:  # same issue date as another card: the id breaks the tie
                issued = base
            expires = issued + timedelta(days=rng.choice([0, 30, 200, 400, 800, 1825]))
            _db.session.add(Certificate(
                officer_id=o.id, kind="enforcement" if rng.random() < 0.85 else "supervision",
                number=f"R{number:06d}", issued_on=issued, expires_on=expires,
                status=rng.choice(STATUSES)))
    sessions = []
    for s in range(40):
        sessions.append(TrainingSession(
            title=f"培训{s}", category=rng.choice(list(TRAINING_CATEGORIES)),
            held_on=date(2024, 6, 1) + timedelta(days=rng.randint(0, 1100)),
            hours=rng.choice([2.0, 4.0, 8.0, 16.0, 24.0]), online=rng.random() < 0.4))
    _db.session.add_all(sessions)
    _db.session.flush()
    for s in sessions:
        for o in rng.sample(officers, rng.randint(20, 150)):
            status = rng.choice(["attended"] * 4 + ["absent", "excused", "registered"])
            credited = s.hours if status == "attended" and rng.random() < 0.9 else (
                rng.choice([0.5, 1.0, 1.5]) if status == "attended" else 0.0)
            _db.session.add(Attendance(session_id=s.id, officer_id=o.id, status=status, credited_hours=credited))
    _db.session.flush()
    return {"officers": officers, "sessions": sessions}


def owed(o: Officer, year: int, until: date, required: float) -> float:
    """docs/domain.md: required × the days on the post in [1 January, until] / the days of the year."""
    first, ndays = date(year, 1, 1), 366 if calendar.isleap(year) else 365
    post = o.post_since
    if post is None or post <= first:
        return required * ((until - first).days + 1) / ndays
    if post > until:
        return 0.0
    return required / ndays * ((until - post).days + 1)


def judged(o: Officer, year: int, since: int | None) -> bool:
    return (since is None or year >= since) and (o.post_since is None or o.post_since <= date(year, 10, 1))


def rule_of(rules: list[dict], year: int, required: float) -> dict:
    """The rule of `year`: its own, else the latest earlier one, else `required` alone."""
    earlier = [r for r in rules if r["year"] <= year]
    if not earlier:
        return {"total": required, "minimums": {}, "online_max": None}
    return max(earlier, key=lambda r: r["year"])


def number(x: float):
    x = round(x, 2)
    return int(x) if x.is_integer() else x


def counted_hours(rules: list[dict], required: float
                  ) -> tuple[dict[tuple[int, int], float], dict[tuple[int, int, str], float]]:
    """Counted hours per (officer, year) and per (officer, year, group): online hours past the
    year's cap dropped, the earliest online sessions (by date, then id) keeping theirs."""
    hours: dict[tuple[int, int], float] = {}
    group_hours: dict[tuple[int, int, str], float] = {}
    online_used: dict[tuple[int, int], float] = {}
    pairs = sorted(_db.session.query(Attendance, TrainingSession).join(TrainingSession),
                   key=lambda p: (p[1].held_on, p[1].id))
    for a, s in pairs:
        if a.status != "attended":
            continue
        key = (a.officer_id, s.held_on.year)
        counted = a.credited_hours
        cap = rule_of(rules, s.held_on.year, required)["online_max"]
        if s.online and cap is not None:
            used = online_used.get(key, 0.0)
            counted = max(0.0, min(a.credited_hours, cap - used))
        if s.online:
            online_used[key] = online_used.get(key, 0.0) + a.credited_hours
        hours[key] = hours.get(key, 0.0) + counted
        gkey = (*key, DEFAULT_GROUPS[s.category])
        group_hours[gkey] = group_hours.get(gkey, 0.0) + counted
    return hours, group_hours


def unlicensed_reason(latest: Certificate | None, today: date) -> str:
    """Why an officer on post holds no effective enforcement certificate, from their latest one."""
    if latest is None:
        return "none"
    elif latest.status == "valid" and latest.issued_on > today:
        return "not_yet_valid"
    elif latest.status == "valid" and latest.expires_on < today:
        return "expired"
    else:
        return latest.status


def gaps(o: Officer, year: int, until: date, rules: list[dict], required: float,
         hours: dict[tuple[int, int], float], group_hours: dict[tuple[int, int, str], float]):
    """What the officer still owed of a year's hours by `until`: the groups short and the total gap."""
    rule = rule_of(rules, year, required)
    due = owed(o, year, until, rule["total"])
    total_gap = max(due - hours.get((o.id, year), 0.0), 0.0)
    missing = []
    for grp, minimum in rule["minimums"].items():
        got, want = group_hours.get((o.id, year, grp), 0.0), owed(o, year, until, minimum)
        if minimum > 0 and got < want:
            missing.append({"group": grp, "hours": number(want - got)})
    return missing, total_gap


def oracle(today: date, within: int, required: float, since: int | None = None,
           rules: list[dict] | None = None) -> list[dict]:
    """docs/domain.md (合规提示, 年度学时), read literally, one officer at a time, in Python."""
    rules = rules or []
    units = {u.id: u for u in _db.session.query(Unit)}
    officers = list(_db.session.query(Officer))
    certs: dict[int, list[Certificate]] = {}
    for c in _db.session.query(Certificate):
        certs.setdefault(c.officer_id, []).append(c)
    hours, group_hours = counted_hours(rules, required)

    def row(flag, reason, o, c):
        return {"flag": flag, "reason": reason, "officer_id": o.id, "name": o.name,
                "id_number_masked": mask(o.id_number), "unit": units[o.unit_id].name,
                "certificate_number": c.number if c else None,
                "expires_on": c.expires_on.isoformat() if c else None,
                "days_left": (c.expires_on - today).days if c else None}

    out = []
    certified_per_unit: dict[int, int] = {}
    for o in officers:
        enf = [c for c in certs.get(o.id, []) if c.kind == "enforcement"]
        effective = [c for c in enf if c.status == "valid" and c.issued_on <= today <= c.expires_on]
        best = max(effective, key=lambda c: (c.expires_on, c.id)) if effective else None
        latest = max(enf, key=lambda c: (c.issued_on, c.id)) if enf else None
        active = o.employment_status == "active"
        on_post = active and o.on_enforcement_post
        if on_post:
            certified_per_unit.setdefault(o.unit_id, 0)
            if best:
                certified_per_unit[o.unit_id] += 1
        if on_post and best is None:
            out.append(row("UNLICENSED", unlicensed_reason(latest, today), o, latest))
        if on_post and best is not None and (best.expires_on - today).days <= within:
            out.append(row("EXPIRING", "expiring", o, best))
        held = [c for c in enf if c.status in ("valid", "suspended") and c.expires_on >= today]
        if not on_post and held:
            out.append(row("SHOULD_CANCEL", "not_active" if not active else "off_post", o,
                           max(held, key=lambda c: (c.expires_on, c.id))))
        if active and o.establishment not in ELIGIBLE and (o.on_enforcement_post or best is not None):
            out.append(row("INELIGIBLE", o.establishment, o, best))
        # what the officer owed (pro rata from post_since) in the years judged; never when the row
        # was created
        if on_post:
            y = today.year
            prev_missing, prev_gap = gaps(o, y - 1, date(y - 1, 12, 31), rules, required, hours, group_hours)
            cur_missing, cur_gap = gaps(o, y, today, rules, required, hours, group_hours)
            prev_short = judged(o, y - 1, since) and (prev_gap > 0 or bool(prev_missing))
            cur_short = judged(o, y, since) and (cur_gap > 0 or bool(cur_missing))
            if prev_short:
                out.append({**row("TRAINING_SHORTFALL", "shortfall", o, None), "year": today.year - 1,
                            "missing": prev_missing, "total_gap": number(prev_gap)})
            elif cur_short:
                out.append({**row("TRAINING_SHORTFALL", "at_risk", o, None), "year": today.year,
                            "missing": cur_missing, "total_gap": number(cur_gap)})
    for unit_id, n in certified_per_unit.items():
        if n < 2:
            out.append({"flag": "UNIT_UNDERSTAFFED", "reason": "understaffed", "officer_id": None, "name": None,
                        "id_number_masked": None, "unit": units[unit_id].name, "certificate_number": None,
                        "expires_on": None, "days_left": None})
    return out


def canon(rows: list[dict]) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True, ensure_ascii=False) for r in rows)


@pytest.mark.parametrize("seed", [1, 2])
def test_engine_matches_python_reading_of_the_rules(db, seed):
    rng = random.Random(seed)
    data = build(rng)
    for today in TODAYS:
        for within, since in ((30, None), (90, None), (90, 2026), (90, 2027)):
            p = compliance.Params(today=today, within=within, eligible=ELIGIBLE, hours_required=60.0,
                                  records_since=since)
            got = compliance.list_flags(p)
            want = oracle(today, within, 60.0, since)
            assert canon(got) == canon(want), (today, within, since)
            assert since is not None or len({r["flag"] for r in want}) >= 5  # the data exercises most flags
            counts = compliance.count_by_flag(p)
            assert counts == {f: sum(r["flag"] == f for r in want) for f in compliance.FLAG_ORDER}
            for o in data["officers"][:15]:  # the detail page's one-officer path agrees too
                mine = [{k: v for k, v in r.items() if k not in ("missing", "total_gap")}
                        for r in want if r["officer_id"] == o.id]
                assert canon(compliance.officer_flags(p, o.id)) == canon(mine)

    # Writes after the fact (a grid edit, a session moved to another year, a removal) keep the
    # hours the shortfall rule reads current, in the same transaction.
    att = _db.session.query(Attendance).filter_by(status="absent").first()
    att.status, att.credited_hours = "attended", 24.0
    data["sessions"][0].held_on = date(2025, 2, 1)
    _db.session.delete(_db.session.query(Attendance).filter_by(status="attended").first())
    _db.session.flush()
    p = compliance.Params(today=date(2026, 6, 15), within=90, eligible=ELIGIBLE, hours_required=60.0)
    assert canon(compliance.list_flags(p)) == canon(oracle(p.today, 90, 60.0))


# Random rules: minimums per content group, online caps (one year without: the earlier cap ends),
# a year taking the latest earlier rule; set through the service (which recounts every officer).
RULE_SETS = [
    [{"year": 2025, "total": 40.0, "minimums": {"公共法律知识": 10.0, "专门法律知识": 8.0}, "online_max": 12.0},
     {"year": 2026, "total": 30.0, "minimums": {"执法技能": 4.0}, "online_max": None},
     {"year": 2027, "total": 36.0, "minimums": {"公共法律知识": 6.0, "执法技能": 2.5}, "online_max": 9.5}],
    [{"year": 2024, "total": 20.0, "minimums": {"专门法律知识": 6.0}, "online_max": 4.0}],
]


@pytest.mark.parametrize("seed", [4, 5])
def test_engine_with_rules_matches_python_reading(db, seed):
    rng = random.Random(seed)
    data = build(rng, n=200)
    seen_missing = 0
    for rules in RULE_SETS:
        rules = [{**r, "online_max": rng.choice([r["online_max"], 2.0, 17.5, None])} for r in rules]
        for old in training_rules.all_rules():
            training_rules.delete_rule(old.year)
        for r in rules:
            training_rules.set_rule(r["year"], r["total"], r["minimums"], r["online_max"])
        for today in TODAYS:
            for since in (None, 2026):
                p = compliance.Params(today=today, within=90, eligible=ELIGIBLE, hours_required=60.0,
                                      records_since=since, rules=training_rules.all_rules())
                want = oracle(today, 90, 60.0, since, rules)
                assert canon(compliance.list_flags(p)) == canon(want), (today, since, rules)
                seen_missing += sum(bool(r.get("missing")) for r in want)
                counts = compliance.count_by_flag(p)
                assert counts["TRAINING_SHORTFALL"] == sum(r["flag"] == "TRAINING_SHORTFALL" for r in want)
                for o in data["officers"][:10]:  # the detail page's flags: without the details
                    mine = [{k: v for k, v in r.items() if k not in ("missing", "total_gap")}
                            for r in want if r["officer_id"] == o.id]
                    assert canon(compliance.officer_flags(p, o.id)) == canon(mine)
        # a session switched to 线上 and another moved: the counted hours follow in the same flush
        data["sessions"][1].online = not data["sessions"][1].online
        data["sessions"][2].held_on = date(2026, 1, 5)
        _db.session.flush()
        p = compliance.Params(today=date(2026, 6, 15), within=90, eligible=ELIGIBLE, hours_required=60.0,
                              rules=training_rules.all_rules())
        assert canon(compliance.list_flags(p)) == canon(oracle(p.today, 90, 60.0, None, rules))
    assert seen_missing > 20  # the data exercises the minimums


def test_one_statement_page_matches_the_full_list(db):
    """The flags page's single statement (counts + one page) agrees with the whole list cut in
    Python, for filters, every page, and a page past the end (shown as the last page)."""
    build(random.Random(3), n=150)
    p = compliance.Params(today=date(2026, 6, 15), within=90, eligible=ELIGIBLE, hours_required=60.0)
    for flag, reason, unit in [(None, None, None), ("UNLICENSED", None, None), ("UNLICENSED", "expired", None),
                               ("TRAINING_SHORTFALL", None, "随机单位3"), (None, None, "随机单位1")]:
        everything = compliance.list_flags(p, flags=[flag] if flag else None, reason=reason, unit=unit)
        under = compliance.list_flags(p, unit=unit)
        pages = max(1, -(-len(everything) // 20))
        for page in [*range(1, pages + 1), pages + 5]:
            counts, rows, shown = compliance.flags_page(p, flag=flag, reason=reason, unit=unit, per_page=20,
                                                        page=page)
            assert shown == min(page, pages)
            assert rows == everything[(shown - 1) * 20: shown * 20], (flag, reason, unit, page)
            assert sum(counts.values()) == len(under)
