"""The stored art. 42 verdicts (case_verdict) stay equal to a fresh check after every kind
of write that can change them: certificate transitions and edits (dates, number), events added or
removed, certificates created or renumbered, cases edited or deleted, certificate imports (Core
inserts and updates) and an undo — and `flask check cases` finds and fixes a verdict that went wrong."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select, update

from app.cases import services
from app.certificates.services import transition, update_certificate
from app.extensions import db as _db
from app.imports.history import undo
from app.models.cases import CaseVerdict, PenaltyCase
from app.models.certificates import Certificate, CertificateEvent
from app.models.imports import ImportBatch
from app.models.officers import Officer
from app.rules.verdicts import differences
from tests.conftest import TODAY
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory
from tests.sheets import xlsx
from tests.unit.test_case_verdict_sql import _world


def _same(db) -> None:
    db.session.flush()
    assert differences(db.session) == []


def test_every_write_keeps_the_stored_verdicts_equal_to_the_check(db):
    _world(db, 5)
    _same(db)
    assert db.session.scalar(select(CaseVerdict.ok).where(CaseVerdict.ok.is_(False)).limit(1)) is False
    rng = random.Random(5)
    start = date(2023, 1, 1)
    for step in range(60):
        certs = list(db.session.scalars(select(Certificate).where(Certificate.kind == "enforcement")))
        cert = rng.choice(certs)
        op = step % 8
        when = start + timedelta(days=rng.randint(0, 700))
        if op == 0 and cert.status == "valid":
            transition(cert, rng.choice(["suspend", "revoke"]), effective_on=when, reason="违纪", today=TODAY)
        elif op == 1 and cert.status == "suspended":
            transition(cert, "restore", effective_on=when, reason="期满发还", today=TODAY)
        elif op == 2:
            update_certificate(cert, {"issued_on": when - timedelta(days=400),
                                      "expires_on": when + timedelta(days=rng.randint(0, 300))})
        elif op == 3:
            update_certificate(cert, {"number": cert.number + "X"})  # its cases lose the number
        elif op == 4:
            events = list(db.session.scalars(
                select(CertificateEvent).where(CertificateEvent.certificate_id == cert.id)))
            if events:
                db.session.delete(rng.choice(events))
            else:
                db.session.add(CertificateEvent(certificate_id=cert.id, kind="issue", to_status="valid",
                                                effective_on=cert.issued_on))
        elif op == 5:
            case = rng.choice(list(db.session.scalars(select(PenaltyCase))))
            numbers = rng.sample([c.number for c in certs], 2) + (["UNKNOWN"] if rng.random() < 0.3 else [])
            services.save_case(case, {"case_no": case.case_no, "title": case.title, "decided_on": when,
                                      "opened_on": rng.choice([None, when - timedelta(days=30)]),
                                      "unit": case.unit, "certificate_numbers": numbers})
        elif op == 6:
            services.delete_case(rng.choice(list(db.session.scalars(select(PenaltyCase)))))
        elif op == 7:
            # a card under the number some cases name but nobody held: those cases change
            officer = rng.choice(list(db.session.scalars(select(Officer))))
            if not db.session.scalar(select(Certificate.id).where(Certificate.number == "UNKNOWN")):
                CertificateFactory(officer=officer, number="UNKNOWN", issued_on=start,
                                   expires_on=start + timedelta(days=2000))
            else:
                unknown = db.session.scalar(select(Certificate).where(Certificate.number == "UNKNOWN"))
                update_certificate(unknown, {"number": f"GONE-{step}"})
        _same(db)


def test_a_certificate_import_and_its_undo_update_the_verdicts(app, runner, tmp_path):
    with app.app_context():
        unit = UnitFactory()
        a, b = OfficerFactory(unit=unit), OfficerFactory(unit=unit)
        CertificateFactory(officer=a, number="A-1", issued_on=date(2024, 1, 1), expires_on=date(2029, 1, 1))
        services.save_case(None, {"case_no": "罚〔2025〕1号", "title": "", "decided_on": date(2025, 3, 1),
                                  "opened_on": None, "unit": "", "certificate_numbers": ["A-1", "B-1"]})
        _db.session.commit()
        assert services.count_not_ok() == 1  # B-1 is nobody's number yet
        b_number = b.id_number
    path = xlsx(tmp_path / "c.xlsx", [["身份证号", "证件编号", "发证日期", "有效期至"],
                                      [b_number, "B-1", "2024-06-01", "2029-12-31"]])
    result = runner.invoke(args=["import", "certificates", str(path), "--today", "2026-06-15"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert services.count_not_ok() == 0  # the imported card makes the case lawful
        assert differences(_db.session) == []
        undo(_db.session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc())).first())
        _db.session.commit()
        assert services.count_not_ok() == 1
        assert differences(_db.session) == []
    assert runner.invoke(args=["import", "certificates", str(path), "--today", "2026-06-15"]).exit_code == 0
    later = xlsx(tmp_path / "later.xlsx", [["身份证号", "证件编号", "发证日期", "有效期至"],
                                           [b_number, "B-1", "2025-06-01", "2029-12-31"]])
    result = runner.invoke(args=["import", "certificates", str(later), "--today", "2026-06-15"])
    assert result.exit_code == 0 and "更新 1" in result.output, result.output
    with app.app_context():  # the card now dates from after the decision: the case fails again
        assert services.count_not_ok() == 1
        assert differences(_db.session) == []


def test_check_cases_reports_and_fixes_a_wrong_verdict(app, runner):
    with app.app_context():
        unit = UnitFactory()
        for n in ("A-1", "B-1"):
            CertificateFactory(officer=OfficerFactory(unit=unit), number=n, issued_on=date(2024, 1, 1),
                               expires_on=date(2029, 1, 1))
        services.save_case(None, {"case_no": "罚〔2025〕7号", "title": "", "decided_on": date(2025, 3, 1),
                                  "opened_on": None, "unit": "", "certificate_numbers": ["A-1", "B-1"]})
        _db.session.commit()
    ok = runner.invoke(args=["check", "cases"])
    assert ok.exit_code == 0 and "一致" in ok.output
    with app.app_context():  # someone edits the table behind the application's back
        _db.session.execute(update(CaseVerdict).values(ok=False, reasons=",fewer_than_two,"))
        _db.session.commit()
    bad = runner.invoke(args=["check", "cases"])
    assert bad.exit_code == 1
    assert "罚〔2025〕7号：结果表 不符合（" in bad.output and "按证件历史应为 符合" in bad.output
    fixed = runner.invoke(args=["check", "cases", "--fix"])
    assert fixed.exit_code == 0 and "已按证件历史重新核查并改正" in fixed.output
    assert runner.invoke(args=["check", "cases"]).exit_code == 0
