"""Control characters (\\x01, \\x0b, pasted from other programs) never break a file: new ones are
stripped on the way in (forms, JSON, imported cells); one already stored is dropped when written."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from app.extensions import db as _db
from app.models.officers import Officer
from tests.conftest import TODAY, follow_job, login, token
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory, id_number
from tests.web.test_export_walk import export_urls


@pytest.fixture(autouse=True)
def _today(set_today):
    set_today(TODAY)


@pytest.fixture
def stored(app):
    """An officer on the public list whose name and position were stored with control
    characters (written straight to the table, as an old import or another program may have)."""
    from app.audit.services import record
    from app.settings.services import set_value

    with app.app_context():
        unit = UnitFactory(name="城市管理科")
        o = OfficerFactory(name="张三", unit=unit)
        CertificateFactory(officer=o, number="C-1", issued_on=TODAY - timedelta(100),
                           expires_on=TODAY + timedelta(20))
        set_value("public_list_enabled", "是")
        _db.session.flush()
        _db.session.execute(update(Officer).where(Officer.id == o.id)
                            .values(name="张\x01三", position="科\x0b员"))
        record("update", "officer", o.id, "修改执法人员 张\x01三", {"position": ["科员", "科\x0b员"]})
        _db.session.commit()
        return o.id


def test_every_export_answers_with_a_stored_control_character(app, stored):
    from app.importing.base import importers

    client = app.test_client()
    login(client, app, "admin")
    values = {"exam_id": ["0"], "kind": list(importers()), "token": ["none"], "fmt": ["xlsx", "csv"]}
    urls = [u for e, u in export_urls(app, values) if "<" not in u and "/online/" not in u
            and "/imports/b/" not in u]
    urls += ["/public/officers.pdf", "/documents/roster.pdf", "/documents/public-list.pdf"]
    failed = []
    for url in urls:
        resp = follow_job(client, client.get(url))
        if resp.status_code != 200:
            failed.append((url, resp.status_code))
    anonymous = app.test_client()
    for url in ("/public/officers.xlsx", "/public/officers.pdf"):
        resp = anonymous.get(url)
        if resp.status_code != 200:
            failed.append((url + " (anonymous)", resp.status_code))
    assert not failed
    ws = load_workbook(io.BytesIO(client.get("/officers.xlsx").data)).active
    assert ["张三", "科员"] in [[r[0], r[3]] for r in ws.iter_rows(min_row=3, values_only=True)]
    ws = load_workbook(io.BytesIO(client.get("/audit.xlsx").data)).active
    assert any("修改执法人员 张三" in (r[4] or "") for r in ws.iter_rows(min_row=3, values_only=True))


def _new_officer_form(client, **values):
    data = {"name": "陈七", "id_number": id_number(), "unit_id": "", "position": "科员",
            "establishment": "civil_servant", "education": "bachelor", "on_enforcement_post": "y",
            "employment_status": "active", "status_changed_on": "", "phone": "", "employee_no": "",
            "notes": "", "csrf_token": token(client, "/officers/new")}
    return data | values


def test_a_form_saves_the_text_without_control_characters(app, client):
    with app.app_context():
        unit_id = UnitFactory(name="城市管理科").id
        _db.session.commit()
    login(client, app, "clerk")
    resp = client.post("/officers/new", data=_new_officer_form(
        client, name="陈\x0b七", position="科\x01员", unit_id=str(unit_id), notes="第一行\r\n第二行"),
        follow_redirects=True)
    assert "执法人员“陈七”已保存" in resp.get_data(as_text=True)
    with app.app_context():
        o = _db.session.scalar(select(Officer))
        assert (o.name, o.position, o.notes) == ("陈七", "科员", "第一行\r\n第二行")


def test_an_imported_cell_is_saved_without_control_characters(app, runner, tmp_path):
    path = tmp_path / "人员.csv"
    path.write_text(f"姓名,身份证号,单位,职务\n李\x0b四,{id_number()},城市管理科,科\x01员\n", encoding="utf-8-sig")
    res = runner.invoke(args=["import", "officers", str(path)])
    assert res.exit_code == 0, res.output
    with app.app_context():
        o = _db.session.scalar(select(Officer))
        assert (o.name, o.position) == ("李四", "科员")


def test_a_json_body_arrives_without_control_characters(app):
    with app.test_request_context("/", method="POST", json={"name": "王\x01五", "list": ["a\x0bb"]}):
        from flask import request

        assert request.get_json() == {"name": "王五", "list": ["ab"]}
