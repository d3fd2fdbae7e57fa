"""持证力量预测: who will still be able to act in each unit over the coming months.

A **holder on day D** (D ≥ today) is an officer in service on an enforcement post, of an eligible
establishment (the setting the flags use), whose enforcement card is effective on D — with the
statuses recorded as of today, no change assumed after today but the expiry, a card issued after
today counting from its issue date (CardHistory.effective_span) — and D is before the officer's
retirement date (app/retirement.py; on that day they no longer count).

Set-wise: the units, and the officers' cards with each card's span (the state its history records
as of today, decided in SQL) are two statements for any number of officers; the days are swept in
Python (per unit: a difference array summed with itertools.accumulate), the retirement date
computed only for the officers old enough to reach a retirement age by the last day
(retirement.born_by_to_retire). docs/domain.md 退休年龄与持证力量预测.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate

from sqlalchemy import case, exists, select
from sqlalchemy.sql import Select

from app.extensions import db
from app.formatting import cn_date
from app.models.officers import Officer, Unit
from app.retirement import add_months, born_by_to_retire, retirement_date
from app.rules.timeline import effective_spans
from app.settings import services as settings
from app.sheets import Column, write_xlsx
from app.web.exports import to_table as table

DEFAULT_MONTHS = (3, 6, 12)


@dataclass
class Loss:
    officer_id: int
    name: str
    sort_name: str
    reason: str  # "expires" | "retires"
    on: date     # the first day the officer no longer counts
    certificate_number: str

    def as_json(self) -> dict:
        return {"name": self.name, "reason": self.reason, "on": self.on.isoformat(),
                "certificate_number": self.certificate_number}


@dataclass
class UnitForecast:
    unit_id: int
    unit: str
    now: int
    months: dict[int, int]
    below_two_on: date | None
    losses: list[Loss] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"unit": self.unit, "now": self.now,
                "months": {str(k): v for k, v in self.months.items()},
                "below_two_on": self.below_two_on.isoformat() if self.below_two_on else None,
                "losses": [loss.as_json() for loss in self.losses]}


@dataclass
class Forecast:
    today: date
    months: tuple[int, ...]
    end: date
    units: list[UnitForecast]

    def as_json(self) -> dict:
        return {"today": self.today.isoformat(), "units": [u.as_json() for u in self.units]}

    def below_two_within(self, months: int) -> list[UnitForecast]:
        """The units that fall below two holders on or before today + `months` months."""
        limit = add_months(self.today, months)
        return [u for u in self.units if u.below_two_on is not None and u.below_two_on <= limit]


def parse_months(text: str | None) -> tuple[int, ...]:
    """'3,6,12' → (3, 6, 12), sorted, each once. Raises ValueError with a message in Chinese."""
    if text is None or not str(text).strip():
        return DEFAULT_MONTHS
    values = set()
    for part in str(text).replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= 120:
            raise ValueError(f"月数“{part}”应为 1 到 120 之间的整数，多个用逗号分隔，如 3,6,12")
        values.add(int(part))
    if not values:
        raise ValueError("请给出月数，如 3,6,12")
    return tuple(sorted(values))


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of day spans (day numbers, both ends included): adjoining or overlapping spans become one."""
    merged: list[tuple[int, int]] = []
    for first, last in sorted(spans):
        if merged and first <= merged[-1][1] + 1:
            if last > merged[-1][1]:
                merged[-1] = (merged[-1][0], last)
        else:
            merged.append((first, last))
    return merged


def eligible_establishments() -> tuple[str, ...]:
    """The setting the flags read (compliance.Params.from_settings: eligible)."""
    return tuple(settings.get("eligible_establishments"))


def card_spans(today: date, end: date, officer_where) -> Select:
    """One row per enforcement card of the officers matching `officer_where` that is effective on
    some day from `today` to `end` (app/rules/timeline.py effective_spans). Columns: id, number,
    `first` and `last` (the span, as days after today) and the officer's officer_id, unit_id, name,
    name_pinyin, gender, retirement_basis and birth_date — NULL for an officer too young to reach a
    retirement age by `end`
    (retirement.born_by_to_retire), whose retirement date need not be computed."""
    born_by = born_by_to_retire(end)
    return effective_spans(today, end, *officer_where).add_columns(
        Officer.id.label("officer_id"), Officer.unit_id, Officer.name, Officer.name_pinyin, Officer.gender,
        case((Officer.birth_date <= born_by, Officer.birth_date)).label("birth_date"), Officer.retirement_basis)


def compute(today: date, months: tuple[int, ...] = DEFAULT_MONTHS, unit: str | None = None,
            unit_id: int | None = None) -> Forecast:
    """The forecast for every unit with an officer on an enforcement post (or the one named)."""
    months = tuple(sorted(set(months))) or DEFAULT_MONTHS
    end = add_months(today, max(months))
    eligible = eligible_establishments()

    on_post = exists().where(Officer.unit_id == Unit.id, Officer.on_post)
    q = select(Unit.id, Unit.name).where(on_post).order_by(Unit.sort_order, Unit.name_pinyin, Unit.name)
    if unit is not None:
        q = q.where(Unit.name == unit)
    if unit_id is not None:
        q = q.where(Unit.id == unit_id)
    units = db.session.execute(q).all()
    unit_ids = [u.id for u in units]
    if not unit_ids:
        return Forecast(today, months, end, [])
    officer_where = (Officer.on_post, Officer.establishment.in_(eligible), Officer.unit_id.in_(unit_ids)) \
        if (unit is not None or unit_id is not None) else (Officer.on_post, Officer.establishment.in_(eligible))

    spans: dict[int, list[tuple[int, int, tuple[int, int], str]]] = {}
    officers: dict[int, tuple] = {}
    for cert_id, number, first, last, officer_id, *person in db.session.execute(
            card_spans(today, end, officer_where)):
        officers[officer_id] = person  # unit_id, name, name_pinyin, gender, birth_date, retirement_basis
        spans.setdefault(officer_id, []).append((first, last, (last, cert_id), number))

    # day numbers from here on: 0 is today, `days - 1` the last day
    days = (end - today).days + 1
    diff = {uid: [0] * (days + 1) for uid in unit_ids}
    losses: dict[int, list[Loss]] = {uid: [] for uid in unit_ids}
    for officer_id, held in spans.items():
        unit_id, name, name_pinyin, gender, birth_date, basis = officers[officer_id]
        counts = diff.get(unit_id)
        if counts is None:
            continue
        # the first day retired; after the last day for an officer too young to retire by then
        retires = days + 1 if birth_date is None else (retirement_date(birth_date, gender, basis) - today).days
        merged = []
        for first, last in (_merge([(a, b) for a, b, _k, _n in held]) if len(held) > 1 else [held[0][:2]]):
            last = min(last, retires - 1, days - 1)
            if first <= last:
                merged.append((first, last))
        for first, last in merged:
            counts[first] += 1
            counts[last + 1] -= 1
        if merged and merged[0][1] < days - 1:
            last = merged[0][1]
            number = max((k, n) for a, b, k, n in held if a <= last <= b)[1]
            losses[unit_id].append(Loss(officer_id, name, name_pinyin or "",
                                        "retires" if last + 1 == retires else "expires",
                                        today + timedelta(days=last + 1), number))

    result = []
    for u in units:
        counts = list(accumulate(diff[u.id][:days]))
        below = next((i for i, c in enumerate(counts) if c < 2), None)
        result.append(UnitForecast(
            u.id, u.name, counts[0],
            {k: counts[(add_months(today, k) - today).days] for k in months},
            today + timedelta(days=below) if below is not None else None,
            sorted(losses[u.id], key=lambda x: (x.on, x.sort_name, x.name, x.certificate_number))))
    return Forecast(today, months, end, result)


REASONS = {"expires": "证件到期", "retires": "退休"}


def loss_text(loss: Loss) -> str:
    return f"{loss.name}（{loss.certificate_number}）{cn(loss.on)}起{REASONS[loss.reason]}"


def cn(d: date | None) -> str:
    return cn_date(d) if d else "—"


def columns(months: tuple[int, ...]):
    return [
        Column("单位", lambda r: r.unit, 24),
        Column("当前持证", lambda r: r.now, 10),
        *(Column(f"{k}个月后", lambda r, k=k: r.months[k], 10) for k in months),
        Column("不足两人日期", lambda r: r.below_two_on, 16, text=cn),
        Column("期间减少人员", lambda r: "；".join(loss_text(x) for x in r.losses), 60),
    ]


def to_xlsx(fc: Forecast) -> bytes:
    return write_xlsx(fc.units, columns(fc.months), sheet="持证力量预测",
                      title=f"持证力量预测（{cn(fc.today)}起 {max(fc.months)} 个月）")


def to_table(fc: Forecast) -> str:
    cols = columns(fc.months)
    head = f"持证力量预测（{cn(fc.today)}起至{cn(fc.end)}，共 {len(fc.units)} 个单位）\n"
    if not fc.units:
        return head + "没有在执法岗位人员的单位\n"
    rows = [{c.header: (c.text(c.value(u)) if c.text else c.value(u)) for c in cols[:-1]} for u in fc.units]
    plain = [Column(c.header, lambda r, h=c.header: r[h], c.width) for c in cols[:-1]]
    out = [head + table(rows, plain, right_align=[c.header for c in cols[1:-2]])]
    for u in fc.units:
        for loss in u.losses:
            out.append(f"{u.unit}：{loss_text(loss)}")
    return "\n".join(out) + "\n"
