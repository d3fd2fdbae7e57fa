"""我的申请 (/me/applications): an officer sees their own applications and where each stands — the
step it waits at, its due date, the history with who and why, the new card's number once done — and
never a colleague's."""

from __future__ import annotations

import re
from datetime import date

from tests.conftest import PASSWORD, csrf_from, make_user
from tests.web.test_me import _activate_and_login, people  # noqa: F401  (the same two colleagues)


def _text(resp) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", resp.get_data(as_text=True)))


def _staff(app, username: str, role: str):
    make_user(app, username, role)
    client = app.test_client()
    page = client.get("/login")
    resp = client.post("/login", data={"username": username, "password": PASSWORD,
                                       "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert resp.status_code == 302
    return client


def _post(client, url: str, data: dict, page: str):
    return client.post(url, data={**data, "csrf_token": csrf_from(client.get(page).get_data(as_text=True))})


def _submit(clerk, officer_id: int, kind: str, reason: str) -> str:
    resp = _post(clerk, "/applications/new", {"officer_id": officer_id, "kind": kind, "reason": reason},
                 f"/applications/new?officer_id={officer_id}")
    assert resp.status_code == 302, _text(resp)
    return resp.headers["Location"]


def test_an_officer_follows_their_own_application_and_not_a_colleagues(app, client, runner, people,  # noqa: F811
                                                                       set_today):
    set_today(date(2026, 6, 12))
    clerk = _staff(app, "clerk_me_apps", "clerk")
    admin = _staff(app, "admin_me_apps", "admin")
    mine = _submit(clerk, people["me"], "renew", "到期换发")
    _submit(clerk, people["other"], "replace", "同事的证件遗失")
    _activate_and_login(app, client, runner, people["idn"])

    nav = client.get("/me").get_data(as_text=True)
    assert 'href="/me/applications"' in nav
    page = _text(client.get("/me/applications"))
    assert "换证申请 SQ2026-00001" in page and "收件 2026年6月12日" in page and "原证 ZF-ME-0001" in page
    assert "当前： 待单位初审" in page and "办理期限：2026年6月29日前" in page
    assert "提交 · 提交申请 · clerk_me_apps" in page and "理由：到期换发" in page
    assert "SQ2026-00002" not in page and "补证申请" not in page and "同事的证件遗失" not in page
    assert "ZF-OT-0002" not in page and "李同事" not in page

    # the unit's review sends it back: the officer sees the new state, who returned it and why
    assert _post(admin, mine + "/decision", {"decision": "return", "reason": "照片不清晰"}, mine).status_code == 302
    page = _text(client.get("/me/applications"))
    assert "当前： 待单位初审" not in page and "办理期限" not in page
    assert "退回补正（单位初审退回）" in page
    assert "单位初审 · 退回补正 · admin_me_apps 理由：照片不清晰" in page

    # resubmitted and approved through every step: done, with the new card's number
    assert _post(clerk, mine + "/resubmit", {"note": "已换照片"}, mine).status_code == 302
    for _step in ("unit_review", "legal_review", "approval"):
        assert _post(admin, mine + "/decision", {"decision": "approve"}, mine).status_code == 302
    assert "当前： 待制证发证" in _text(client.get("/me/applications"))
    _post(admin, mine + "/decision", {"decision": "approve", "certificate_number": "ZF-ME-0009",
                                      "issued_on": "2026年6月12日"}, mine)
    page = _text(client.get("/me/applications"))
    assert "办结 2026年6月12日" in page and "新证编号： ZF-ME-0009" in page and "当前：" not in page
    assert "制证发证 · 同意 · admin_me_apps" in page


def test_no_applications_yet(app, client, runner, people):  # noqa: F811
    _activate_and_login(app, client, runner, people["idn"])
    resp = client.get("/me/applications")
    assert resp.status_code == 200 and "没有申领、换证、补证或注销申请" in _text(resp)
