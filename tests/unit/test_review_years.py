"""Stored state behind the review and case pages (issue 21): review_year (the year's review
certificates with their officer's unit) and case_verdict.decided_on stay equal to a fresh
computation after every kind of write — card transitions, edits of dates and numbers, events added
and removed, officers moved (ORM and the officer import's Core update), certificate imports and
their undo — `flask check reviews` finds a planted difference and --fix mends it, and the pages
read from them answer as the reference query does (every page, the last one, past the end)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import delete, insert, select, update

from app.cases import services as cases
from app.certificates.services import transition, update_certificate
from app.extensions import db as _db
from app.imports.history import undo
from app.models.cases import CaseVerdict, PenaltyCase
from app.models.certificates import Certificate, CertificateEvent, ReviewYear
from app.models.imports import ImportBatch
from app.models.officers import Officer, Unit
from app.reviews import services as reviews
from app.rules import review_years
from app.rules.verdicts import differences as verdict_differences
from tests.conftest import TODAY
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory
from tests.sheets import xlsx
from tests.unit.test_case_verdict_sql import _world


def _same(db) -> None:
    db.session.flush()
    assert review_years.differences(db.session) == []
    assert verdict_differences(db.session) == []


def test_every_write_keeps_review_year_equal_to_a_fresh_computation(db):
    _world(db, 7)
    units = [UnitFactory(name=f"分局{k}") for k in range(3)]
    _same(db)
    assert db.session.scalar(select(ReviewYear.year).limit(1)) is not None
    rng = random.Random(7)
    start = date(2023, 1, 1)
    for step in range(48):
        certs = list(db.session.scalars(select(Certificate).where(Certificate.kind == "enforcement")))
        cert = rng.choice(certs)
        op = step % 6
        when = start + timedelta(days=rng.randint(0, 700))
        if op == 0 and cert.status == "valid":
            transition(cert, rng.choice(["suspend", "revoke"]), effective_on=when, reason="违纪", today=TODAY)
        elif op == 1 and cert.status == "suspended":
            transition(cert, "restore", effective_on=when, reason="期满发还", today=TODAY)
        elif op == 2:
            update_certificate(cert, {"issued_on": when - timedelta(days=rng.randint(0, 900)),
                                      "expires_on": when + timedelta(days=rng.randint(0, 900))})
        elif op == 3:
            events = list(db.session.scalars(
                select(CertificateEvent).where(CertificateEvent.certificate_id == cert.id)))
            if events and rng.random() < 0.5:
                db.session.delete(rng.choice(events))
            else:
                db.session.add(CertificateEvent(certificate_id=cert.id, kind="status", to_status="valid",
                                                effective_on=when))
        elif op == 4:  # an officer moves (the ORM: the flush hook)
            officer = db.session.get(Officer, cert.officer_id)
            officer.unit_id = rng.choice(units).id
        elif op == 5:  # a new card
            CertificateFactory(officer=db.session.get(Officer, cert.officer_id), number=f"NEW-{step}",
                               issued_on=when - timedelta(days=800), expires_on=when + timedelta(days=200))
        _same(db)


def test_a_planted_difference_is_found_and_fixed(app, runner):
    with app.app_context():
        unit, other = UnitFactory(name="一所"), UnitFactory(name="二所")
        o = OfficerFactory(unit=unit)
        card = CertificateFactory(officer=o, number="R-1", issued_on=date(2024, 3, 1), expires_on=date(2027, 3, 1))
        _db.session.commit()
        years = set(_db.session.scalars(select(ReviewYear.year).where(ReviewYear.certificate_id == card.id)))
        assert years == {2024, 2025, 2026, 2027}
        assert review_years.differences(_db.session) == []
        unit_id, other_id, card_id = unit.id, other.id, card.id
    ok = runner.invoke(args=["check", "reviews"])
    assert ok.exit_code == 0 and "一致" in ok.output, ok.output
    with app.app_context():  # behind the application's back: a year lost, a unit wrong, a year too many
        _db.session.execute(delete(ReviewYear).where(ReviewYear.year == 2025))
        _db.session.execute(update(ReviewYear).where(ReviewYear.year == 2026).values(unit_id=other_id))
        _db.session.execute(insert(ReviewYear).values(year=2030, certificate_id=card_id, unit_id=unit_id))
        _db.session.commit()
        found = {(y, s, n) for y, _cid, s, n in review_years.differences(_db.session)}
        assert found == {(2025, None, unit_id), (2026, other_id, unit_id), (2030, unit_id, None)}
    bad = runner.invoke(args=["check", "reviews"])
    assert bad.exit_code == 1 and "3 处" in bad.output, bad.output
    fixed = runner.invoke(args=["check", "reviews", "--fix"])
    assert fixed.exit_code == 0 and "改正" in fixed.output, fixed.output
    with app.app_context():
        assert review_years.differences(_db.session) == []


def test_a_wrong_stored_decision_date_is_found_and_fixed(app, runner):
    with app.app_context():
        unit = UnitFactory()
        for n in ("A-1", "B-1"):
            CertificateFactory(officer=OfficerFactory(unit=unit), number=n, issued_on=date(2024, 1, 1),
                               expires_on=date(2029, 1, 1))
        case = cases.save_case(None, {"case_no": "罚〔2025〕9号", "title": "", "decided_on": date(2025, 3, 1),
                                      "opened_on": None, "unit": "", "certificate_numbers": ["A-1", "B-1"]})
        _db.session.commit()
        assert _db.session.get(CaseVerdict, case.id).decided_on == date(2025, 3, 1)
        cases.save_case(case, {"case_no": case.case_no, "title": "", "decided_on": date(2026, 1, 5),
                               "opened_on": None, "unit": "", "certificate_numbers": ["A-1", "B-1"]})
        _db.session.commit()
        assert _db.session.get(CaseVerdict, case.id).decided_on == date(2026, 1, 5)
        assert verdict_differences(_db.session) == []
        _db.session.execute(update(CaseVerdict).values(decided_on=date(2020, 1, 1)))
        _db.session.commit()
        assert len(verdict_differences(_db.session)) == 1
    assert runner.invoke(args=["check", "cases"]).exit_code == 1
    assert runner.invoke(args=["check", "cases", "--fix"]).exit_code == 0
    with app.app_context():
        assert verdict_differences(_db.session) == []


def test_a_certificate_import_its_undo_and_an_officer_import_move_keep_review_year(app, runner, tmp_path):
    with app.app_context():
        unit, other = UnitFactory(name="甲所"), UnitFactory(name="乙所")
        o = OfficerFactory(unit=unit)
        _db.session.commit()
        number, name, other_id = o.id_number, o.name, other.id
    path = xlsx(tmp_path / "c.xlsx", [["身份证号", "证件编号", "发证日期", "有效期至"],
                                      [number, "I-1", "2024-06-01", "2026-12-31"]])
    result = runner.invoke(args=["import", "certificates", str(path), "--today", "2026-06-15"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert set(_db.session.scalars(select(ReviewYear.year))) == {2024, 2025, 2026}
        assert review_years.differences(_db.session) == []
    moved = xlsx(tmp_path / "o.xlsx", [["姓名", "身份证号", "单位"], [name, number, "乙所"]])
    result = runner.invoke(args=["import", "officers", str(moved), "--today", "2026-06-15"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert set(_db.session.scalars(select(ReviewYear.unit_id))) == {other_id}
        assert review_years.differences(_db.session) == []
        batch = _db.session.scalars(select(ImportBatch).where(ImportBatch.kind == "certificates")).first()
        undo(batch)
        _db.session.commit()
        assert _db.session.scalar(select(ReviewYear.year).limit(1)) is None
        assert review_years.differences(_db.session) == []


def _reference_reviews(year: int, **f) -> list[int]:
    rows, _held = reviews.review_rows(year, 40, today=TODAY, **f)  # every row: the query-time engine
    return [r["certificate_id"] for r in rows]


def test_review_pages_read_from_the_stored_years_as_the_reference_does(db, set_today):
    _world(db, 11)
    for u in db.session.scalars(select(Unit)):
        u.sort_order = 1
    extra = [UnitFactory(name=f"所{k}", sort_order=k % 2) for k in range(3)]
    officers = list(db.session.scalars(select(Officer)))
    rng = random.Random(11)
    for o in officers:
        o.unit_id = rng.choice(extra).id
    db.session.flush()
    for year in (2023, 2024, 2025):
        for f in ({}, {"unit_id": extra[1].id}, {"search": "N11-1"}, {"result": "none"}):
            want = _reference_reviews(year, **f)
            for per_page in (7, 50):
                got = []
                pages = max(1, -(-len(want) // per_page))
                for page in range(1, pages + 1):
                    rows, _held = reviews.review_rows(year, 40, today=TODAY, page=page, per_page=per_page, **f)
                    assert all(r["total"] == len(want) for r in rows)
                    got += [r["certificate_id"] for r in rows]
                assert got == want, (year, f, per_page)
                last, _held = reviews.review_rows(year, 40, today=TODAY, page=10**6, per_page=per_page, **f)
                assert [r["certificate_id"] for r in last] == want[(pages - 1) * per_page:]


def test_case_pages_read_from_the_stored_verdicts_as_the_reference_does(db):
    _world(db, 13)
    for y in (None, 2023, 2024):
        for verdict, reason in ((None, None), ("ok", None), ("not_ok", None), (None, "fewer_than_two"),
                                (None, "expired")):
            f = cases.CaseFilters(year=y, verdict=verdict, reason=reason)
            # the reference: every case judged now (the page's reason filter lists failing cases)
            want = [r["id"] for r in cases.case_rows(f) if not (reason and r["ok"])]
            bad = sum(1 for r in cases.case_rows(cases.CaseFilters(year=y)) if not r["ok"])
            for per_page in (7, 50):
                pages = max(1, -(-len(want) // per_page))
                got = []
                for page in range(1, pages + 1):
                    rows, total, n_bad, shown = cases.case_page(f, page, per_page)
                    assert (total, shown) == (len(want), page)
                    assert n_bad == (0 if verdict == "ok" else len(want) if verdict or reason else bad)
                    got += [r["id"] for r in rows]
                assert got == want, (y, verdict, reason, per_page)
                rows, _t, _b, shown = cases.case_page(f, 10**6, per_page)
                assert shown == pages and [r["id"] for r in rows] == want[(pages - 1) * per_page:]
    assert db.session.scalar(select(PenaltyCase.id).limit(1)) is not None
