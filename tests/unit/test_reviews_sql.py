"""The 年审 list in SQL (for page cost: eligibility per certificate, the page placed by per-unit counts,
the checks looked up for the rows shown only) gives the rows of a slow, obviously-correct Python
evaluation on random data: histories with events on 1 January and on the same day, suspensions
and restorations, certificates made valid during the year or after it, supervision cards, units
sharing a sort order, officers of the same name in the same unit, reviews, annual exams, cases —
every page (past the end too) at a page size that cuts through units, with every filter, for
several years and `today`s."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.labels import FINAL_STATUSES
from app.models.cases import CaseCertificate, PenaltyCase
from app.models.certificates import AnnualReview, Certificate, CertificateEvent
from app.models.exams import Exam, ExamResult
from app.models.officers import Officer, Unit
from app.models.training import TrainingHours
from app.reviews import services
from tests.factories import OfficerFactory, UnitFactory

REQUIRED = 40.0
NAMES = ["张三", "李四", "王五", "赵六", "阿明", "张三丰"]


def _day(rng: random.Random) -> date:
    return date(2022, 6, 1) + timedelta(days=rng.randint(0, 1500))


def _world(db, seed: int) -> None:
    rng = random.Random(seed)
    units = [UnitFactory(name=f"单位{seed}-{k}", sort_order=rng.choice([1, 1, 2])) for k in range(4)]
    for i in range(70):
        o = OfficerFactory(unit=rng.choice(units), name=rng.choice(NAMES),
                           on_enforcement_post=rng.random() < 0.85,
                           employment_status=rng.choice(["active"] * 6 + ["retired"]))
        for k in range(rng.choice([0, 1, 1, 2, 3])):
            kind = "enforcement" if rng.random() < 0.9 else "supervision"
            issued = _day(rng)
            c = Certificate(officer_id=o.id, kind=kind, number=f"R{seed}-{i}-{k}", issued_on=issued,
                            expires_on=issued + timedelta(days=rng.randint(30, 1200)),
                            status=rng.choice(["valid"] * 4 + ["suspended", "revoked", "replaced", "applying"]),
                            issuing_authority="市政府")
            db.session.add(c)
            db.session.flush()
            events = [] if rng.random() < 0.05 else [(issued, None, rng.choice(["valid"] * 5 + ["applying"]))]
            for _ in range(rng.choice([0, 0, 1, 2, 3])):
                prev = events[-1][2] if events else None
                when = rng.choice([events[-1][0] if events else issued, _day(rng),
                                   date(rng.choice([2024, 2025]), 1, 1)])
                events.append((when, rng.choice([prev, "valid", None]),
                               rng.choice(["suspended", "valid", "revoked", "lost", "suspended"])))
            for when, frm, to in events:
                db.session.add(CertificateEvent(certificate_id=c.id, kind="status", from_status=frm, to_status=to,
                                                effective_on=when, actor="t"))
            for year in (2024, 2025):
                if rng.random() < 0.4:
                    db.session.add(AnnualReview(certificate_id=c.id, year=year,
                                                result=rng.choice(["pass", "fail", "pending"]),
                                                reviewed_on=date(year + 1, 1, 10), note=rng.choice(["", "备注"])))
        for year in (2024, 2025):
            if rng.random() < 0.7:
                db.session.add(TrainingHours(officer_id=o.id, year=year, hours=rng.choice([10.0, 39.5, 40.0, 55.25])))
    exams = [Exam(title=f"考试{seed}-{y}-{kind}", kind=kind, held_on=date(y, 9, 1), pass_score=60.0)
             for y, kind in ((2024, "annual"), (2025, "qualification"), (2025, "annual"))]
    db.session.add_all(exams)
    db.session.flush()
    officers = list(db.session.scalars(select(Officer)))
    for e in exams:
        for o in rng.sample(officers, 30):
            db.session.add(ExamResult(exam_id=e.id, officer_id=o.id, absent=rng.random() < 0.1,
                                      score=rng.choice([None, 30.0, 60.0, 88.0])))
    numbers = list(db.session.scalars(select(Certificate.number)))
    for n in range(25):
        case = PenaltyCase(case_no=f"罚{seed}-{n}", decided_on=_day(rng), unit="科")
        db.session.add(case)
        db.session.flush()
        for pos in range(rng.choice([1, 2])):
            db.session.add(CaseCertificate(case_id=case.id, position=pos, number=rng.choice(numbers + ["无此号"])))
    db.session.flush()


def _oracle(db, year: int, today: date, *, unit_id=None, result=None, search=None) -> list[dict]:
    """Every row of the year, straight from the objects: the rules in plain Python."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    certs = list(db.session.scalars(select(Certificate)))
    events: dict[int, list[CertificateEvent]] = {}
    for e in db.session.scalars(select(CertificateEvent)):
        events.setdefault(e.certificate_id, []).append(e)
    reviews = {(r.certificate_id, r.year): r for r in db.session.scalars(select(AnnualReview))}
    hours = {(h.officer_id, h.year): h.hours for h in db.session.scalars(select(TrainingHours))}
    exams = {e.id: e for e in db.session.scalars(select(Exam))}
    passed = {r.officer_id for r in db.session.scalars(select(ExamResult))
              if exams[r.exam_id].kind == "annual" and start <= exams[r.exam_id].held_on <= end
              and not r.absent and r.score is not None and r.score >= exams[r.exam_id].pass_score}
    annual_held = any(e.kind == "annual" and start <= e.held_on <= end for e in exams.values())
    cases = {c.id: c for c in db.session.scalars(select(PenaltyCase))}
    recent_numbers = {cc.number for cc in db.session.scalars(select(CaseCertificate))
                      if date(year - 1, 1, 1) <= cases[cc.case_id].decided_on <= end}
    with_cases = {c.officer_id for c in certs if c.number in recent_numbers}
    out = []
    for c in certs:
        evs = sorted(events.get(c.id, []), key=lambda e: (e.effective_on, e.id))
        before = [e for e in evs if e.effective_on <= start]
        jan1 = before[-1].to_status if before else None
        became = any(e.to_status == "valid" and start <= e.effective_on <= end for e in evs)
        if c.kind != "enforcement" or c.issued_on > end or c.expires_on < start or not (jan1 == "valid" or became):
            continue
        o = db.session.get(Officer, c.officer_id)
        review = reviews.get((c.id, year))
        if (unit_id and o.unit_id != unit_id) or (search and search not in o.name and search not in c.number):
            continue
        if (result == "none" and review) or (result in ("pass", "fail", "pending")
                                             and (review is None or review.result != result)):
            continue
        h = hours.get((o.id, year), 0.0)
        on_post = o.employment_status == "active" and o.on_enforcement_post
        checks = {
            "valid": c.expires_on >= min(end, today) and c.status not in FINAL_STATUSES,
            "on_post": on_post,
            "hours": h >= REQUIRED,
            "no_suspension": not (jan1 == "suspended" or any(
                e.to_status == "suspended" and e.from_status is not None and e.from_status != "suspended"
                and start <= e.effective_on <= end for e in evs)),
            "annual_exam": (o.id in passed) if annual_held else None,
        }
        unit = db.session.get(Unit, o.unit_id)
        out.append(((unit.sort_order, unit.name_pinyin, unit.name, o.name_pinyin, o.name, c.id), {
            "certificate_id": c.id, "number": c.number, "status": c.status, "expires_on": c.expires_on,
            "officer_id": o.id, "name": o.name, "unit": unit.name, "hours": round(h, 2), "checks": checks,
            "all_ok": all(v is not False for v in checks.values()),
            "result": review.result if review else None, "reviewed_on": review.reviewed_on if review else None,
            "note": review.note if review else "",
            "notes": ["近两年无执法办案记录"] if cases and on_post and o.id not in with_cases else [],
            "total": None}))
    return [row for _key, row in sorted(out, key=lambda kr: kr[0])]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_review_rows_match_python_evaluation(db, seed):
    _world(db, seed)
    units = list(db.session.scalars(select(Unit.id)))
    per_page = 7
    for year, today in ((2024, date(2025, 3, 1)), (2025, date(2025, 8, 20)), (2025, date(2026, 6, 15)),
                        (2026, date(2026, 6, 15))):
        filters = [{}, {"unit_id": units[seed % len(units)]}, {"result": "none"}, {"result": "pass"},
                   {"result": "fail"}, {"search": "张三"}, {"search": f"R{seed}-1"}, {"search": "没有这个人"}]
        for f in filters:
            expected = _oracle(db, year, today, **f)
            got, _held = services.review_rows(year, REQUIRED, today=today, **f)
            assert got == expected, (year, f)
            pages = max(1, -(-len(expected) // per_page))
            for page in [*range(1, pages + 1), pages + 1, 10**6]:
                shown = min(page, pages)
                want = [{**r, "total": len(expected)} for r in expected[(shown - 1) * per_page:shown * per_page]]
                got, _held = services.review_rows(year, REQUIRED, today=today, page=page, per_page=per_page, **f)
                assert got == want, (year, f, page)
        # the ids record_reviews accepts are the list's; the rows of ticked certificates (the pass
        # confirmation) are theirs
        every = _oracle(db, year, today)
        eligible = {r["certificate_id"] for r in every}
        all_ids = list(db.session.scalars(select(Certificate.id)))
        assert set(db.session.scalars(services.effective_in_year(year))) == eligible
        assert set(db.session.scalars(services._effective_in_year_among(year, all_ids))) == eligible
        ticked = all_ids[::3]
        got, _held = services.review_rows(year, REQUIRED, today=today, certificate_ids=ticked)
        assert got == [r for r in every if r["certificate_id"] in ticked]
    assert any(_oracle(db, 2025, date(2026, 6, 15), result=r) for r in ("none", "pass", "fail"))
