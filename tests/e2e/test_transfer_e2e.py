"""调动 in a browser: the officer page links to the transfer page, the form asks for confirmation,
the unit history shows the move (TRANSFER_SHOTS: a folder for screenshots to look at)."""

from __future__ import annotations

import os
from datetime import date

from app.extensions import db as _db

SHOTS = os.environ.get("TRANSFER_SHOTS")


def test_a_transfer_through_the_form(app, page, live_server, logged_in):
    from tests.factories import CertificateFactory, OfficerFactory, UnitFactory

    with app.app_context():
        a = UnitFactory(name="城市管理科")
        UnitFactory(name="综合执法队", enforcement_fields="城市管理、市场监管")
        o = OfficerFactory(name="调动人员", unit=a, post_since=date(2019, 5, 1))
        CertificateFactory(officer=o, categories="城市管理", issued_on=date(2024, 1, 1), expires_on=date(2099, 1, 1))
        _db.session.commit()
        oid = o.id
    logged_in("clerk", "transfer_clerk")
    page.goto(f"{live_server}/officers/{oid}")
    page.click("#transfer-link")
    page.select_option("select[name=to_unit]", label="综合执法队")
    page.fill("input[name=on]", "2025年3月1日")
    page.fill("input[name=document_no]", "区人社〔2025〕12号")
    page.fill("input[name=reason]", "工作需要")
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "transfer_form.png"), full_page=True)
    messages = []
    page.once("dialog", lambda d: (messages.append(d.message), d.accept()))
    page.click("#transfer button[type=submit]")
    page.wait_for_url(f"**/officers/{oid}#unit-history")
    assert messages and "确定登记“调动人员”的调动吗" in messages[0]
    history = page.locator("#unit-history-table").inner_text()
    assert "综合执法队" in history and "2025年3月1日" in history and "区人社〔2025〕12号" in history
    assert "需换证" in page.content()
    changes = page.locator("#officer-history").inner_text()  # 变动记录 (from the audit log) has it too
    assert "城市管理科" in changes and "综合执法队" in changes
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "transfer_officer.png"), full_page=True)
