"""In a real browser at a phone's width (375 px): no page of the app is wider than the screen.
Every GET page an administrator can open is walked, on demo data."""

from __future__ import annotations

import os
from datetime import date

import pytest

from app.extensions import db as _db
from tests.conftest import PASSWORD, make_user
from tests.web.test_page_walk import _sample_ids, _urls

pytestmark = pytest.mark.engine_independent

WIDTH = 375
SHOTS = os.environ.get("PHONE_SHOTS")  # a folder: screenshots of every page, to look at


@pytest.fixture
def demo_data(app):
    from app.demo import seed

    with app.app_context():
        seed(count=30, seed=3, today=date.today())
        _db.session.commit()


def _busiest_officer_pages(app) -> list[str]:
    """The detail page of an officer named on penalty cases (its cases table is the widest)."""
    from sqlalchemy import func, select

    from app.models.cases import CaseCertificate
    from app.models.certificates import Certificate

    with app.app_context():
        oid = _db.session.scalar(
            select(Certificate.officer_id).join(CaseCertificate, CaseCertificate.number == Certificate.number)
            .group_by(Certificate.officer_id).order_by(func.count().desc(), Certificate.officer_id).limit(1))
    assert oid is not None  # the demo data has cases
    return [f"/officers/{oid}", f"/officers/{oid}/merge"]


def test_no_page_is_wider_than_a_phone(app, browser, live_server, demo_data):
    make_user(app, "phone_admin", "admin")
    ids = _sample_ids(app)
    context = browser.new_context(locale="zh-CN", viewport={"width": WIDTH, "height": 800})
    page = context.new_page()
    page.set_default_timeout(20000)
    too_wide, walked = [], 0
    try:
        page.goto(f"{live_server}/login")
        page.fill("input[name=username]", "phone_admin")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/")
        for url in _urls(app, ids) + _busiest_officer_pages(app):
            head = page.request.get(f"{live_server}{url}", max_redirects=0)
            if head.status not in (200, 202) or not head.headers.get("content-type", "").startswith("text/html"):
                continue
            page.goto(f"{live_server}{url}")
            walked += 1
            width = page.evaluate("document.documentElement.scrollWidth")
            if SHOTS:
                name = url.strip("/").replace("/", "_") or "home"
                page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)
            if width > WIDTH:
                widest = page.evaluate("""(w) => Array.from(document.querySelectorAll('body *'))
                    .filter(el => el.getBoundingClientRect().right > w + 1)
                    .filter(el => !Array.from(el.children).some(c => c.getBoundingClientRect().right > w + 1))
                    .slice(0, 3).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                        + (el.className && typeof el.className === 'string'
                           ? '.' + el.className.split(' ').join('.') : ''))""",
                                       WIDTH)
                too_wide.append(f"{url}: {width}px ({', '.join(widest)})")
    finally:
        context.close()
    assert walked > 30
    assert not too_wide, "\n".join(too_wide)
