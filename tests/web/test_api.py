"""The token API /api/v1: tokens (CLI, account page), Bearer auth, each endpoint's JSON, paging,
certificate state on a date, errors, rate limit, the OpenAPI document."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from app.extensions import db as _db
from tests.conftest import TODAY, csrf_from, login, make_user
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory


def issue(runner, username: str, label: str = "") -> str:
    args = ["users", "token", username] + (["--label", label] if label else [])
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def bearer(tok: str) -> dict:
    return {"Authorization": f"Bearer {tok}"}


@pytest.fixture
def api(app, runner, client, set_today):
    """A viewer's token, and a GET helper that sends it."""
    set_today(TODAY)
    make_user(app, "caller", "viewer")
    tok = issue(runner, "caller", "案件系统")

    def get(url, **kw):
        return client.get(url, headers=bearer(tok), **kw)

    get.token = tok
    return get


# --- tokens -------------------------------------------------------------------------------------

def test_token_is_printed_once_alone_on_its_last_line_and_stored_hashed(app, runner):
    make_user(app, "caller", "viewer")
    result = runner.invoke(args=["users", "token", "caller", "--label", "案件系统"])
    assert result.exit_code == 0
    tok = result.output.strip().splitlines()[-1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{32,}", tok)
    from app.models.api import ApiToken

    with app.app_context():
        row = _db.session.query(ApiToken).one()
        assert row.label == "案件系统" and row.token_hash != tok and tok not in row.token_hash
        import hashlib

        assert row.token_hash == hashlib.sha256(tok.encode()).hexdigest()
        from app.models.audit import AuditEvent

        assert _db.session.query(AuditEvent).filter_by(entity_type="api_token", action="create").count() == 1


def test_token_for_unknown_user_or_same_label_is_refused(app, runner):
    make_user(app, "caller", "viewer")
    assert runner.invoke(args=["users", "token", "nobody"]).exit_code == 1
    issue(runner, "caller", "甲")
    again = runner.invoke(args=["users", "token", "caller", "--label", "甲"])
    assert again.exit_code == 1 and "已有名为“甲”的有效令牌" in again.output


def test_401_without_with_bad_and_with_revoked_token(api, client, runner):
    assert api("/api/v1/officers").status_code == 200
    for headers in ({}, bearer("x" * 43), {"Authorization": "Basic abc"}, {"Authorization": "Bearer "}):
        resp = client.get("/api/v1/officers", headers=headers)
        assert resp.status_code == 401
        body = resp.get_json()
        assert set(body) == {"error", "message"} and re.search(r"[\u4e00-\u9fff]", body["message"])
    result = runner.invoke(args=["users", "revoke-token", "caller", "案件系统"])
    assert result.exit_code == 0, result.output
    resp = api("/api/v1/officers")
    assert resp.status_code == 401 and resp.get_json()["error"] == "invalid_token"
    assert runner.invoke(args=["users", "revoke-token", "caller", "案件系统"]).exit_code == 1


def test_token_of_deactivated_user_is_refused(app, api):
    from app.models.auth import User

    with app.app_context():
        _db.session.query(User).filter_by(username="caller").update({"active": False})
        _db.session.commit()
    assert api("/api/v1/officers").status_code == 401


def test_token_request_sets_no_session_cookie_and_notes_last_use(app, api):
    from app.models.api import ApiToken

    resp = api("/api/v1/officers")
    assert "Set-Cookie" not in resp.headers
    with app.app_context():
        first = _db.session.query(ApiToken).one().last_used_at
    assert first is not None
    api("/api/v1/officers")
    with app.app_context():  # not rewritten within the minute
        assert _db.session.query(ApiToken).one().last_used_at == first


def test_anonymous_api_gets_401_json_not_the_login_page(client):
    resp = client.get("/api/v1/certificates/123")
    assert resp.status_code == 401 and resp.get_json()["error"] == "unauthorized"


def test_signed_in_browser_session_may_read_the_api(app, client):
    login(client, app, "viewer")
    assert client.get("/api/v1/officers").status_code == 200


# --- officers -----------------------------------------------------------------------------------

def test_officers_shape_and_flags(app, api, runner):
    import json

    with app.app_context():
        unit = UnitFactory(name="执法大队")
        o = OfficerFactory(name="张三", unit=unit)  # on post, no card: UNLICENSED (and no training)
        _db.session.commit()
        oid, idn = o.id, o.id_number
    report = json.loads(runner.invoke(args=["report", "flags", "--format", "json"]).output)
    flags = [r["flag"] for r in report if r["officer_id"] == oid]
    assert "UNLICENSED" in flags
    body = api("/api/v1/officers").get_json()
    assert body == {"items": [{"id": oid, "name": "张三", "unit": "执法大队",
                               "id_number_masked": idn[:6] + "********" + idn[-4:], "on_post": True,
                               "flags": flags}],
                    "total": 1, "page": 1, "per_page": 50}


def test_officers_unit_is_the_subtree_and_q_and_flag_filter(app, api):
    with app.app_context():
        top = UnitFactory(name="综合执法局")
        child = UnitFactory(name="一中队", parent=top)
        grandchild = UnitFactory(name="一中队一组", parent=child)
        other = UnitFactory(name="办公室")
        OfficerFactory(name="甲", unit=top)
        OfficerFactory(name="乙", unit=grandchild)
        CertificateFactory(officer=OfficerFactory(name="丙", unit=child))
        OfficerFactory(name="丁", unit=other)
        _db.session.commit()

    def names(url):
        resp = api(url)
        assert resp.status_code == 200, resp.get_json()
        return sorted(i["name"] for i in resp.get_json()["items"])

    assert names("/api/v1/officers?unit=一中队") == sorted(["乙", "丙"])
    assert names("/api/v1/officers?unit=综合执法局") == sorted(["甲", "乙", "丙"])
    assert names("/api/v1/officers?q=丁") == ["丁"]
    assert names("/api/v1/officers?unit=一中队&flag=UNLICENSED") == ["乙"]
    resp = api("/api/v1/officers?unit=不存在的单位")
    assert resp.status_code == 422 and "不存在的单位" in resp.get_json()["message"]
    resp = api("/api/v1/officers?flag=NOPE")
    assert resp.status_code == 422 and resp.get_json()["error"] == "invalid_parameter"


def test_officers_paging_and_per_page_cap(app, api):
    with app.app_context():
        unit = UnitFactory(name="大队")
        OfficerFactory.create_batch(205, unit=unit)
        _db.session.commit()
    first = api("/api/v1/officers").get_json()
    assert (len(first["items"]), first["total"], first["page"], first["per_page"]) == (50, 205, 1, 50)
    capped = api("/api/v1/officers?per_page=500").get_json()
    assert (len(capped["items"]), capped["per_page"]) == (200, 200)
    last = api("/api/v1/officers?per_page=100&page=3").get_json()
    assert (len(last["items"]), last["page"]) == (5, 3)
    past = api("/api/v1/officers?per_page=100&page=4").get_json()
    assert past["items"] == [] and past["total"] == 205
    seen = [i["id"] for p in (1, 2, 3) for i in api(f"/api/v1/officers?per_page=100&page={p}").get_json()["items"]]
    assert len(seen) == len(set(seen)) == 205
    for bad in ("page=0", "per_page=0", "page=abc", "page=9223372036854775808", "page=1000001"):
        resp = api(f"/api/v1/officers?{bad}")
        assert resp.status_code == 422 and resp.get_json()["error"] == "invalid_parameter", bad
    assert api("/api/v1/officers?per_page=9223372036854775808").get_json()["per_page"] == 200


def test_officer_detail_with_certificates(app, api):
    with app.app_context():
        c = CertificateFactory(number="E-001", issued_on=date(2024, 1, 1), expires_on=date(2028, 12, 31))
        _db.session.commit()
        oid, name, unit = c.officer.id, c.officer.name, c.officer.unit.name
    body = api(f"/api/v1/officers/{oid}").get_json()
    assert body["certificates"] == [{"number": "E-001", "kind": "enforcement", "status": "valid",
                                     "issued_on": "2024-01-01", "expires_on": "2028-12-31"}]
    assert (body["id"], body["name"], body["unit"], body["on_post"]) == (oid, name, unit, True)
    assert "UNLICENSED" not in body["flags"]
    assert set(body) == {"id", "name", "unit", "id_number_masked", "on_post", "flags", "certificates"}
    resp = api(f"/api/v1/officers/{oid + 1000}")
    assert resp.status_code == 404 and resp.get_json()["error"] == "officer_not_found"


# --- certificates on a date ---------------------------------------------------------------------

def _state(api, number, on):
    resp = api(f"/api/v1/certificates/{number}?on={on}")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    return body["state_on"], body["effective"]


def test_certificate_state_around_issue_expiry_and_suspension(app, api):
    from app.certificates.services import transition

    with app.app_context():
        c = CertificateFactory(number="E-100", issued_on=date(2024, 3, 1), expires_on=date(2026, 12, 31))
        transition(c, "suspend", effective_on=date(2025, 5, 10), reason="调查", today=date(2025, 5, 10))
        transition(c, "restore", effective_on=date(2025, 6, 1), reason="结束", today=date(2025, 6, 1))
        _db.session.commit()
        officer = {"id": c.officer.id, "name": c.officer.name, "unit": c.officer.unit.name}
    body = api("/api/v1/certificates/E-100?on=2025-01-01").get_json()
    assert body == {"number": "E-100", "kind": "enforcement", "officer": officer, "state_on": "valid",
                    "effective": True}
    assert _state(api, "E-100", "2024-02-29") == ("not_yet_valid", False)
    assert _state(api, "E-100", "2024-03-01") == ("valid", True)
    assert _state(api, "E-100", "2025-05-09") == ("valid", True)
    assert _state(api, "E-100", "2025-05-10") == ("suspended", False)
    assert _state(api, "E-100", "2025-05-31") == ("suspended", False)
    assert _state(api, "E-100", "2025-06-01") == ("valid", True)
    assert _state(api, "E-100", "2026-12-31") == ("valid", True)
    assert _state(api, "E-100", "2027-01-01") == ("expired", False)


def test_certificate_stored_suspension_wins_over_expiry_and_default_is_today(app, api):
    from app.certificates.services import transition

    with app.app_context():
        c = CertificateFactory(number="E-200", issued_on=date(2020, 1, 1), expires_on=date(2026, 1, 31))
        transition(c, "suspend", effective_on=date(2025, 12, 1), reason="调查", today=date(2025, 12, 1))
        _db.session.commit()
    assert _state(api, "E-200", "2026-03-01") == ("suspended", False)
    body = api("/api/v1/certificates/E-200").get_json()  # today (2026-06-15)
    assert body["state_on"] == "suspended"


def test_enforcement_card_wins_a_number_shared_with_a_supervision_card(app, api):
    with app.app_context():
        enf = CertificateFactory(number="X-1", kind="enforcement", issued_on=date(2024, 1, 1))
        sup = CertificateFactory(number="X-1", kind="supervision", issued_on=date(2025, 1, 1))  # the newer
        _db.session.commit()
        enf_officer, sup_only = enf.officer.id, sup.officer.id
    body = api("/api/v1/certificates/X-1?on=2024-06-01").get_json()
    assert (body["kind"], body["officer"]["id"]) == ("enforcement", enf_officer)
    assert (body["state_on"], body["effective"]) == ("valid", True)
    with app.app_context():
        CertificateFactory(number="S-9", kind="supervision", officer_id=sup_only)
        _db.session.commit()
    body = api("/api/v1/certificates/S-9?on=2025-01-01").get_json()
    assert (body["kind"], body["state_on"]) == ("supervision", "valid")


def test_certificate_unknown_number_404_and_impossible_date_400(app, api):
    with app.app_context():
        CertificateFactory(number="E-300")
        _db.session.commit()
    resp = api("/api/v1/certificates/NOPE-1")
    assert resp.status_code == 404 and resp.get_json()["error"] == "certificate_not_found"
    for bad in ("2024-02-30", "2024-2-3", "tomorrow"):
        resp = api(f"/api/v1/certificates/E-300?on={bad}")
        assert resp.status_code == 400, bad
        assert resp.get_json()["error"] == "invalid_date" and bad in resp.get_json()["message"]


# --- flags --------------------------------------------------------------------------------------

def test_flags_are_the_report_json(app, api, runner):
    import json

    with app.app_context():
        a = UnitFactory(name="甲队")
        OfficerFactory(name="无证者", unit=a)
        CertificateFactory(officer=OfficerFactory(name="将到期", unit=UnitFactory(name="乙队")),
                           expires_on=TODAY + timedelta(days=20))
        _db.session.commit()
    cli = runner.invoke(args=["report", "flags", "--format", "json"])
    assert cli.exit_code == 0
    assert api("/api/v1/flags").get_json() == json.loads(cli.output)
    cli_unit = json.loads(runner.invoke(args=["report", "flags", "--format", "json", "--unit", "甲队"]).output)
    assert api("/api/v1/flags?unit=甲队").get_json() == cli_unit and cli_unit
    only = api("/api/v1/flags?flag=EXPIRING").get_json()
    assert [(r["flag"], r["name"]) for r in only] == [("EXPIRING", "将到期")]
    assert api("/api/v1/flags?unit=没有").status_code == 422


# --- errors, limits, documents ------------------------------------------------------------------

def test_rate_limit_answers_429_json_per_token(app, api, runner, client):
    other = issue(runner, "caller", "第二个")  # the same user's other token has its own budget
    app.config["API_RATE_LIMIT"] = "3/minute"
    try:
        codes = [api("/api/v1/flags").status_code for _ in range(4)]
        last = api("/api/v1/flags")
        other_code = client.get("/api/v1/flags", headers=bearer(other)).status_code
    finally:
        app.config["API_RATE_LIMIT"] = "100000/minute"
    assert codes == [200, 200, 200, 429]
    assert last.get_json() == {"error": "rate_limited", "message": "请求过于频繁，请稍后再试"}
    assert other_code == 200


def test_unknown_api_path_and_method_answer_json(api):
    resp = api("/api/v1/nothing-here")
    assert resp.status_code == 404 and resp.get_json()["error"] == "not_found"


def test_openapi_document_is_valid_public_and_lists_every_path(app, client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    doc = resp.get_json()
    from openapi_spec_validator import validate

    validate(doc)
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {"/api/v1/officers", "/api/v1/officers/{officer_id}",
                                 "/api/v1/certificates/{number}", "/api/v1/flags", "/api/v1/applications",
                                 "/api/v1/applications/{application_id}",
                                 "/api/v1/applications/{application_id}/decision",
                                 "/api/v1/applications/{application_id}/resubmit"}
    api_rules = {r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith("api.")}
    assert len(api_rules) == len(doc["paths"])
    cert = doc["paths"]["/api/v1/certificates/{number}"]["get"]
    assert {"200", "400", "401", "404", "429"} <= set(cert["responses"])
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_docs_page_is_public_and_served_locally(client):
    html = client.get("/api/v1/docs").get_data(as_text=True)
    assert "swagger-ui-bundle.js" in html and "<script>" not in html
    srcs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert srcs and all(s.startswith("/") for s in srcs)
    for s in srcs:
        assert client.get(s).status_code == 200, s


# --- the account page ---------------------------------------------------------------------------

def test_account_page_lists_tokens_with_last_use_and_revokes_them(app, client, runner, set_today):
    login(client, app, "viewer", username="caller")
    tok = issue(runner, "caller", "案件系统")
    page = client.get("/account/tokens").get_data(as_text=True)
    assert "案件系统" in page and "从未使用" in page and tok not in page
    client.get("/api/v1/flags", headers=bearer(tok))
    page = client.get("/account/tokens").get_data(as_text=True)
    assert "从未使用" not in page and re.search(r"\d{4}年\d+月\d+日 \d\d:\d\d", page)
    from app.models.api import ApiToken

    with app.app_context():
        token_id = _db.session.query(ApiToken).one().id
    url = f"/account/tokens/{token_id}/revoke"
    assert client.post(url).status_code == 400  # no CSRF token
    assert client.get("/api/v1/flags", headers=bearer(tok)).status_code == 200
    assert 'data-confirm="确定撤销令牌' in page
    resp = client.post(url, data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "已撤销 API 令牌“案件系统”" in resp.get_data(as_text=True)
    assert client.get("/api/v1/flags", headers=bearer(tok)).status_code == 401
    from app.models.audit import AuditEvent

    with app.app_context():
        event = _db.session.query(AuditEvent).filter_by(entity_type="api_token", action="update").one()
        assert event.actor == "caller" and "撤销" in event.summary


def test_account_page_cannot_revoke_another_users_token(app, client, runner):
    make_user(app, "someone", "admin")
    tok = issue(runner, "someone", "甲")
    login(client, app, "admin", username="me")
    from app.models.api import ApiToken

    with app.app_context():
        token_id = _db.session.query(ApiToken).one().id
    page = client.get("/account/tokens").get_data(as_text=True)
    assert "甲" not in page
    resp = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_from(page)})
    assert resp.status_code == 404
    assert client.get("/api/v1/flags", headers=bearer(tok)).status_code == 200


def test_account_page_creates_a_token_shown_once(app, client):
    login(client, app, "viewer", username="caller")
    page = client.get("/account/tokens").get_data(as_text=True)
    resp = client.post("/account/tokens", data={"label": "报表系统", "csrf_token": csrf_from(page)})
    html = resp.get_data(as_text=True)
    tok = re.search(r'<code class="fs-6 user-select-all">([^<]+)</code>', html).group(1)
    assert client.get("/api/v1/officers", headers=bearer(tok)).status_code == 200
    assert tok not in client.get("/account/tokens").get_data(as_text=True)
    again = client.post("/account/tokens", data={"label": "报表系统", "csrf_token": csrf_from(html)})
    assert "已有名为“报表系统”的有效令牌" in again.get_data(as_text=True)


def test_a_huge_page_number_is_refused_not_a_500(api):
    for args in ("page=9223372036854775808", "page=1000001"):
        resp = api(f"/api/v1/officers?{args}")
        assert resp.status_code == 422, args
        assert set(resp.get_json()) == {"error", "message"}
    assert api("/api/v1/officers?page=1000000").status_code == 200


def test_viewer_token_cannot_search_by_id_number_and_gets_told_so(app, api, runner, client):
    """A viewer's whole-number search is refused in JSON (no session cookie written); a clerk's
    is answered and audited."""
    from app.models.audit import AuditEvent

    with app.app_context():
        number = OfficerFactory(name="甲").id_number
        _db.session.commit()
    resp = api(f"/api/v1/officers?q={number}")
    assert resp.status_code == 403 and resp.get_json()["message"] == "查看员不能按身份证号搜索"
    assert "Set-Cookie" not in resp.headers
    make_user(app, "clerkcaller", "clerk")
    tok = issue(runner, "clerkcaller")
    resp = client.get(f"/api/v1/officers?q={number}", headers=bearer(tok))
    assert [i["name"] for i in resp.get_json()["items"]] == ["甲"] and "Set-Cookie" not in resp.headers
    with app.app_context():
        assert _db.session.scalar(_db.select(AuditEvent.summary).where(AuditEvent.action == "search")).startswith(
            "按身份证号搜索：")
