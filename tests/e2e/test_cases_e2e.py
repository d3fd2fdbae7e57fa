"""In a real browser: enter a penalty case with two certified officers (numbers offered by the
form), see it green; back-date a suspension of one card, be warned that it changes one verdict,
confirm, and see the case turn red with the reason."""

from __future__ import annotations

from datetime import date, timedelta

from tests.factories import OfficerFactory, UnitFactory


def test_case_turns_red_after_a_back_dated_suspension(app, live_server, logged_in):
    today = date.today()
    with app.app_context():
        from app.certificates.services import create_certificate
        from app.extensions import db

        unit = UnitFactory(name="城市管理科")
        ids = {}
        for name, number in (("张三", "50010823770001"), ("李四", "50010823770002")):
            cert = create_certificate(OfficerFactory(name=name, unit=unit), {
                "number": number, "issued_on": date(2020, 1, 1), "expires_on": today + timedelta(days=900)},
                today=today)
            ids[name] = cert.id
        db.session.commit()
    page = logged_in("clerk")

    page.click("nav a.nav-link:text-is('案件核查')")
    page.click("text=登记案件")
    options = page.locator("datalist#cert-numbers option")
    assert options.count() == 2 and options.first.get_attribute("value") == "50010823770001"
    page.fill("input[name=case_no]", "南岸海街罚〔2026〕8号")
    page.fill("input[name=decided_on]", (today - timedelta(days=5)).isoformat())
    page.fill("input[name='numbers-0']", "50010823770001")
    page.fill("input[name='numbers-1']", "50010823770002")
    page.click("#case-form button[type=submit]")
    page.wait_for_selector("text=案件“南岸海街罚〔2026〕8号”已保存")
    assert page.locator(".verdict-ok").count() == 1

    page.goto(f"{live_server}/certificates/{ids['李四']}/actions/suspend")
    page.fill("input[name=effective_on]", (today - timedelta(days=10)).isoformat())
    page.fill("textarea[name=reason]", "涉嫌违规执法")
    page.click("#action-form button[type=submit]")
    warning = page.locator("#case-impact")
    assert "将改变 1 件行政处罚案件的核查结果" in warning.inner_text()
    page.click("#action-form button[type=submit]")
    page.wait_for_selector("text=证件 50010823770002 已暂扣")

    page.goto(f"{live_server}/cases")
    row = page.locator("#cases-table tbody tr").first
    assert "不符合" in row.inner_text() and "暂扣期间" in row.inner_text()
    assert "不足两名持证人员" in row.inner_text()
