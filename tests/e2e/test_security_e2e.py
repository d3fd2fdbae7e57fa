"""In a real browser under the Content-Security-Policy: no violations, and the page scripts that
used to be inline onclick handlers still work from static/app.js."""

from __future__ import annotations

from datetime import date

import pytest

from app.extensions import db as _db
from app.models.training import Attendance, TrainingSession
from tests.factories import OfficerFactory, UnitFactory

pytestmark = pytest.mark.engine_independent


def test_pages_run_under_the_csp(app, live_server, logged_in, page):
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    with app.app_context():
        unit = UnitFactory(name="综合执法队")
        a, b = OfficerFactory(name="赵敏", unit=unit), OfficerFactory(name="钱多", unit=unit)
        s = TrainingSession(title="安全生产法专题培训", held_on=date(2026, 1, 5), hours=6, category="specialist_law")
        _db.session.add(s)
        _db.session.flush()
        _db.session.add_all([Attendance(session_id=s.id, officer_id=o.id, status="registered", credited_hours=0)
                             for o in (a, b)])
        _db.session.commit()
        sid = s.id
    logged_in("clerk")
    for path in ("/", "/officers", "/flags", "/reviews"):
        page.goto(live_server + path)
    # The navbar dropdown (Bootstrap's script) opens.
    page.click("text=打印")
    assert page.locator("text=持证人员名册").is_visible()

    page.goto(f"{live_server}/training/{sid}")
    page.click("text=全部出席")
    assert page.locator("tr[data-officer='赵敏'] input[value=attended]").is_checked()
    assert page.locator("tr[data-officer='钱多'] input[value=attended]").is_checked()
    assert violations == []
