"""Every row an import creates is in the audit log, like a one-by-one create (ID numbers masked)."""

from __future__ import annotations

from sqlalchemy import select

from app.imports.services import import_certificates, import_officers
from app.models.audit import AuditEvent
from app.models.officers import Officer
from tests.conftest import TODAY
from tests.factories import id_number
from tests.unit.test_imports import csv_file


def test_each_imported_officer_and_certificate_is_audited(db, tmp_path):
    a, b = id_number(), id_number()
    officers = csv_file(tmp_path / "o.csv", [["姓名", "身份证号", "单位"], ["甲", a, "城管科"], ["乙", b, "城管科"]])
    import_officers(officers, "o.csv", today=TODAY)
    certs = csv_file(tmp_path / "c.csv", [["身份证号", "证件编号", "发证日期", "有效期至", "状态", "状态日期"],
                                          [a, "N-1", "2024-01-01", "2028-12-31", "暂扣", "2026-01-02"]])
    import_certificates(certs, "c.csv", today=TODAY)
    db.session.flush()

    creates = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "create",
                                                          AuditEvent.entity_type == "officer")).all()
    ids = {o.name: o.id for o in db.session.scalars(select(Officer))}
    assert {(e.entity_id, e.summary) for e in creates} == {(ids["甲"], "导入执法人员 甲"),
                                                           (ids["乙"], "导入执法人员 乙")}
    one = next(e for e in creates if e.entity_id == ids["甲"])
    assert one.changes["id_number"] == [None, a[:6] + "********" + a[-4:]]
    assert one.changes["name"] == [None, "甲"]
    assert a not in str([e.changes for e in db.session.scalars(select(AuditEvent))])

    cert_event = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "certificate",
                                                             AuditEvent.action == "create")).one()
    assert cert_event.summary == "导入行政执法证 N-1"
    assert cert_event.changes["status"] == [None, "suspended"]
    assert cert_event.changes["expires_on"] == [None, "2028-12-31"]
    imports = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "import")).all()
    assert len(imports) == 2
