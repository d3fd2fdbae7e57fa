"""In a real browser: add an officer on an enforcement post, see UNLICENSED, issue a certificate,
see the flag disappear."""

from __future__ import annotations

from datetime import date

from tests.factories import UnitFactory, id_number


def test_add_officer_see_flag_issue_certificate_flag_disappears(app, live_server, logged_in):
    with app.app_context():
        from app.extensions import db

        UnitFactory(name="城市管理科")
        db.session.commit()
    number = id_number(date(1988, 4, 2), "F", "500108")
    page = logged_in("clerk")

    page.click("nav a.nav-link:text-is('执法人员')")
    page.click("text=新增人员")
    page.fill("input[name=name]", "曾小单")
    page.fill("input[name=id_number]", number)
    page.select_option("select[name=unit_id]", label="城市管理科")
    page.fill("input[name=position]", "执法队员")
    assert page.is_checked("input[name=on_enforcement_post]")
    page.click("#officer-form button[type=submit]")

    page.wait_for_selector("text=执法人员“曾小单”已保存")
    flags = page.locator("#flags")
    assert "未持证上岗" in flags.inner_text()
    assert "无执法证" in flags.inner_text()
    # the ID number is masked for a clerk
    assert number not in page.content()
    assert number[:6] + "********" + number[-4:] in page.content()

    page.click("text=登记证件 >> nth=0")
    page.fill("input[name=number]", "50010823990001")
    page.fill("input[name=issuing_authority]", "重庆市人民政府")
    page.fill("input[name=issued_on]", date.today().isoformat())
    page.fill("input[name=categories]", "城市管理")
    # no passed qualification exam in the last 3 years: the form asks for confirmation and a reason
    assert "近3年没有通过资格考试" in page.locator("#exam-confirm").inner_text()
    page.check("#no_exam_confirm")
    page.fill("#no_exam_reason", "新任领导干部，已报名下期资格考试")
    page.click("#certificate-form button[type=submit]")

    page.wait_for_selector("text=已为“曾小单”登记行政执法证 50010823990001")
    assert "/officers/" in page.url
    flags_text = page.locator("#flags").inner_text()
    assert "未持证上岗" not in flags_text
    assert "50010823990001" in page.content()

    # and the dashboard agrees: nobody is unlicensed any more
    page.goto(f"{live_server}/")
    assert page.locator("#flag-UNLICENSED .number").inner_text() == "0"
