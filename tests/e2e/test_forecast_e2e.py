"""持证力量预测 in a browser, on demo data: at a phone's width the page is no wider than the screen
and its charts are drawn (FORECAST_SHOTS: a folder for screenshots to look at)."""

from __future__ import annotations

import os
from datetime import date

import pytest

from app.extensions import db as _db

pytestmark = pytest.mark.engine_independent

SHOTS = os.environ.get("FORECAST_SHOTS")


def test_forecast_page_on_a_phone_and_a_desktop(app, browser, live_server, logged_in):
    from app.demo import seed

    with app.app_context():
        seed(count=30, seed=3, today=date.today())
        _db.session.commit()
    page = logged_in("viewer", "fc_viewer")
    for width in (375, 1300):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server}/forecast")
        assert page.locator("#forecast-units svg.trend-chart").count() >= 3
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if SHOTS:
            page.screenshot(path=os.path.join(SHOTS, f"forecast_{width}.png"), full_page=True)
