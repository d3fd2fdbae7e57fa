"""Officer self-service: invitation, activation, the officer-only rule, the live card, claims."""

from __future__ import annotations

import io
import json
import re
import time
from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from tests.conftest import csrf_from, login, token
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory

NEW_PASSWORD = "Lantern-River-77"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def people(app):
    with app.app_context():
        return _people()


def _people():
    unit = UnitFactory(name="城管执法大队")
    me = OfficerFactory(name="王自助", unit=unit)
    other = OfficerFactory(name="李同事", unit=unit)
    mine = CertificateFactory(officer=me, number="ZF-ME-0001", issued_on=date(2024, 1, 1),
                              expires_on=date(2029, 1, 1), status="valid")
    theirs = CertificateFactory(officer=other, number="ZF-OT-0002", issued_on=date(2024, 1, 1),
                                expires_on=date(2029, 1, 1), status="valid")
    db.session.commit()
    return {"me": me.id, "other": other.id, "idn": me.id_number, "cert": mine.id, "other_cert": theirs.id}


def _invite(app, runner, idn: str, name: str = "王自助") -> str:
    result = runner.invoke(args=["officers", "invite", idn, "--format", "text"])
    assert result.exit_code == 0, result.output
    number, got, code = result.output.strip().split("\t")
    assert number == idn and got == name
    return code


def _activate_and_login(app, client, runner, idn: str, name: str = "王自助"):
    code = _invite(app, runner, idn, name)
    page = client.get("/me/activate")
    resp = client.post("/me/activate", data={"id_number": idn, "code": code, "password": NEW_PASSWORD,
                                             "confirm": NEW_PASSWORD,
                                             "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    page = client.get("/login")
    resp = client.post("/login", data={"username": idn, "password": NEW_PASSWORD,
                                       "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/me")
    return code


def test_invite_activate_and_see_only_ones_own_record(app, client, runner, people, set_today):
    set_today(date(2026, 6, 15))
    code = _activate_and_login(app, client, runner, people["idn"])
    html = client.get("/me").get_data(as_text=True)
    assert "王自助" in html and "ZF-ME-0001" in html
    assert people["idn"] not in html and people["idn"][:6] in html  # masked
    assert "李同事" not in html and "ZF-OT-0002" not in html
    # the code works once
    client.post("/logout", data={"csrf_token": token(client, "/me")})
    page = client.get("/me/activate")
    resp = client.post("/me/activate", data={"id_number": people["idn"], "code": code, "password": NEW_PASSWORD,
                                             "confirm": NEW_PASSWORD,
                                             "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert resp.status_code == 400 and "激活码已使用" in resp.get_data(as_text=True)


def test_weak_password_is_refused_with_the_products_rule(app, client, runner, people):
    code = _invite(app, runner, people["idn"])
    page = client.get("/me/activate")
    resp = client.post("/me/activate", data={"id_number": people["idn"], "code": code, "password": "rstuvwxy",
                                             "confirm": "rstuvwxy",
                                             "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert resp.status_code == 400 and "连续的字符" in resp.get_data(as_text=True)


def test_an_officer_account_gets_404_everywhere_else(app, client, runner, people):
    _activate_and_login(app, client, runner, people["idn"])
    for url in ["/", "/officers", f"/officers/{people['other']}", f"/officers/{people['me']}",
                f"/certificates/{people['other_cert']}", f"/certificates/{people['cert']}", "/flags",
                "/api/v1/officers", "/training/claims", "/users", "/account", "/cases"]:
        assert client.get(url).status_code == 404, url
    assert client.get(f"/me/card?c={people['other_cert']}").status_code == 404
    assert client.get("/me").status_code == 200


def test_staff_have_no_me_pages(app, client, people):
    login(client, app, "admin")
    assert client.get("/me").status_code == 404
    assert client.get("/me/card").status_code == 404


def test_reinvite_and_departure_end_the_account(app, client, runner, people):
    _activate_and_login(app, client, runner, people["idn"])
    assert client.get("/me").status_code == 200
    _invite(app, runner, people["idn"])
    assert client.get("/me").status_code == 302  # the old session ended


def _card_link(client) -> str:
    html = client.get("/me/card").get_data(as_text=True)
    m = re.search(r'<a data-verify-url href="(/verify/card/[^"]+)"', html)
    assert m, html
    return m.group(1)


def test_the_live_card_says_valid_then_suspended_then_expired(app, client, runner, people, set_today):
    from app.certificates.services import transition
    from app.models.certificates import Certificate
    from app.settings.services import set_value

    set_today(date(2026, 6, 15))
    _activate_and_login(app, client, runner, people["idn"])
    link = _card_link(client)
    anon = app.test_client()
    html = anon.get(link).get_data(as_text=True)
    assert "有效" in html and "王自助" in html and "ZF-ME-0001" in html and people["idn"] not in html
    with app.app_context():
        cert = db.session.get(Certificate, people["cert"])
        transition(cert, "suspend", effective_on=date(2026, 6, 15), reason="调查期间", today=date(2026, 6, 15))
        db.session.commit()
    html = anon.get(link).get_data(as_text=True)
    assert "暂扣中" in html
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    resp = anon.get(tampered)
    assert resp.status_code == 404 and "无法验证" in resp.get_data(as_text=True)
    with app.app_context():
        set_value("card_qr_seconds", "2")
        db.session.commit()
    link = _card_link(client)
    time.sleep(3.1)
    html = anon.get(link).get_data(as_text=True)
    assert "二维码已过期，请执法人员刷新" in html and "王自助" not in html
    with app.app_context():
        from app.models.verify import VerifyHit

        hits = db.session.scalar(select(VerifyHit.hits).where(VerifyHit.kind == "card",
                                                              VerifyHit.row_id == people["cert"]))
    assert hits == 3


def test_a_claim_approved_by_a_clerk_counts_in_the_ledger(app, client, runner, people, set_today):
    from app.models.me import TrainingClaim
    from app.models.training import TrainingHours

    set_today(date(2026, 6, 15))
    _activate_and_login(app, client, runner, people["idn"])
    page = client.get("/me/claims/new")
    resp = client.post("/me/claims/new", data={
        "title": "省厅执法培训", "organiser": "省司法厅", "date": "2026-05-10", "hours": "12",
        "category": "specialist_law", "proof": (io.BytesIO(PNG), "proof.png"),
        "csrf_token": csrf_from(page.get_data(as_text=True))}, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert "待审核" in client.get("/me/hours").get_data(as_text=True)
    clerk = app.test_client()
    login(clerk, app, "clerk")
    assert "省厅执法培训" in clerk.get("/training/claims").get_data(as_text=True)
    with app.app_context():
        claim_id = db.session.scalar(select(TrainingClaim.id))
    resp = clerk.post(f"/training/claims/{claim_id}/decide",
                      data={"decision": "approve", "csrf_token": token(clerk, "/training/claims")})
    assert resp.status_code == 302
    with app.app_context():
        row = db.session.scalar(select(TrainingHours).where(TrainingHours.officer_id == people["me"],
                                                            TrainingHours.year == 2026))
        assert row is not None and row.counted == 12 and row.attended == 0
    assert ">12 <" in client.get("/me/hours").get_data(as_text=True).replace("\n", "")


def test_a_claim_for_a_closed_year_is_refused(app, client, runner, people, set_today):
    from app.rules.training import set_rule

    set_today(date(2026, 6, 15))
    with app.app_context():
        set_rule(2025, 60, {}, closes_on=date(2026, 1, 31))
        db.session.commit()
    _activate_and_login(app, client, runner, people["idn"])
    page = client.get("/me/claims/new")
    resp = client.post("/me/claims/new", data={
        "title": "去年的培训", "date": "2025-05-10", "hours": "6", "category": "specialist_law",
        "proof": (io.BytesIO(PNG), "p.png"),
        "csrf_token": csrf_from(page.get_data(as_text=True))}, content_type="multipart/form-data")
    assert resp.status_code == 400 and "2025年度培训记录已截止" in resp.get_data(as_text=True)


def test_invite_json_and_unknown_id_number(app, runner, people):
    result = runner.invoke(args=["officers", "invite", people["idn"], "--format", "json"])
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert rows[0]["id_number"] == people["idn"] and rows[0]["name"] == "王自助" and len(rows[0]["code"]) == 11
    result = runner.invoke(args=["officers", "invite", "110101199001011234"])
    assert result.exit_code == 1 and "没有这些身份证号" in result.output


def test_an_officer_takes_an_open_online_exam_without_the_access_code(app, runner, client, tmp_path):
    from tests.online_data import KEY, exam_with_bank

    exam_id, (cand,) = exam_with_bank(app, runner, tmp_path, 1)
    _activate_and_login(app, client, runner, cand["id_number"], cand["name"])
    html = client.get("/me/exams").get_data(as_text=True)
    assert "法治理论考试" in html and "参加考试" in html
    resp = client.post(f"/me/exams/{exam_id}/start", data={"csrf_token": csrf_from(html)})
    assert resp.status_code == 200
    tok = re.search(r'data-token="([^"]+)"', resp.get_data(as_text=True)).group(1)
    room = app.test_client()  # the exam room needs no staff login: the token is the candidate
    headers = {"Authorization": f"Bearer {tok}"}
    questions = room.get("/exam/api/paper", headers=headers).get_json()["questions"]
    for q in questions:
        assert room.put(f"/exam/api/answers/{q['id']}", json={"answer": KEY[q["stem"]]},
                        headers=headers).status_code == 204
    assert room.post("/exam/api/submit", headers=headers).get_json()["score"] == 10.0
    assert "参加考试" not in client.get("/me/exams").get_data(as_text=True)
    # another officer's exam: not theirs
    resp = client.post("/me/exams/999/start", data={"csrf_token": csrf_from(html)})
    assert resp.status_code == 404


def test_the_shortfall_flag_counts_an_approved_claim(app, client, runner, people, set_today):
    from app.me.claims import decide_claim, file_claim
    from app.models.me import TrainingClaim
    from app.models.officers import Officer
    from app.rules.compliance import Params, list_flags

    set_today(date(2026, 6, 15))

    def shortfall():
        with app.app_context():
            p = Params.from_settings(date(2026, 6, 15), 30)
            return [f for f in list_flags(p, flags=["TRAINING_SHORTFALL"], officer_id=people["me"])]

    assert shortfall()  # nothing this year yet: behind pace
    with app.app_context():
        officer = db.session.get(Officer, people["me"])
        file_claim(officer, {"title": "外单位培训", "date": "2026-03-01", "hours": "59",
                             "category": "general_law"}, "p.png", PNG, date(2026, 6, 15))
        db.session.commit()
    assert shortfall()  # pending: not counted
    with app.app_context():
        decide_claim(db.session.scalar(select(TrainingClaim)), True)
        db.session.commit()
    assert not shortfall()


def test_a_returned_claim_needs_a_reason_and_does_not_count(app, client, runner, people, set_today):
    from app.models.me import TrainingClaim
    from app.models.training import TrainingHours

    set_today(date(2026, 6, 15))
    _activate_and_login(app, client, runner, people["idn"])
    page = client.get("/me/claims/new")
    client.post("/me/claims/new", data={
        "title": "退回的培训", "date": "2026-05-10", "hours": "4", "category": "political",
        "proof": (io.BytesIO(b"%PDF-1.4 proof"), "p.pdf"),
        "csrf_token": csrf_from(page.get_data(as_text=True))}, content_type="multipart/form-data")
    clerk = app.test_client()
    login(clerk, app, "clerk")
    with app.app_context():
        claim_id = db.session.scalar(select(TrainingClaim.id))
    csrf = token(clerk, "/training/claims")
    resp = clerk.post(f"/training/claims/{claim_id}/decide", data={"decision": "return", "csrf_token": csrf},
                      follow_redirects=True)
    assert "退回时请填写理由" in resp.get_data(as_text=True)
    clerk.post(f"/training/claims/{claim_id}/decide", data={"decision": "return", "reason": "证明不清晰",
                                                            "csrf_token": csrf})
    assert "证明不清晰" in client.get("/me/hours").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(TrainingHours.counted)
                                 .where(TrainingHours.officer_id == people["me"])) in (None, 0)


def test_a_claim_with_a_renamed_executable_is_refused(app, client, runner, people, set_today):
    set_today(date(2026, 6, 15))
    _activate_and_login(app, client, runner, people["idn"])
    page = client.get("/me/claims/new")
    resp = client.post("/me/claims/new", data={
        "title": "x", "date": "2026-05-10", "hours": "abc", "category": "political",
        "proof": (io.BytesIO(b"MZ\x90\x00"), "p.pdf"),
        "csrf_token": csrf_from(page.get_data(as_text=True))}, content_type="multipart/form-data")
    text = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "学时应为 0 到 200 之间的数" in text and "只能上传 PDF、JPG 或 PNG" in text


def test_phone_change_goes_to_the_unit_for_approval(app, client, runner, people):
    from app.models.me import ChangeRequest
    from app.models.officers import Officer

    _activate_and_login(app, client, runner, people["idn"])
    page = client.get("/me/requests")
    resp = client.post("/me/requests", data={"field": "phone", "phone": "13800138000",
                                             "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(Officer, people["me"]).phone != "13800138000"
        req_id = db.session.scalar(select(ChangeRequest.id))
    clerk = app.test_client()
    login(clerk, app, "clerk")
    assert "13800138000" in clerk.get("/officers/requests").get_data(as_text=True)
    clerk.post(f"/officers/requests/{req_id}/decide", data={"decision": "approve",
                                                           "csrf_token": token(clerk, "/officers/requests")})
    with app.app_context():
        assert db.session.get(Officer, people["me"]).phone == "13800138000"


def test_the_web_slip_masks_the_id_number_and_its_code_activates(app, client, people):
    login(client, app, "clerk")
    resp = client.post("/officers/invite", data={"ids": [people["me"]], "csrf_token": token(client, "/officers")})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "王自助" in html and people["idn"] not in html
    code = re.search(r'class="fs-4 font-monospace slip-code">([A-Z0-9-]+)<', html).group(1)
    assert 'src="data:image/svg+xml' in html  # the QR to /me/activate
    client.post("/logout", data={"csrf_token": token(client, "/")})
    page = client.get("/me/activate")
    resp = client.post("/me/activate", data={"id_number": people["idn"], "code": code.lower(),
                                             "password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                                             "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert resp.status_code == 302


def test_a_departed_officer_loses_the_account(app, client, runner, people):
    from app.models.officers import Officer

    _activate_and_login(app, client, runner, people["idn"])
    with app.app_context():
        db.session.get(Officer, people["me"]).employment_status = "resigned"
        db.session.commit()
    assert client.get("/me").status_code == 302
    page = client.get("/login")
    resp = client.post("/login", data={"username": people["idn"], "password": NEW_PASSWORD,
                                       "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert resp.status_code == 200 and "用户名或密码错误" in resp.get_data(as_text=True)


def test_cases_show_only_ones_own_numbers_and_problems(app, client, runner, people):
    from app.cases.services import save_case

    with app.app_context():
        save_case(None, {"case_no": "渝罚〔2026〕7号", "decided_on": date(2026, 3, 1), "unit": "城管执法大队",
                         "officer_names": "王自助、李同事", "certificate_numbers": ["ZF-ME-0001", "ZF-OT-0002"]})
        save_case(None, {"case_no": "渝罚〔2026〕8号", "decided_on": date(2026, 3, 2), "unit": "城管执法大队",
                         "officer_names": "李同事", "certificate_numbers": ["ZF-OT-0002", "ZF-XX-9999"]})
        db.session.commit()
    _activate_and_login(app, client, runner, people["idn"])
    html = client.get("/me/cases").get_data(as_text=True)
    assert "渝罚〔2026〕7号" in html and "ZF-ME-0001" in html
    assert "渝罚〔2026〕8号" not in html and "ZF-OT-0002" not in html and "李同事" not in html


def test_a_clerk_of_another_unit_neither_sees_nor_decides_the_claim(app, client, people, set_today):
    from app.auth.services import create_user
    from app.me.claims import file_claim
    from app.models.me import TrainingClaim
    from app.models.officers import Officer
    from tests.conftest import PASSWORD

    set_today(date(2026, 6, 15))
    with app.app_context():
        officer = db.session.get(Officer, people["me"])
        file_claim(officer, {"title": "本单位看得到的培训", "date": "2026-03-01", "hours": "3",
                             "category": "general_law"}, "p.png", PNG, date(2026, 6, 15))
        elsewhere = UnitFactory(name="别的单位")
        create_user("far_clerk", "clerk", PASSWORD, unit_id=elsewhere.id)
        db.session.commit()
        claim_id = db.session.scalar(select(TrainingClaim.id))
    page = client.get("/login")
    client.post("/login", data={"username": "far_clerk", "password": PASSWORD,
                                "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert "本单位看得到的培训" not in client.get("/training/claims").get_data(as_text=True)
    assert client.get(f"/training/claims/{claim_id}/proof").status_code == 404
    resp = client.post(f"/training/claims/{claim_id}/decide",
                       data={"decision": "approve", "csrf_token": token(client, "/training/claims")})
    assert resp.status_code == 404
    with app.app_context():
        assert db.session.get(TrainingClaim, claim_id).status == "pending"


def test_the_claims_list_searches_by_name(app, client, people, set_today):
    from app.me.claims import file_claim
    from app.models.officers import Officer

    set_today(date(2026, 6, 15))
    with app.app_context():
        for oid, title in ((people["me"], "甲培训"), (people["other"], "乙培训")):
            file_claim(db.session.get(Officer, oid), {"title": title, "date": "2026-03-01", "hours": "3",
                                                      "category": "general_law"}, "p.png", PNG, date(2026, 6, 15))
        db.session.commit()
    login(client, app, "clerk")
    html = client.get("/training/claims?q=王自助").get_data(as_text=True)
    assert "甲培训" in html and "乙培训" not in html
    assert "没有已通过的申报" in client.get("/training/claims?status=approved").get_data(as_text=True)


def test_a_second_page_of_claims_keeps_the_page_title_plain(app, client, people, set_today):
    """With more claims than a page holds, the pager is drawn under the table, never in <title>."""
    from app.models.me import TrainingClaim

    set_today(date(2026, 6, 15))
    with app.app_context():
        db.session.add_all(TrainingClaim(officer_id=people["me"], title=f"培训{i}", held_on=date(2026, 3, 1),
                                         hours=1, category="general_law") for i in range(51))
        db.session.commit()
    login(client, app, "clerk")
    html = client.get("/training/claims").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert "学时申报审核" in title and "<" not in title
    assert 'href="/training/claims?page=2' in html or "page=2" in html
