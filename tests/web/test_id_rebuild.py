"""A viewer cannot rebuild a masked 身份证号: the mask hides exactly the birth date, so a viewer
sees no age, and cannot look a whole number up (yes/no) at all; a clerk's whole-number lookups are
limited per hour and audited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db as _db
from app.extensions import limiter
from app.models.audit import AuditEvent
from tests.conftest import TODAY, login
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory, id_number

BIRTH = date(1976, 3, 17)
AGE = 50  # on TODAY (2026-6-15)


@pytest.fixture(autouse=True)
def _today(set_today):
    set_today(TODAY)


@pytest.fixture(autouse=True)
def _fresh_limits():
    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture
def officer(app):
    with app.app_context():
        unit = UnitFactory(name="城市管理科")
        o = OfficerFactory(name="张三", unit=unit, id_number=id_number(BIRTH))
        CertificateFactory(officer=o, number="C-1", issued_on=TODAY - timedelta(2000),
                           expires_on=TODAY - timedelta(10))
        _db.session.commit()
        return {"id": o.id, "idn": o.id_number}


def test_a_viewer_sees_no_age_a_clerk_does(app, officer):
    viewer = login(app.test_client(), app, "viewer")
    html = viewer.get(f"/officers/{officer['id']}").get_data(as_text=True)
    assert "岁" not in html and "年龄" not in html and "1976" not in html
    assert "性别" in html
    clerk = login(app.test_client(), app, "clerk")
    assert f"{AGE}岁" in clerk.get(f"/officers/{officer['id']}").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/officers", "/flags", "/training/ledger", "/flags.csv"])
def test_a_viewer_cannot_look_up_a_whole_number(client, app, officer, path):
    login(client, app, "viewer")
    resp = client.get(f"{path}?q={officer['idn']}")
    assert resp.status_code == 200
    assert "张三" not in resp.get_data(as_text=True)
    if path != "/flags.csv":
        assert "查看员不能按身份证号搜索，已忽略输入的身份证号" in resp.get_data(as_text=True)
    assert "张三" in client.get(f"{path}?q=张三").get_data(as_text=True)  # a name still works
    with app.app_context():
        assert not _db.session.scalars(select(AuditEvent).where(AuditEvent.action == "search")).all()


def test_a_clerks_lookups_are_audited_and_limited(client, app, runner, officer):
    assert runner.invoke(args=["settings", "set", "id_search_per_hour", "3"]).exit_code == 0
    login(client, app, "clerk")
    other = id_number(date(1980, 1, 2))
    found = [f"/officers/{officer['id']}\"" in client.get(f"/officers?q={q}").get_data(as_text=True)
             for q in (officer["idn"], other, officer["idn"])]
    assert found == [True, False, True]
    html = client.get(f"/officers?q={officer['idn']}").get_data(as_text=True)
    assert f"/officers/{officer['id']}\"" not in html  # the fourth lookup in the hour: refused
    assert "按身份证号搜索过于频繁（每小时最多 3 次）" in html
    assert "张三" in client.get("/officers?q=张三").get_data(as_text=True)  # names are not limited
    with app.app_context():
        events = _db.session.scalars(select(AuditEvent).where(AuditEvent.action == "search")
                                     .order_by(AuditEvent.id)).all()
        assert len(events) == 3 and all(e.summary.startswith("按身份证号搜索") for e in events)
        assert all(e.actor == "clerk_user" and officer["idn"] not in e.summary for e in events)
        assert officer["idn"][:6] + "********" + officer["idn"][-4:] in events[0].summary


def test_a_clerk_within_the_limit_finds_the_officer(client, app, officer):
    login(client, app, "clerk")
    html = client.get(f"/officers?q={officer['idn']}").get_data(as_text=True)
    assert f"/officers/{officer['id']}\"" in html
