"""The stored art. 42 verdict (case_verdict, kept current by the flush hook of cases/verdicts.py;
read by the dashboard's count, the case list's filters and counts) gives the same answer as the
Python check (rules/verdicts.judge_one) on random histories:
several cards per officer, suspensions and restorations on the check dates themselves, events of
the same day, override notes, cards still being applied for, supervision cards sharing a number,
unknown and repeated numbers, cases with and without 立案日期."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select

from app.cases import services
from app.models.cases import CaseCertificate, PenaltyCase
from app.models.certificates import Certificate, CertificateEvent
from tests.factories import OfficerFactory, UnitFactory

START = date(2023, 1, 1)


def _day(rng: random.Random) -> date:
    return START + timedelta(days=rng.randint(0, 700))


def _world(db, seed: int) -> None:
    rng = random.Random(seed)
    unit = UnitFactory()
    numbers, supervision = [], set()
    for i in range(30):
        o = OfficerFactory(unit=unit)
        for k in range(rng.choice([0, 1, 1, 2, 3])):
            issued = _day(rng) - timedelta(days=rng.randint(0, 400))
            status = rng.choice(["valid"] * 5 + ["suspended", "revoked", "applying", "expired", "replaced"])
            c = Certificate(officer_id=o.id, kind="enforcement", number=f"N{seed}-{i}-{k}", issued_on=issued,
                            expires_on=issued + timedelta(days=rng.randint(100, 900)), status=status)
            db.session.add(c)
            db.session.flush()
            numbers.append(c.number)
            events = [] if rng.random() < 0.05 else [(issued + timedelta(days=rng.choice([0, 0, 3])), "valid", "issue")]
            for _ in range(rng.choice([0, 0, 1, 2, 3])):
                when = rng.choice([events[-1][0] if events else issued, _day(rng)])
                events.append((when, rng.choice(["suspended", "valid", "revoked", "lost"]),
                               rng.choice(["status", "status", "override"])))
            for when, to, kind in events:
                db.session.add(CertificateEvent(certificate_id=c.id, kind=kind, from_status=None, to_status=to,
                                                effective_on=when))
        if rng.random() < 0.3:  # a supervision card, sometimes under an enforcement card's number
            shared = [n for n in numbers if n not in supervision]
            number = rng.choice(shared) if shared and rng.random() < 0.5 else f"S{seed}-{i}"
            supervision.add(number)
            db.session.add(Certificate(officer_id=o.id, kind="supervision", number=number, issued_on=START,
                                       expires_on=START + timedelta(days=2000), status="valid"))
            numbers.append(number)
    db.session.flush()
    for n in range(150):
        decided = _day(rng)
        opened = rng.choice([None, decided - timedelta(days=rng.randint(0, 120))])
        case = PenaltyCase(case_no=f"罚{seed}-{n}", decided_on=decided, opened_on=opened, unit="科")
        db.session.add(case)
        db.session.flush()
        picked = [rng.choice(numbers) for _ in range(rng.choice([0, 1, 2, 2, 2, 3, 4]))]
        if rng.random() < 0.1:
            picked.append("UNKNOWN")
        if picked and rng.random() < 0.1:
            picked.append(picked[0])  # the same number twice
        for pos, number in enumerate(picked):
            db.session.add(CaseCertificate(case_id=case.id, position=pos, number=number))
    db.session.flush()


def test_sql_verdict_matches_the_python_check(db):
    for seed in (1, 2, 3):
        _world(db, seed)
    every = select(PenaltyCase.id)
    python_ok = {cid for cid, v in services.judge(every).items() if v.ok}
    sql_ok = set(db.session.scalars(services.ok_case_ids(every)))
    assert 0 < len(python_ok) < 450  # both verdicts occur
    assert sql_ok == python_ok
    assert services.verdict_counts(every) == (450, 450 - len(python_ok))
    assert services.count_not_ok() == 450 - len(python_ok)


def test_case_list_pages_agree_with_the_python_check(db):
    _world(db, 7)
    verdicts = services.judge(select(PenaltyCase.id))
    bad = {cid for cid, v in verdicts.items() if not v.ok}
    seen = []
    page = 1
    while True:
        rows, total, n_bad, shown = services.case_page(services.CaseFilters(verdict="not_ok"), page, 40)
        assert (total, n_bad) == (len(bad), len(bad))
        assert all(not r["ok"] for r in rows)
        seen += [r["id"] for r in rows]
        if shown < page or len(seen) >= total:
            break
        page += 1
    assert sorted(seen) == sorted(bad)
