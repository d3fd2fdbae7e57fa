"""In a real browser: record a session's attendance, then see the training ledger change."""

from __future__ import annotations

from datetime import date

from app.extensions import db as _db
from app.models.training import Attendance, TrainingSession
from tests.factories import OfficerFactory, UnitFactory


def test_record_attendance_and_ledger_changes(app, live_server, logged_in):
    year = date.today().year
    with app.app_context():
        unit = UnitFactory(name="综合执法队")
        OfficerFactory(name="赵敏", unit=unit)
        OfficerFactory(name="钱多", unit=unit)
        s = TrainingSession(title="安全生产法专题培训", held_on=date(year, 1, 5), hours=6, category="specialist_law")
        _db.session.add(s)
        _db.session.commit()
        sid = s.id
    page = logged_in("clerk")

    page.goto(f"{live_server}/training/ledger?year={year}")
    row = page.locator("tr[data-officer='赵敏']")
    assert row.locator("td.hours").inner_text() == "0"

    page.click("text=培训")  # the navbar link
    page.click("text=安全生产法专题培训")
    page.wait_for_url(f"{live_server}/training/{sid}")
    page.select_option("#enrol-mode", "unit")
    page.select_option("select[name=unit_id]", label="综合执法队")
    page.click("#enrol-form button[type=submit]")
    page.wait_for_selector("text=已添加 2 名参训人员")

    page.locator("tr[data-officer='赵敏'] input[value=attended]").check()
    page.locator("tr[data-officer='钱多'] input[value=absent]").check()
    page.locator("tr[data-officer='赵敏'] input[name^=hours-]").fill("5.5")
    page.click("#save-attendance")
    page.wait_for_selector("text=出勤已保存（2 人有变动）")
    assert page.locator("#attended-count").inner_text() == "1"

    page.goto(f"{live_server}/training/ledger?year={year}")
    assert page.locator("tr[data-officer='赵敏'] td.hours").inner_text() == "5.5"
    assert page.locator("tr[data-officer='钱多'] td.hours").inner_text() == "0"
    with app.app_context():
        assert _db.session.query(Attendance).filter_by(session_id=sid, status="attended").count() == 1
