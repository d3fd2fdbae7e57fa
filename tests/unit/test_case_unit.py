"""The stored units of each case (case_unit, read by the unit scope) stay equal to a fresh
resolution after every write that can change them — an officer moving to another unit (one at a
time or by an officer import), a unit created or renamed so that a case's 承办单位 names it (or no
longer does), certificates renumbered, cases edited — and `flask check cases` finds and fixes a
wrong row."""

from __future__ import annotations

import random
from datetime import date

from sqlalchemy import delete, select

from app import clock
from app.cases import services
from app.certificates.services import update_certificate
from app.extensions import db as _db
from app.models.cases import CaseUnit, PenaltyCase
from app.models.certificates import Certificate
from app.models.officers import Officer, Unit
from app.officers.services import bulk_set_unit
from app.rules import case_units as branches
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory
from tests.sheets import xlsx


def _same(db) -> None:
    db.session.flush()
    assert branches.differences(db.session) == []


def _units_of(db, case_no: str) -> set[str]:
    return set(db.session.scalars(select(Unit.name).join(CaseUnit, CaseUnit.unit_id == Unit.id)
                                  .join(PenaltyCase, PenaltyCase.id == CaseUnit.case_id)
                                  .where(PenaltyCase.case_no == case_no)))


def test_every_write_keeps_the_case_units_equal_to_a_fresh_resolution(db):
    rng = random.Random(3)
    units = [UnitFactory(name=f"单位{i}") for i in range(4)]
    officers = [OfficerFactory(unit=rng.choice(units)) for _ in range(12)]
    numbers = []
    for i, o in enumerate(officers):
        c = CertificateFactory(officer=o, number=f"N-{i}", issued_on=date(2024, 1, 1), expires_on=date(2029, 1, 1))
        numbers.append(c.number)
    for n in range(30):
        services.save_case(None, {"case_no": f"罚{n}", "title": "", "decided_on": date(2025, 3, 1), "opened_on": None,
                                  "unit": rng.choice(["", "单位0", "别处", "新单位"]),
                                  "certificate_numbers": rng.sample(numbers, 2)})
    _same(db)
    for step in range(40):
        op = step % 5
        if op == 0:
            bulk_set_unit([rng.choice(officers)], rng.choice(units))
        elif op == 1:
            o = rng.choice(officers)
            o.unit_id = rng.choice(units).id
        elif op == 2:  # a 承办单位 that named no unit names one now, or the other way round
            u = rng.choice(units)
            u.name = "新单位" if u.name != "新单位" and not any(x.name == "新单位" for x in units) else f"单位{step}"
        elif op == 3:
            cert = rng.choice(list(db.session.scalars(select(Certificate))))
            free = set(numbers) - set(db.session.scalars(select(Certificate.number)))
            update_certificate(cert, {"number": rng.choice(sorted(free) + [f"X-{step}"])})
        else:
            case = rng.choice(list(db.session.scalars(select(PenaltyCase))))
            services.save_case(case, {"case_no": case.case_no, "title": "", "decided_on": case.decided_on,
                                      "opened_on": None, "unit": rng.choice(["", "单位1", "别处"]),
                                      "certificate_numbers": rng.sample(numbers, 2)})
        _same(db)
    db.session.add(Unit(name="别处", kind="department"))
    _same(db)


def test_a_case_follows_its_officer_and_its_named_unit(db):
    a, b = UnitFactory(name="甲局"), UnitFactory(name="乙局")
    o = OfficerFactory(unit=a)
    CertificateFactory(officer=o, number="ZF-1", issued_on=date(2024, 1, 1), expires_on=date(2029, 1, 1))
    services.save_case(None, {"case_no": "罚1", "title": "", "decided_on": date(2025, 3, 1), "opened_on": None,
                              "unit": "", "certificate_numbers": ["ZF-1"]})
    services.save_case(None, {"case_no": "罚2", "title": "", "decided_on": date(2025, 3, 1), "opened_on": None,
                              "unit": "丙局", "certificate_numbers": ["ZF-1"]})
    services.save_case(None, {"case_no": "罚3", "title": "", "decided_on": clock.today(), "opened_on": None,
                              "unit": "", "certificate_numbers": ["ZF-1"]})
    db.session.flush()
    assert _units_of(db, "罚1") == {"甲局"} and _units_of(db, "罚2") == {"甲局"} and _units_of(db, "罚3") == {"甲局"}
    bulk_set_unit([o], b)  # a move dated today: the case decided today follows, the earlier one stays
    assert _units_of(db, "罚3") == {"乙局"} and _units_of(db, "罚1") == {"甲局"}
    a.name = "丙局"  # 罚2's 承办单位 now names a unit of the tree: it belongs there
    db.session.flush()
    assert _units_of(db, "罚2") == {"丙局"} and _units_of(db, "罚1") == {"丙局"}  # (甲局 renamed)
    _same(db)


def test_an_officer_import_moving_people_moves_their_cases(app, runner, tmp_path):
    with app.app_context():
        a, b = UnitFactory(name="甲局"), UnitFactory(name="乙局")
        o = OfficerFactory(unit=a)
        CertificateFactory(officer=o, number="ZF-1", issued_on=date(2024, 1, 1), expires_on=date(2029, 1, 1))
        services.save_case(None, {"case_no": "罚1", "title": "", "decided_on": date(2025, 3, 1), "opened_on": None,
                                  "unit": "", "certificate_numbers": ["ZF-1"]})
        _db.session.commit()
        row = [o.name, o.id_number, b.name]
    path = xlsx(tmp_path / "o.xlsx", [["姓名", "身份证号", "单位"], row])
    result = runner.invoke(args=["import", "officers", str(path), "--today", "2026-06-15"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert (_db.session.scalar(select(Officer.unit_id))
                == _db.session.scalar(select(Unit.id).where(Unit.name == "乙局")))
        # decided before the move (dated the import's day): still the unit of its date
        assert _units_of(_db, "罚1") == {"甲局"}
        assert branches.differences(_db.session) == []


def test_check_cases_reports_and_fixes_a_wrong_case_unit(app, runner):
    with app.app_context():
        unit = UnitFactory(name="甲局")
        CertificateFactory(officer=OfficerFactory(unit=unit), number="A-1", issued_on=date(2024, 1, 1),
                           expires_on=date(2029, 1, 1))
        services.save_case(None, {"case_no": "罚〔2025〕8号", "title": "", "decided_on": date(2025, 3, 1),
                                  "opened_on": None, "unit": "", "certificate_numbers": ["A-1"]})
        _db.session.commit()
    assert runner.invoke(args=["check", "cases"]).exit_code == 0
    with app.app_context():  # someone edits the table behind the application's back
        _db.session.execute(delete(CaseUnit))
        _db.session.commit()
    bad = runner.invoke(args=["check", "cases"])
    assert bad.exit_code == 1
    assert "案件所属单位表有 1 处" in bad.output and "罚〔2025〕8号：表中为 无，应为 甲局" in bad.output
    fixed = runner.invoke(args=["check", "cases", "--fix"])
    assert fixed.exit_code == 0
    assert runner.invoke(args=["check", "cases"]).exit_code == 0

