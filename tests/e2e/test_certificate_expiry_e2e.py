"""In a real browser: a new certificate's expiry follows the issue date typed on the form."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.extensions import db as _db
from app.models.certificates import Certificate
from tests.factories import OfficerFactory, UnitFactory


def test_expiry_left_empty_follows_issue_date_and_expired_card_is_flagged(app, live_server, logged_in, set_today):
    set_today(date(2026, 6, 15))
    with app.app_context():
        officer = OfficerFactory(name="孙立", unit=UnitFactory(name="城管执法队"))
        _db.session.commit()
        oid = officer.id
    page = logged_in("clerk")
    page.goto(f"{live_server}/officers/{oid}/certificates/new")
    expiry = page.locator("input[name=expires_on]")
    assert expiry.input_value() == ""  # not a date computed from today
    page.fill("input[name=number]", "50010823001234")
    page.fill("input[name=issued_on]", "2021-03-01")
    # the date the empty box will be saved as, shown beside it and following the issue date
    assert "2026年2月28日" in page.locator(".expiry-preview").inner_text()
    page.fill("input[name=issued_on]", "2021年5月10日")
    assert "2026年5月9日" in page.locator(".expiry-preview").inner_text()
    page.fill("input[name=issued_on]", "2021/3/1")
    assert "2026年2月28日" in page.locator(".expiry-preview").inner_text()
    assert expiry.input_value() == ""
    page.check("#no_exam_confirm")
    page.fill("#no_exam_reason", "补录历史证件")
    page.click("#certificate-form button[type=submit]")
    page.wait_for_url(f"{live_server}/officers/{oid}")
    assert "2026年2月28日" in page.content()
    flags = page.locator("#flags").inner_text()
    assert "未持证上岗" in flags and "证件已过期" in flags
    with app.app_context():
        cert = _db.session.scalar(select(Certificate).where(Certificate.officer_id == oid))
        assert (cert.issued_on, cert.expires_on) == (date(2021, 3, 1), date(2026, 2, 28))
