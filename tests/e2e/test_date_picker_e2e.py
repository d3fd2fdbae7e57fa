"""In a real browser: every date box is the same text box with the same calendar button, and a day
picked in the calendar is written back as 2024年3月1日 (and drives what follows the box)."""

from __future__ import annotations

from datetime import date

import pytest

from app.extensions import db as _db
from tests.factories import OfficerFactory, UnitFactory

pytestmark = pytest.mark.engine_independent


def test_a_picked_day_is_written_as_chinese_date_and_moves_the_expiry(app, live_server, logged_in, set_today):
    set_today(date(2026, 6, 15))
    with app.app_context():
        officer = OfficerFactory(name="孙立", unit=UnitFactory(name="城管执法队"))
        _db.session.commit()
        oid = officer.id
    page = logged_in("clerk")
    page.goto(f"{live_server}/officers/{oid}/certificates/new")
    issued = page.locator("input[name=issued_on]")
    wrap = page.locator(".date-wrap", has=issued)
    button = wrap.locator("button.date-button")
    assert button.get_attribute("title") == "选择日期"
    button.click()
    # the browser's own calendar (a native <input type=date>) answers with an ISO day
    wrap.locator("input.date-native").fill("2021-03-01")
    assert issued.input_value() == "2021年3月1日"
    assert "2026年2月28日" in page.locator(".expiry-preview").inner_text()
    # typing still works and the calendar opens on what is typed
    issued.fill("2022/7/9")
    button.click()
    assert wrap.locator("input.date-native").input_value() == "2022-07-09"


def test_every_date_box_has_the_one_picker(app, live_server, logged_in, set_today):
    set_today(date(2026, 6, 15))
    with app.app_context():
        officer = OfficerFactory(name="孙立", unit=UnitFactory(name="城管执法队"))
        _db.session.commit()
        oid = officer.id
    page = logged_in("admin")
    for url in (f"/officers/{oid}/edit", f"/officers/{oid}/certificates/new", "/certificates", "/audit",
                "/reminders", "/training/new", "/exams/new", "/cases/new"):
        page.goto(live_server + url)
        boxes = page.eval_on_selector_all(
            "input[data-date]",
            "els => els.map(e => [e.type, e.parentElement.classList.contains('date-wrap'),"
            " e.parentElement.querySelectorAll('button.date-button').length])")
        assert boxes, url
        assert all(b == ["text", True, 1] for b in boxes), (url, boxes)
        # no other kind of date field anywhere on the page
        assert page.locator("input[type=date]:not(.date-native)").count() == 0, url
