"""An officer on a phone (375 px): activates the account from the login page's link, signs in,
walks their own pages (none wider than the screen), and shows the live card whose QR renews
itself; the scan page says 有效 (ME_SHOTS: a folder for screenshots to look at)."""

from __future__ import annotations

import os
from datetime import date

import pytest

from app.extensions import db as _db

# The layout at 375 px and the card page's script; what the pages read is covered on both
# databases by tests/web/test_me.py.
pytestmark = pytest.mark.engine_independent

WIDTH = 375
SHOTS = os.environ.get("ME_SHOTS")
PASSWORD = "Lantern-River-77"


def _officer_with_cases(app) -> tuple[str, str, str]:
    from sqlalchemy import func, select

    from app.applications.services import WorkflowError, submit
    from app.demo import seed
    from app.me.accounts import invite
    from app.models.cases import CaseCertificate
    from app.models.certificates import Certificate
    from app.models.officers import Officer
    from app.settings.services import set_value

    with app.app_context():
        seed(count=30, seed=3, today=date.today())
        oid = _db.session.scalar(
            select(Certificate.officer_id).join(CaseCertificate, CaseCertificate.number == Certificate.number)
            .join(Officer, Officer.id == Certificate.officer_id).where(Officer.employment_status == "active")
            .group_by(Certificate.officer_id).order_by(func.count().desc(), Certificate.officer_id).limit(1))
        officer = _db.session.get(Officer, oid)
        (_o, code), = invite([officer])
        try:  # 我的申请 has a row to show
            submit(officer, "renew", reason="到期换发")
        except WorkflowError:
            submit(officer, "new", reason="新任执法岗位")
        set_value("card_qr_seconds", "3")
        _db.session.commit()
        return officer.id_number, officer.name, code


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"me_{name}.png"), full_page=True)


def test_an_officer_on_a_phone(app, browser, live_server):
    idn, name, code = _officer_with_cases(app)
    context = browser.new_context(locale="zh-CN", viewport={"width": WIDTH, "height": 780})
    page = context.new_page()
    page.set_default_timeout(20000)
    try:
        page.goto(f"{live_server}/login")
        page.click("text=用激活码开通账号")
        page.fill("#id_number", idn)
        page.fill("#code", code)
        page.fill("#password", PASSWORD)
        page.fill("#confirm", PASSWORD)
        _shot(page, "activate")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/login")
        assert "账号已开通" in page.content()
        page.fill("input[name=username]", idn)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/me")
        too_wide = []
        for path in ("/me", "/me/hours", "/me/exams", "/me/cases", "/me/applications", "/me/claims/new",
                     "/me/requests", "/me/card"):
            page.goto(f"{live_server}{path}")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > WIDTH:
                too_wide.append((path, width))
            _shot(page, path.strip("/").replace("/", "_"))
        assert not too_wide, too_wide
        assert name in page.inner_text(".me-card") and idn not in page.content()
        first = page.get_attribute("a[data-verify-url]", "href")
        latest = first
        for _ in range(40):  # the page renews its QR by itself (card_qr_seconds: 3 here)
            page.wait_for_timeout(250)
            latest = page.get_attribute("a[data-verify-url]", "href")
            if latest != first:
                break
        assert latest != first
        assert latest.startswith("/verify/card/")
        scan = context.new_page()
        scan.goto(f"{live_server}{latest}")
        assert scan.inner_text("#card-state") == "有效"
        assert name in scan.content() and idn not in scan.content()
        assert scan.evaluate("document.documentElement.scrollWidth") <= WIDTH
        _shot(scan, "verify")
        manifest = page.request.get(f"{live_server}/manifest.webmanifest").json()
        assert manifest["start_url"] == "/me/card"
        assert page.request.get(f"{live_server}{manifest['icons'][0]['src']}").status == 200
    finally:
        context.close()
