"""A viewer cannot rebuild a 身份证号: no full birth date beside a masked number, no partial ID search."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db as _db
from app.idnumber import mask
from app.models.audit import AuditEvent
from tests.conftest import TODAY, login, token
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory, id_number

BIRTH = date(1976, 3, 17)


@pytest.fixture(autouse=True)
def _today(set_today):
    set_today(TODAY)


@pytest.fixture
def officer(app):
    with app.app_context():
        unit = UnitFactory(name="城市管理科")
        o = OfficerFactory(name="张三", unit=unit, id_number=id_number(BIRTH))
        # An expired certificate: 张三 is on /flags (UNLICENSED).
        CertificateFactory(officer=o, number="C-1", issued_on=TODAY - timedelta(2000),
                           expires_on=TODAY - timedelta(10))
        _db.session.commit()
        return {"id": o.id, "idn": o.id_number}


BIRTH_TEXTS = ("1976年3月17日", "1976-03-17", "19760317", "1976/3/17")


@pytest.mark.parametrize("role", ["viewer", "clerk"])
def test_detail_page_has_no_birth_date_for_non_admins(client, app, officer, role):
    login(client, app, role)
    html = client.get(f"/officers/{officer['id']}").get_data(as_text=True)
    assert mask(officer["idn"]) in html
    assert officer["idn"] not in html
    for text in BIRTH_TEXTS:
        assert text not in html
    age = TODAY.year - BIRTH.year - ((TODAY.month, TODAY.day) < (BIRTH.month, BIRTH.day))
    assert (f"{age}岁" in html) is (role == "clerk")  # a viewer sees no age (tests/web/test_id_rebuild.py)


def test_admin_still_sees_the_whole_number_and_birth_date(client, app, officer):
    login(client, app, "admin")
    html = client.get(f"/officers/{officer['id']}").get_data(as_text=True)
    assert officer["idn"] in html and "1976年3月17日" in html


def _suffixes(idn: str) -> list[str]:
    return [idn[-n:] for n in (4, 5, 6, 10, 17)]


@pytest.mark.parametrize("role", ["viewer", "clerk"])
def test_officer_search_by_id_needs_the_whole_number(client, app, officer, role):
    login(client, app, role)
    idn = officer["idn"]
    for q in _suffixes(idn) + [idn[:6], idn[:14]]:
        html = client.get(f"/officers?q={q}").get_data(as_text=True)
        assert f"/officers/{officer['id']}\"" not in html, q
    html = client.get(f"/officers?q={idn.lower()}").get_data(as_text=True)
    assert (f"/officers/{officer['id']}\"" in html) is (role == "clerk")  # viewers: not at all


def test_admin_may_search_by_a_suffix(client, app, officer):
    login(client, app, "admin")
    html = client.get(f"/officers?q={officer['idn'][-5:]}").get_data(as_text=True)
    assert f"/officers/{officer['id']}\"" in html


@pytest.mark.parametrize("path", ["/flags", "/flags.csv"])
def test_flags_search_by_id_needs_the_whole_number_for_clerks(client, app, officer, path):
    login(client, app, "clerk")
    idn = officer["idn"]
    for q in _suffixes(idn):
        assert "张三" not in client.get(f"{path}?q={q}").get_data(as_text=True), q
    assert "张三" in client.get(f"{path}?q={idn}").get_data(as_text=True)


def test_training_ledger_search_by_id_needs_the_whole_number_for_clerks(client, app, officer):
    login(client, app, "clerk")
    idn = officer["idn"]
    year = TODAY.year
    assert "张三" in client.get(f"/training/ledger?year={year}").get_data(as_text=True)
    for q in _suffixes(idn):
        assert "张三" not in client.get(f"/training/ledger?year={year}&q={q}").get_data(as_text=True), q
    assert "张三" in client.get(f"/training/ledger?year={year}&q={idn}").get_data(as_text=True)


def test_audit_log_keeps_no_full_birth_date(client, app):
    with app.app_context():
        unit = UnitFactory(name="城市管理科")
        _db.session.commit()
        unit_id = unit.id
    login(client, app, "admin")
    idn = id_number(BIRTH)
    resp = client.post("/officers/new", data={
        "csrf_token": token(client, "/officers/new"), "name": "李四", "id_number": idn,
        "unit_id": unit_id, "establishment": "civil_servant", "on_enforcement_post": "y",
        "employment_status": "active"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    with app.app_context():
        events = _db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "officer")).all()
        assert events
        text = " ".join(str(e.changes) + e.summary for e in events)
    assert idn not in text
    for t in BIRTH_TEXTS:
        assert t not in text
    html = client.get("/audit").get_data(as_text=True)
    for t in BIRTH_TEXTS:
        assert t not in html


def test_audit_page_hides_birth_dates_of_rows_written_before(client, app):
    from app.audit.services import record

    idn = id_number(BIRTH)
    with app.app_context():
        record("update", "officer", 1, "修改执法人员 旧记录", {"birth_date": ["1976-03-17", "1977-04-18"],
                                                          "id_number": [idn, None]})
        _db.session.commit()
    login(client, app, "admin")
    html = client.get("/audit").get_data(as_text=True)
    assert "旧记录" in html and "1976年" in html and "1977年" in html
    assert "1976-03-17" not in html and "1977-04-18" not in html
    assert idn not in html and mask(idn) in html
