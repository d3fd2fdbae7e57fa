"""The one sanitiser of what a browser sends (app/web/request.py): NUL bytes leave query and form
values (PostgreSQL refuses them in text), and JSON nested past the parser's depth is a 400."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from werkzeug.exceptions import BadRequest

from app.extensions import db
from app.labels import UNIT_KINDS
from app.models.officers import Unit
from tests.conftest import login, token
from tests.factories import OfficerFactory


def test_nul_in_a_search_is_ignored(app, client):
    with app.app_context():
        OfficerFactory(name="张三")
        db.session.commit()
    login(client, app, "viewer")
    resp = client.get("/officers", query_string={"q": "张\x00三"})
    assert resp.status_code == 200
    assert "张三" in resp.get_data(as_text=True)


def test_nul_in_a_form_field_is_dropped_before_saving(app, client):
    login(client, app, "clerk")
    resp = client.post("/units/new", data={"csrf_token": token(client, "/units/new"), "name": "城管\x00科",
                                           "kind": next(iter(UNIT_KINDS)), "parent_id": "", "sort_order": "0"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    with app.app_context():
        assert db.session.scalar(select(Unit.name)) == "城管科"


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_deeply_nested_json_is_a_bad_request(app, depth):
    body = "[" * depth + "]" * depth
    with app.test_request_context("/x", method="POST", data=body, content_type="application/json"):
        from flask import request

        with pytest.raises(BadRequest):
            request.get_json()
        assert request.get_json(silent=True) is None
