"""Imports update existing officers and certificates in bulk (one by one, 10,000 changed
officers took 40,000 statements). The bulk path must leave exactly what the one-by-one services
leave — `save_officer` / `update_certificate` for each changed row: the same rows (versions
included) and the same audit rows. Compared here on a random file of a few dozen rows, each
import run once in bulk and once one by one from the same database state."""

from __future__ import annotations

import random
from datetime import date, timedelta

import openpyxl
import pytest
from sqlalchemy import select

from app.certificates.services import update_certificate
from app.importing.readers import ImportRefused
from app.imports.services import (
    CertificateImporter,
    OfficerImporter,
    import_certificates,
    import_officers,
)
from app.models.audit import AuditEvent
from app.models.certificates import Certificate
from app.models.officers import Officer, Unit
from app.officers.services import get_or_create_unit, save_officer
from tests.conftest import TODAY
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory

OFFICER_HEAD = ["姓名", "身份证号", "单位", "职务", "编制类型", "学历", "执法岗位", "在职状态", "联系电话", "工号"]
CERT_HEAD = ["身份证号", "证件类型", "证件编号", "发证机关", "发证日期", "有效期至", "执法类别", "执法区域"]
ESTABLISHMENTS = ["行政编制", "事业编制", "合同制", ""]
EDUCATIONS = ["本科", "大专", "研究生", ""]
STATUSES = ["在职", "调离", "退休", ""]


def xlsx(path, rows):
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return path


def state(db):
    """Every officer, unit and certificate row (all but updated_at) and the audit rows."""
    def rows(model):
        cols = [c for c in model.__table__.c if c.name not in ("updated_at", "created_at", "photo")]
        return sorted(tuple(r) for r in db.session.execute(select(*cols)))

    audits = sorted((a.action, a.entity_type, a.entity_id or 0, a.summary, repr(a.changes))
                    for a in db.session.scalars(select(AuditEvent).where(AuditEvent.action != "import")))
    return rows(Officer), rows(Unit), rows(Certificate), audits


def one_by_one_officers(path, today):
    """The officers import as it was: validate, then save_officer for each changed row."""
    importer = OfficerImporter()
    sheet = importer.read(path, path.name)
    plan, _known = importer.validate(sheet, today=today)
    assert not sheet.problems
    units = {name: get_or_create_unit(name) for name in dict.fromkeys(d["unit"] for _n, d, _o, c in plan if c)}
    for _n, data, oid, changed in plan:
        if oid is not None and changed:
            save_officer(db_get(Officer, oid), {**data, "unit": units[data["unit"]]}, today=today)


def one_by_one_certificates(path, today):
    importer = CertificateImporter()
    sheet = importer.read(path, path.name)
    plan = importer.validate(sheet, today=today)
    assert not sheet.problems
    for p in plan:
        if p[5] is not None and p[6]:
            update_certificate(db_get(Certificate, p[5]), p[1])


def db_get(model, id_):
    from app.extensions import db

    return db.session.get(model, id_)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bulk_officer_update_equals_save_officer(db, tmp_path, seed):
    rng = random.Random(seed)
    units = [UnitFactory(name=f"单位{i}") for i in range(4)]
    officers = []
    for i in range(40):
        officers.append(OfficerFactory(
            name=rng.choice("王李张刘陈") + rng.choice("伟芳娜敏静"), unit=rng.choice(units),
            position=rng.choice(["科员", "队员", ""]), employee_no=f"E{i}" if rng.random() < 0.7 else None,
            establishment=rng.choice(["civil_servant", "public_institution", "contract"]),
            education=rng.choice(["bachelor", "college", None]),
            on_enforcement_post=rng.random() < 0.8,
            employment_status=rng.choice(["active", "active", "transferred"]),
            status_changed_on=rng.choice([None, date(2025, 3, 1)]), notes=rng.choice(["", "备注"]),
            phone=rng.choice(["13800000000", ""])))
    db.session.commit()
    rows = [OFFICER_HEAD]
    for i, o in enumerate(officers):
        if rng.random() < 0.2:  # unchanged: the stored values
            rows.append([o.name, o.id_number, o.unit.name, o.position, "", "", "是" if o.on_enforcement_post else "否",
                         "", o.phone, o.employee_no or ""])
            continue
        rows.append([
            rng.choice([o.name, o.name + "明", " 赵钱 "]),
            rng.choice([o.id_number, o.id_number.lower()]),
            rng.choice([o.unit.name, units[0].name, units[3].name]),
            rng.choice([o.position, "科长", ""]), rng.choice(ESTABLISHMENTS), rng.choice(EDUCATIONS),
            rng.choice(["是", "否", ""]), rng.choice(STATUSES),
            rng.choice([o.phone, "13900000000", ""]),
            rng.choice([o.employee_no or "", "", f"N{i}"])])
    # (no new unit: its id would differ after the rollback on PostgreSQL, sequences do not roll back)
    path = xlsx(tmp_path / "officers.xlsx", rows)

    before = state(db)
    result = import_officers(path, path.name, today=TODAY)
    bulk = state(db)
    db.session.rollback()
    assert state(db) == before
    one_by_one_officers(path, TODAY)
    db.session.flush()
    reference = state(db)
    assert result.updated > 10
    assert bulk == reference
    assert bulk != before


@pytest.mark.parametrize("seed", [1, 2])
def test_bulk_certificate_update_equals_update_certificate(db, tmp_path, seed):
    rng = random.Random(seed)
    certs = [CertificateFactory(number=f"C{i}", area=rng.choice(["渝中区", ""]), categories="市场监管")
             for i in range(30)]
    db.session.commit()
    rows = [CERT_HEAD]
    for c in certs:
        issued = c.issued_on + timedelta(days=rng.choice([0, 0, 31]))
        rows.append([c.officer.id_number, "行政执法证", c.number,
                     rng.choice([c.issuing_authority, "重庆市司法局", " 重庆市人民政府 "]),
                     issued, rng.choice([c.expires_on, date(2030, 6, 30)]),
                     rng.choice([c.categories, "安全生产", ""]), rng.choice([c.area, "南岸区", ""])])
    path = xlsx(tmp_path / "certificates.xlsx", rows)

    before = state(db)
    result = import_certificates(path, path.name, today=TODAY)
    bulk = state(db)
    db.session.rollback()
    assert state(db) == before
    one_by_one_certificates(path, TODAY)
    db.session.flush()
    assert result.updated > 10
    assert bulk == state(db)


def test_officer_changed_meanwhile_refuses_the_import(db, tmp_path, monkeypatch):
    """An officer saved by someone else between the check and the write (its version moved on):
    the import is refused, as the ORM's version counter refuses a stale save."""
    from app.imports import services

    officer = OfficerFactory(position="科员")
    db.session.commit()
    path = xlsx(tmp_path / "o.xlsx", [["姓名", "身份证号", "单位", "职务"],
                                      [officer.name, officer.id_number, officer.unit.name, "科长"]])
    real = services._bulk_update

    def stale(table, fields, writes):
        for w in writes:
            w["_version"] -= 1
        real(table, fields, writes)

    monkeypatch.setattr(services, "_bulk_update", stale)
    with pytest.raises(ImportRefused) as info:
        import_officers(path, path.name, today=TODAY)
    assert "已被他人修改" in str(info.value.problems[0])
    db.session.rollback()
    assert db.session.scalar(select(Officer.position)) == "科员"
