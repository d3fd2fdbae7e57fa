"""The web lists sort names as the printed documents do (拼音, surname readings),
in SQL through the stored key, which every way of writing an officer keeps current."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from app.documents import services as documents
from app.extensions import db as _db
from app.models.officers import Officer, Unit
from tests.conftest import TODAY, login
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory, id_number

# Code point order would be 侯 卢 单 曾 万 … ; read in pinyin: hou lu shan wan zeng.
NAMES = ["万一", "侯二", "单三", "卢四", "曾五", "吕六", "陈七", "程八"]
PINYIN_ORDER = ["陈七", "程八", "侯二", "卢四", "吕六", "单三", "万一", "曾五"]


@pytest.fixture(autouse=True)
def _today(set_today):
    set_today(TODAY)


@pytest.fixture
def staff(app):
    with app.app_context():
        unit = UnitFactory(name="执法大队", sort_order=1)
        for n in NAMES:
            CertificateFactory(officer=OfficerFactory(name=n, unit=unit),
                               issued_on=TODAY - timedelta(days=30), expires_on=TODAY + timedelta(days=900))
        _db.session.commit()


def officer_names(html: str, table: str) -> list[str]:
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return [n for n in re.findall(r'<a href="/officers/\d+">([^<]+)</a>', body)]


def test_sorted_names_are_not_code_point_order():
    assert sorted(NAMES) != PINYIN_ORDER


def test_officer_list_sorted_by_name_is_the_roster_order(app, client, staff):
    login(client, app, "viewer")
    html = client.get("/officers?sort=name").get_data(as_text=True)
    assert officer_names(html, "officers") == PINYIN_ORDER
    html = client.get("/officers?sort=-name").get_data(as_text=True)
    assert officer_names(html, "officers") == PINYIN_ORDER[::-1]
    # The default order (unit, then name) is the roster's too.
    assert officer_names(client.get("/officers").get_data(as_text=True), "officers") == PINYIN_ORDER
    with app.app_context():
        printed = [r["name"] for r in documents.roster(TODAY).items if r.get("name")]
    assert printed == PINYIN_ORDER


def test_certificate_list_sorted_by_name(app, client, staff):
    login(client, app, "viewer")
    html = client.get("/certificates?sort=name").get_data(as_text=True)
    names = re.findall(r'<a href="/officers/\d+">([^<]+)</a>', html.split("<tbody", 1)[1])
    assert names == PINYIN_ORDER


def test_key_kept_current_on_save_rename_and_bulk_insert(db):
    unit = UnitFactory(name="单位甲")
    o = OfficerFactory(name="曾五", unit=unit)
    db.session.flush()
    assert o.name_pinyin == "zeng1wu3" and unit.name_pinyin == "dan1wei4jia3"
    o.name = "单三"
    db.session.flush()
    assert db.session.scalar(select(Officer.name_pinyin).where(Officer.id == o.id)) == "shan4san1"
    # The imports' Core executemany path fills the key row by row too.
    rows = [{"name": n, "id_number": id_number(), "gender": "M", "birth_date": TODAY.replace(year=1990),
             "unit_id": unit.id, "position": "", "establishment": "civil_servant",
             "on_enforcement_post": True, "employment_status": "active", "phone": "", "notes": "",
             "version": 1} for n in ("万一", "侯二")]
    db.session.execute(insert(Officer.__table__), rows)
    keys = dict(db.session.execute(select(Officer.name, Officer.name_pinyin)).all())
    assert keys["万一"] == "wan4yi1" and keys["侯二"] == "hou2er4"
    db.session.execute(insert(Unit.__table__), [{"name": "卢家湾社区", "kind": "community", "sort_order": 0}])
    assert db.session.scalar(select(Unit.name_pinyin).where(Unit.name == "卢家湾社区")) == "lu2jia1wan1she4qu1"


def test_reminders_list_reads_names_in_pinyin(app, client):
    with app.app_context():
        unit = UnitFactory(name="执法大队", sort_order=1)
        for n in NAMES:
            CertificateFactory(officer=OfficerFactory(name=n, unit=unit),
                               issued_on=TODAY - timedelta(days=700), expires_on=TODAY + timedelta(days=20))
        _db.session.commit()
    login(client, app, "viewer")
    html = client.get(f"/reminders?today={TODAY.isoformat()}").get_data(as_text=True)
    assert re.findall(r'<a href="/officers/\d+">([^<]+)</a>', html) == PINYIN_ORDER
