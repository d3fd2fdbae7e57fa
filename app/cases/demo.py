"""Demo penalty cases for `flask demo seed`: a year of cases like the seed report's 156, signed by
pairs of officers of one unit, so the 案件核查 page shows both verdicts."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models.cases import CaseCertificate, PenaltyCase
from app.models.certificates import Certificate
from app.models.officers import Officer, Unit

WHAT = ["占道经营", "违规设置户外广告", "乱倒建筑垃圾", "违规搭建", "油烟扰民", "违规停放", "无证经营",
        "夜间施工噪声扰民", "损坏市政设施", "违规张贴小广告"]
OUTCOMES = ["警告", "罚款200元", "罚款500元", "罚款1000元", "罚款2000元并责令改正", "责令限期拆除"]


def seed_cases(*, count: int, seed: int, today: date) -> int:
    """About five cases per officer over the past year (at most 2,000). Flushes."""
    rng = random.Random(seed * 7919 + 12)
    by_unit: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for number, name, unit in db.session.execute(
            select(Certificate.number, Officer.name, Unit.name).join(Officer, Officer.id == Certificate.officer_id)
            .join(Unit, Unit.id == Officer.unit_id).where(Certificate.kind == "enforcement")
            .order_by(Certificate.id)):
        by_unit[unit].append((number, name))
    units = [u for u, people in by_unit.items() if len(people) >= 2]
    if not units:
        return 0
    total = min(round(count * 5.2), 2000)
    cases = []
    for i in range(total):
        unit = rng.choice(units)
        pair = rng.sample(by_unit[unit], 2)
        decided = today - timedelta(days=rng.randint(1, 365))
        opened = decided - timedelta(days=rng.randint(3, 45)) if rng.random() < 0.8 else None
        case = PenaltyCase(case_no=f"南岸海街罚〔{decided.year}〕{i + 1}号",
                           title=f"{rng.choice(WHAT)}案", opened_on=opened, decided_on=decided, unit=unit,
                           officer_names="、".join(n for _num, n in pair), outcome=rng.choice(OUTCOMES))
        case.certificates = [CaseCertificate(position=p, number=num) for p, (num, _n) in enumerate(pair)]
        cases.append(case)
    db.session.add_all(cases)
    db.session.flush()
    return len(cases)
