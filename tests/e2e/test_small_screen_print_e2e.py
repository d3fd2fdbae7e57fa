"""In a real browser: lists readable on a 375 px phone screen; /flags printed keeps its badges."""

from __future__ import annotations

from datetime import date

import pytest

from app.extensions import db as _db
from app.models.training import Attendance, TrainingSession
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory

pytestmark = pytest.mark.engine_independent

LINES = """(sel) => Array.from(document.querySelectorAll(sel)).map(el => {
  const r = document.createRange(); r.selectNodeContents(el);
  const tops = new Set(Array.from(r.getClientRects()).filter(x => x.width > 0).map(x => Math.round(x.top)));
  return [el.innerText.trim(), tops.size];
})"""


def test_officer_list_and_attendance_grid_at_375px(app, browser, live_server):
    from tests.conftest import PASSWORD, make_user

    with app.app_context():
        unit = UnitFactory(name="海棠溪街道综合行政执法大队")
        a = OfficerFactory(name="欧阳明月", unit=unit, position="四级主任科员")
        CertificateFactory(officer=a, expires_on=date(2028, 12, 31))
        s = TrainingSession(title="行政处罚法专题培训", held_on=date(2026, 3, 1), hours=6, category="general_law")
        _db.session.add_all([s, Attendance(session=s, officer_id=a.id, status="registered", credited_hours=0)])
        _db.session.commit()
        sid = s.id
    make_user(app, "phone_user", "clerk")
    context = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 740})
    page = context.new_page()
    try:
        page.goto(f"{live_server}/login")
        page.fill("input[name=username]", "phone_user")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/")
        page.goto(f"{live_server}/officers")
        cells = page.evaluate(LINES, "#officers tbody td")
        assert ["欧阳明月", 1] in cells, cells
        assert all(n == 1 for _text, n in cells), cells  # every cell on one line (the table scrolls)
        assert "2028年12月31日" in page.locator("#officers").inner_text()
        page.goto(f"{live_server}/training/{sid}")
        cells = page.evaluate(LINES, "tr[data-officer] td")
        assert ["欧阳明月", 1] in cells and ["海棠溪街道综合行政执法大队", 1] in cells, cells
    finally:
        context.close()


def test_flag_badges_stay_legible_when_printed(app, live_server, logged_in):
    with app.app_context():
        OfficerFactory(name="无证人")  # on post without a certificate: UNLICENSED
        _db.session.commit()
    page = logged_in("viewer")
    page.goto(f"{live_server}/flags")
    page.emulate_media(media="print")
    badge = page.locator("#flags-table .badge").first
    style = badge.evaluate("""el => { const s = getComputedStyle(el);
        return [s.color, s.borderTopStyle, s.printColorAdjust || s.webkitPrintColorAdjust]; }""")
    color, border, _adjust = style
    r, g, b = (int(x) for x in color[color.index("(") + 1:color.index(")")].split(",")[:3])
    assert (r + g + b) / 3 < 128, style  # dark text: readable on the white paper backgrounds become
    assert border != "none", style
