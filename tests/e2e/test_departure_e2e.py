"""离岗待注销证件 in a browser at a phone's width: the list, the dashboard and a departed officer's
page are no wider than the screen (DEPARTURE_SHOTS: a folder for screenshots to look at)."""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest

from app.extensions import db as _db

pytestmark = pytest.mark.engine_independent

SHOTS = os.environ.get("DEPARTURE_SHOTS")
WIDTH = 375


def test_cancel_tasks_fit_a_phone(app, browser, live_server, logged_in):
    from app.officers.departures import depart
    from tests.factories import CertificateFactory, OfficerFactory

    today = date.today()
    with app.app_context():
        officers = []
        for k, (name, left) in enumerate((("欧阳长名字的人员甲乙", 60), ("调出人员", 3))):
            o = OfficerFactory(name=name)
            CertificateFactory(officer=o, number=f"ZF-2024-00000000{k}-LONGNUMBER",
                               issued_on=today - timedelta(days=400), expires_on=today + timedelta(days=900))
            _db.session.flush()
            depart(o, "transferred", today - timedelta(days=left), today=today)
            officers.append(o.id)
        _db.session.commit()
    page = logged_in("viewer", "dep_viewer")
    page.set_viewport_size({"width": WIDTH, "height": 900})
    for url in ("/officers/cancel-tasks", "/", f"/officers/{officers[0]}"):
        page.goto(f"{live_server}{url}")
        if SHOTS:
            name = url.strip("/").replace("/", "_") or "home"
            page.screenshot(path=os.path.join(SHOTS, f"departure_{name}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH, url
    page.goto(f"{live_server}/officers/cancel-tasks")
    items = page.locator("#cancel-task-list li")
    assert items.count() == 2
    assert "已逾期" in items.nth(0).inner_text() and "欧阳长名字的人员甲乙" in items.nth(0).inner_text()
