"""In a real browser: tick the whole page of officers, move them to another unit after the
confirmation naming the count (no inline script: the CSP would block it)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db as _db
from app.models.officers import Officer
from tests.factories import OfficerFactory, UnitFactory

pytestmark = pytest.mark.engine_independent


def test_select_page_and_change_unit(app, live_server, logged_in):
    with app.app_context():
        a = UnitFactory(name="城市管理科", sort_order=1)
        b = UnitFactory(name="南坪社区", sort_order=2)
        for n in ("张三", "李四", "王五"):
            OfficerFactory(name=n, unit=a)
        _db.session.commit()
        unit_a, unit_b = a.id, b.id
    page = logged_in("clerk")
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server}/officers?unit={unit_a}")
    page.check("th input[data-check-all]")
    assert page.locator("input[name=ids]:checked").count() == 3
    page.select_option("#bulk-action", "unit")
    page.click("#bulk-bar button[type=submit]")
    page.wait_for_selector("text=确认对 3 人调整单位")
    page.select_option("#target", label="南坪社区")
    page.click("#bulk-confirm button[type=submit]")
    page.wait_for_selector("text=已将 3 名人员调入“南坪社区”")
    assert page.url.endswith(f"/officers?unit={unit_a}")
    with app.app_context():
        units = set(_db.session.scalars(select(Officer.unit_id)))
    assert units == {unit_b} and not [e for e in errors if "Content Security Policy" in e]
