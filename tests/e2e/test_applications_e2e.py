"""One application walked through its steps in a browser: a street's clerk submits it from the
officer page, the unit's admin approves, 法制审核 returns it, the clerk resubmits, 审批 approves and
制证发证 issues the card; screenshots of each page are kept in $APPS_SHOTS (when set)."""

from __future__ import annotations

import os

from tests.conftest import PASSWORD
from tests.web.test_applications_api import flow  # noqa: F401  (units, people, users)


def _shot(page, name: str) -> None:
    folder = os.environ.get("APPS_SHOTS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


def _as(browser, live_server, username: str):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1300, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    return page


def test_an_application_walks_through_the_steps_in_the_browser(app, browser, live_server, flow):  # noqa: F811
    clerk = _as(browser, live_server, "street_clerk")
    clerk.goto(f"{live_server}/officers/{flow.ids['张三'][0]}")
    clerk.click("#officer-applications a:has-text('提交申请')")
    clerk.select_option("#kind", "new")
    clerk.fill("#reason", "新任城市管理执法岗位")
    _shot(clerk, "1-new")
    clerk.click("button:has-text('提交申请')")
    clerk.wait_for_selector("#timeline")
    assert "单位初审" in clerk.inner_text("#state")
    detail = clerk.url
    _shot(clerk, "2-submitted")

    admin = _as(browser, live_server, "street_admin")
    assert "SQ2026-00001" in admin.inner_text("#todo-list")
    _shot(admin, "3-dashboard-todo")
    admin.click("#todo-list a:has-text('SQ2026-00001')")
    admin.fill("#approve-reason", "材料齐全，同意上报")
    admin.click("#approve")
    admin.wait_for_selector(".alert-success")
    assert "法制审核" in admin.inner_text("#state")

    legal = _as(browser, live_server, "legal")
    legal.goto(detail)
    legal.fill("#return-reason", "缺少学历证明")
    legal.click("#return")
    legal.wait_for_selector(".alert-success")
    assert "退回补正" in legal.inner_text("#state")

    clerk.goto(f"{live_server}/")
    assert "补正后重新提交" in clerk.inner_text("#todo-list")
    clerk.goto(detail)
    _shot(clerk, "4-returned")
    clerk.fill("#resubmit input[name=note]", "已补学历证明")
    clerk.click("#resubmit button")
    clerk.wait_for_selector(".alert-success")
    assert "法制审核" in clerk.inner_text("#state")

    legal.goto(detail)
    legal.click("#approve")
    legal.wait_for_selector(".alert-success")
    chief = _as(browser, live_server, "chief")
    chief.goto(detail)
    chief.click("#approve")
    chief.wait_for_selector(".alert-success")

    issuer = _as(browser, live_server, "issuer")
    issuer.goto(detail)
    issuer.fill("#certificate_number", "50010326000001")
    _shot(issuer, "5-issuing")
    issuer.click("#approve")
    issuer.wait_for_selector(".alert-success")
    assert "办结" in issuer.inner_text("#state")
    assert "50010326000001" in issuer.inner_text("#new-card")
    timeline = issuer.inner_text("#timeline")
    for words in ("提交申请", "材料齐全，同意上报", "缺少学历证明", "已补学历证明", "制证发证"):
        assert words in timeline, words
    _shot(issuer, "6-done")
    issuer.goto(f"{live_server}/applications")
    _shot(issuer, "7-list")
    clerk.goto(f"{live_server}/officers/{flow.ids['张三'][0]}")
    assert "50010326000001" in clerk.inner_text("body")
    for p in (clerk, admin, legal, chief, issuer):
        p.context.close()
