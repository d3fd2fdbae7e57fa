"""法定退休年龄 under the 2025 law (渐进式延迟法定退休年龄, in force from 2025-01-01): the one rule.

Each basis (the statutory age before the law) rises by one month for every `step` months of birth
date, counted from the first birth month the law reaches, up to a cap:

- men, 60: from births in January 1965, one month per four months of birth, up to 63;
- women whose age was 55 (cadres, the usual case): from January 1970, one per four, up to 58;
- women whose age was 50: from January 1975, one month per two months of birth, up to 55.

People born before the first step retire at the old age. The retirement date is the birth date plus
that age in years and months: the same day of the month, or the month's last day when it has none.
On the retirement date itself the person has retired. Docs: docs/domain.md 退休年龄与持证力量预测.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import NamedTuple


class Basis(NamedTuple):
    years: int        # the statutory age before the law
    first: date       # the first birth month whose age is raised
    step: int         # months of birth date per month of delay
    cap: int          # the most months of delay


# gender code (app/idnumber.gender: "M"/"F") and the woman's basis → the rule
RULES: dict[tuple[str, int], Basis] = {
    ("M", 60): Basis(60, date(1965, 1, 1), 4, 36),
    ("F", 55): Basis(55, date(1970, 1, 1), 4, 36),
    ("F", 50): Basis(50, date(1975, 1, 1), 2, 60),
}
WOMEN_BASES = (55, 50)
DEFAULT_BASIS = {"M": 60, "F": 55}


def add_months(d: date, months: int) -> date:
    """`d` plus whole calendar months: the same day of the month, or that month's last day."""
    total = d.year * 12 + (d.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def rule_for(gender: str, basis: int | None = None) -> Basis:
    """The rule for a gender code ("M"/"F") and, for a woman, her old statutory age (55 unless
    recorded as 50; a man's basis is always 60)."""
    if gender == "M":
        return RULES[("M", 60)]
    key = ("F", basis or DEFAULT_BASIS["F"])
    if key not in RULES:
        raise ValueError(f"原法定退休年龄只能是{'或'.join(map(str, WOMEN_BASES))}岁")
    return RULES[key]


def delay_months(birth_date: date, gender: str, basis: int | None = None) -> int:
    """Months added to the old statutory age for someone born on `birth_date`."""
    rule = rule_for(gender, basis)
    since = (birth_date.year - rule.first.year) * 12 + (birth_date.month - rule.first.month)
    if since < 0:
        return 0
    return min(since // rule.step + 1, rule.cap)


def retirement_age(birth_date: date, gender: str, basis: int | None = None) -> tuple[int, int]:
    """The statutory retirement age as (years, months)."""
    total = rule_for(gender, basis).years * 12 + delay_months(birth_date, gender, basis)
    return divmod(total, 12)


def retirement_date(birth_date: date, gender: str, basis: int | None = None) -> date:
    """The day the person reaches the statutory retirement age (from that day on: retired)."""
    years, months = retirement_age(birth_date, gender, basis)
    return add_months(birth_date, years * 12 + months)


def born_by_to_retire(day: date) -> date:
    """The last birth date of someone who can have reached a statutory retirement age by `day`:
    anyone born later is younger than the lowest age of every rule then (their retirement_date()
    is after `day`), so callers need not compute it."""
    youngest = min(rule.years for rule in RULES.values())
    return date(day.year - youngest, 12, 31)
