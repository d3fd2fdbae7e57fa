"""Units pages: list with officer counts, create, edit, delete (refused while officers remain)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db as _db
from app.models.audit import AuditEvent
from app.models.officers import Unit
from tests.conftest import login, token
from tests.factories import OfficerFactory, UnitFactory


@pytest.fixture
def units(app):
    with app.app_context():
        busy = UnitFactory(name="城市管理科", sort_order=1)
        empty = UnitFactory(name="南坪社区", kind="community", sort_order=2, parent=busy)
        OfficerFactory(unit=busy)
        OfficerFactory(unit=busy)
        _db.session.commit()
        return {"busy": busy.id, "empty": empty.id}


def row_of(html: str, name: str) -> str:
    m = re.search(r"<tr>(?:(?!</tr>).)*?<td>" + re.escape(name) + r"</td>.*?</tr>", html, re.S)
    assert m, f"no row for {name}"
    return m.group(0)


def unit_names(app) -> set[str]:
    with app.app_context():
        return set(_db.session.scalars(select(Unit.name)))


def test_list_shows_kind_parent_and_officer_counts(client, app, units):
    login(client, app, "viewer")
    html = client.get("/units").get_data(as_text=True)
    busy, empty = row_of(html, "城市管理科"), row_of(html, "南坪社区")
    assert f'href="/officers?unit={units["busy"]}">2</a>' in busy
    assert ">0</a>" in empty and "社区" in empty and "<td>城市管理科</td>" in empty  # parent unit
    assert "新增单位" not in html and "删除" not in html  # viewer: no edit buttons


def test_create_and_edit_unit(client, app, units):
    login(client, app, "admin")  # moving a unit under another (the edit below) is an admin's
    resp = client.post(
        "/units/new",
        data={
            "name": "执法一队",
            "kind": "team",
            "parent_id": "",
            "sort_order": "5",
            "csrf_token": token(client, "/units/new"),
        },
        follow_redirects=True,
    )
    html = resp.get_data(as_text=True)
    assert "单位“执法一队”已保存" in html
    assert "执法队" in row_of(html, "执法一队")
    with app.app_context():
        new_id = _db.session.scalar(select(Unit.id).where(Unit.name == "执法一队"))
    resp = client.post(
        f"/units/{new_id}/edit",
        data={
            "name": "综合执法大队",
            "kind": "team",
            "parent_id": str(units["busy"]),
            "sort_order": "3",
            "csrf_token": token(client, f"/units/{new_id}/edit"),
        },
        follow_redirects=True,
    )
    html = resp.get_data(as_text=True)
    assert "综合执法大队" in html and "执法一队" not in html
    assert "<td>城市管理科</td>" in row_of(html, "综合执法大队")


def test_duplicate_name_is_refused_with_message(client, app, units):
    login(client, app, "clerk")
    resp = client.post(
        "/units/new",
        data={
            "name": "城市管理科",
            "kind": "department",
            "sort_order": "0",
            "csrf_token": token(client, "/units/new"),
        },
    )
    assert resp.status_code == 200
    assert "单位“城市管理科”已存在" in resp.get_data(as_text=True)


def test_delete_refused_while_officers_remain(client, app, units):
    login(client, app, "clerk")
    resp = client.post(
        f"/units/{units['busy']}/delete",
        data={"csrf_token": token(client, "/units")},
        follow_redirects=True,
    )
    html = resp.get_data(as_text=True)
    assert "单位“城市管理科”下还有 2 名人员，不能删除" in html
    assert "城市管理科" in unit_names(app)


def test_delete_empty_unit_asks_and_deletes(client, app, units):
    login(client, app, "admin")
    html = client.get("/units").get_data(as_text=True)
    assert 'data-confirm="确定删除单位“南坪社区”吗？"' in html
    resp = client.post(
        f"/units/{units['empty']}/delete",
        data={"csrf_token": token(client, "/units")},
        follow_redirects=True,
    )
    assert "单位“南坪社区”已删除" in resp.get_data(as_text=True)
    assert unit_names(app) == {"城市管理科"}
    with app.app_context():
        assert _db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "delete", AuditEvent.entity_type == "unit"
            )
        )


def test_viewer_cannot_write(client, app, units):
    login(client, app, "viewer")
    assert client.get("/units/new").status_code == 403
    csrf = token(client, "/units")
    assert (
        client.post(
            "/units/new",
            data={"name": "新单位", "kind": "team", "sort_order": "0", "csrf_token": csrf},
        ).status_code
        == 403
    )
    assert (
        client.post(f"/units/{units['empty']}/delete", data={"csrf_token": csrf}).status_code == 403
    )
    assert unit_names(app) == {"城市管理科", "南坪社区"}
