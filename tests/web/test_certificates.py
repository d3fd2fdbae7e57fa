"""Certificate pages: list, issue, edit, detail with history, lifecycle actions and refusals."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db as _db
from app.models.certificates import Certificate, CertificateEvent
from app.models.exams import Exam, ExamResult
from tests.conftest import TODAY, csrf_from, login, token
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory

D = timedelta


@pytest.fixture(autouse=True)
def _today(set_today):
    set_today(TODAY)


@pytest.fixture
def certs(app):
    with app.app_context():
        a = UnitFactory(name="城市管理科", sort_order=1)
        b = UnitFactory(name="南坪社区", sort_order=2)
        zhang = OfficerFactory(name="张三", unit=a)
        li = OfficerFactory(name="李四", unit=b)
        bare = OfficerFactory(name="王五", unit=a)
        valid = CertificateFactory(
            officer=zhang, number="C-VALID", issued_on=TODAY - D(400), expires_on=TODAY + D(800)
        )
        old = CertificateFactory(
            officer=li, number="C-OLD", issued_on=TODAY - D(2000), expires_on=TODAY - D(10)
        )
        sup = CertificateFactory(
            officer=li,
            number="S-SUPER",
            kind="supervision",
            issued_on=TODAY - D(100),
            expires_on=TODAY + D(30),
        )
        # everyone passed a qualification exam, so issuing needs no exam confirmation here
        # (that confirmation is tested in tests/web/test_exams_issue.py)
        exam = Exam(title="资格考试", kind="qualification", held_on=TODAY - D(30), max_score=100, pass_score=60)
        _db.session.add_all([exam] + [ExamResult(exam=exam, officer_id=o.id, score=80) for o in (zhang, li, bare)])
        _db.session.commit()
        return {
            "units": (a.id, b.id),
            "zhang": zhang.id,
            "li": li.id,
            "bare": bare.id,
            "valid": valid.id,
            "old": old.id,
            "sup": sup.id,
        }


def numbers(html: str) -> list[str]:
    body = html.split('id="certificates"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<a href="/certificates/\d+">([^<]+)</a>', body)


def listing(client, query: str = "") -> list[str]:
    resp = client.get("/certificates" + query)
    assert resp.status_code == 200
    return numbers(resp.get_data(as_text=True))


def cert_state(app, cert_id: int) -> tuple[str, int]:
    with app.app_context():
        status = _db.session.get(Certificate, cert_id).status
        events = _db.session.scalar(
            select(func.count())
            .select_from(CertificateEvent)
            .where(CertificateEvent.certificate_id == cert_id)
        )
        return status, events


def flags_section(html: str) -> str:
    return html.split('id="flags"', 1)[1].split('id="officer-fields"', 1)[0]


# ---------------------------------------------------------------- list


def test_list_search_filters_and_states(client, app, certs):
    login(client, app, "viewer")
    html = client.get("/certificates").get_data(as_text=True)
    assert "共 3 个" in html and "已过期</span>" in html and "剩余30天" in html
    assert listing(client, "?q=VALID") == ["C-VALID"]
    assert listing(client, "?q=李四&sort=number") == ["C-OLD", "S-SUPER"]
    assert listing(client, "?kind=supervision") == ["S-SUPER"]
    assert listing(client, "?expired=yes") == ["C-OLD"]
    assert listing(client, f"?unit={certs['units'][0]}") == ["C-VALID"]
    window = f"?expires_from={TODAY.isoformat()}&expires_to={(TODAY + D(90)).isoformat()}"
    assert listing(client, window) == ["S-SUPER"]
    assert listing(client, "?status=suspended") == []


def test_list_sorting_and_bad_input(client, app, certs):
    login(client, app, "viewer")
    assert listing(client, "?sort=expires") == ["C-OLD", "S-SUPER", "C-VALID"]
    assert listing(client, "?sort=-expires") == ["C-VALID", "S-SUPER", "C-OLD"]
    asc, desc = listing(client, "?sort=name"), listing(client, "?sort=-name")
    assert {asc.index("C-VALID"), desc.index("C-VALID")} == {
        0,
        2,
    }  # 张三 apart from 李四's two cards
    resp = client.get("/certificates?expires_from=2024-13-45&page=zz&sort=evil")
    assert resp.status_code == 200
    assert "到期日起：日期“2024-13-45”不存在，应写成 2024年3月1日" in resp.get_data(as_text=True)
    assert len(numbers(resp.get_data(as_text=True))) == 3


# ---------------------------------------------------------------- issue


def test_issue_form_leaves_expiry_to_follow_the_issue_date(client, app, certs):
    login(client, app, "clerk")
    html = client.get(f"/officers/{certs['bare']}/certificates/new").get_data(as_text=True)
    assert f'value="{TODAY.year}年{TODAY.month}月{TODAY.day}日"' in html
    box = re.search(r'<input[^>]*name="expires_on"[^>]*>', html).group(0)
    assert 'value=""' in box  # empty: computed from the issue date, not pre-filled from today
    assert 'data-expiry-from="issued_on"' in box and 'data-validity-years="5"' in box
    exp = date(TODAY.year + 5, TODAY.month, TODAY.day) - D(1)
    assert f"{exp.year}年{exp.month}月{exp.day}日" not in html


def test_issue_with_empty_expiry_computes_it_from_the_issue_date(client, app, certs):
    login(client, app, "clerk")
    url = f"/officers/{certs['bare']}/certificates/new"
    form = client.get(url).get_data(as_text=True)
    box = re.search(r'<input[^>]*name="expires_on"[^>]*>', form).group(0)
    value = re.search(r'value="([^"]*)"', box)
    resp = client.post(url, data={
        "kind": "enforcement", "number": "500108-OLD-1", "issuing_authority": "重庆市人民政府",
        "issued_on": "2021-03-01", "expires_on": value.group(1) if value else "",
        "categories": "", "area": "", "status": "valid", "document_no": "",
        "csrf_token": csrf_from(form)}, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "已为“王五”登记行政执法证 500108-OLD-1" in html
    assert "证件已过期" in flags_section(html)  # expired 2026-02-28: flagged 未持证上岗
    with app.app_context():
        cert = _db.session.scalar(select(Certificate).where(Certificate.number == "500108-OLD-1"))
        assert cert.expires_on == date(2026, 2, 28)


def test_replace_form_leaves_the_new_expiry_to_follow_the_new_issue_date(client, app, certs):
    login(client, app, "clerk")
    html = client.get(f"/certificates/{certs['valid']}/actions/replace").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="new_expires_on"[^>]*>', html).group(0)
    assert 'value=""' in box and 'data-expiry-from="new_issued_on"' in box


def test_issue_certificate_clears_unlicensed_flag(client, app, certs):
    login(client, app, "clerk")
    detail = f"/officers/{certs['bare']}"
    assert "未持证上岗" in flags_section(client.get(detail).get_data(as_text=True))
    url = f"/officers/{certs['bare']}/certificates/new"
    resp = client.post(
        url,
        data={
            "kind": "enforcement",
            "number": "500108-NEW-1",
            "issuing_authority": "重庆市人民政府",
            "issued_on": (TODAY - D(1)).isoformat(),
            "expires_on": "",
            "categories": "城市管理",
            "area": "南岸区",
            "status": "valid",
            "document_no": "渝府发〔2026〕1号",
            "csrf_token": token(client, url),
        },
        follow_redirects=True,
    )
    html = resp.get_data(as_text=True)
    assert "已为“王五”登记行政执法证 500108-NEW-1" in html
    assert "500108-NEW-1" in html and "未持证上岗" not in flags_section(html)
    assert "渝府发〔2026〕1号" in html  # the issue event in the history
    with app.app_context():
        cert = _db.session.scalar(select(Certificate).where(Certificate.number == "500108-NEW-1"))
        assert cert.expires_on == date(TODAY.year + 5, TODAY.month, TODAY.day) - D(
            2
        )  # blank → default
        assert cert.status == "valid"


def test_issue_refuses_duplicate_number_and_bad_dates(client, app, certs):
    login(client, app, "clerk")
    url = f"/officers/{certs['bare']}/certificates/new"
    base = {
        "kind": "enforcement",
        "issued_on": "2026-01-01",
        "expires_on": "2030-12-31",
        "status": "valid",
    }
    html = client.post(
        url, data={**base, "number": "C-VALID", "csrf_token": token(client, url)}
    ).get_data(as_text=True)
    assert "行政执法证编号“C-VALID”已存在" in html
    html = client.post(
        url,
        data={
            **base,
            "number": "X-1",
            "expires_on": "2025-01-01",
            "csrf_token": token(client, url),
        },
    ).get_data(as_text=True)
    assert "有效期至（2025年1月1日）早于发证日期（2026年1月1日）" in html
    resp = client.post(
        url,
        data={**base, "number": "X-2", "issued_on": "not-a-date", "csrf_token": token(client, url)},
    )
    assert resp.status_code == 200 and "表单有误" in resp.get_data(as_text=True)
    with app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(Certificate)) == 3


def test_applying_certificate_can_be_issued(client, app, certs):
    login(client, app, "clerk")
    url = f"/officers/{certs['bare']}/certificates/new"
    client.post(
        url,
        data={
            "kind": "enforcement",
            "number": "APP-1",
            "issued_on": TODAY.isoformat(),
            "expires_on": "",
            "status": "applying",
            "csrf_token": token(client, url),
        },
    )
    with app.app_context():
        cid = _db.session.scalar(select(Certificate.id).where(Certificate.number == "APP-1"))
    html = client.get(f"/certificates/{cid}").get_data(as_text=True)
    assert "申领中" in html and f"/certificates/{cid}/actions/issue" in html
    assert f"/certificates/{cid}/actions/suspend" not in html
    act = f"/certificates/{cid}/actions/issue"
    client.post(
        act,
        data={
            "effective_on": TODAY.isoformat(),
            "reason": "审核通过",
            "document_no": "",
            "version": "1",
            "csrf_token": token(client, act),
        },
    )
    assert cert_state(app, cid) == ("valid", 2)


# ---------------------------------------------------------------- lifecycle


def test_suspend_records_reason_and_document_in_history(client, app, certs):
    login(client, app, "clerk")
    cid = certs["valid"]
    detail = client.get(f"/certificates/{cid}").get_data(as_text=True)
    for action in ("suspend", "revoke", "cancel", "lose", "replace"):
        assert f"/certificates/{cid}/actions/{action}" in detail
    assert f"/certificates/{cid}/actions/restore" not in detail
    url = f"/certificates/{cid}/actions/suspend"
    form = client.get(url).get_data(as_text=True)
    assert f'value="{TODAY.year}年{TODAY.month}月{TODAY.day}日"' in form  # effective date defaults to today
    resp = client.post(
        url,
        data={
            "effective_on": (TODAY - D(2)).isoformat(),
            "reason": "涉嫌违规执法，停职调查",
            "document_no": "南府法〔2026〕7号",
            "version": "1",
            "csrf_token": token(client, url),
        },
        follow_redirects=True,
    )
    html = resp.get_data(as_text=True)
    assert "证件 C-VALID 已暂扣" in html
    history = html.split('id="history"', 1)[1]
    assert (
        "暂扣" in history and "涉嫌违规执法，停职调查" in history and "南府法〔2026〕7号" in history
    )
    assert f"{(TODAY - D(2)).year}年{(TODAY - D(2)).month}月{(TODAY - D(2)).day}日" in history
    assert "clerk_user" in history
    assert cert_state(app, cid) == ("suspended", 2)
    officer_page = client.get(f"/officers/{certs['zhang']}").get_data(as_text=True)
    assert "未持证上岗" in flags_section(officer_page) and "涉嫌违规执法，停职调查" in officer_page


def test_refused_transition_shows_both_states_and_changes_nothing(client, app, certs):
    login(client, app, "clerk")
    cid = certs["valid"]
    url = f"/certificates/{cid}/actions/restore"
    resp = client.post(
        url,
        data={
            "effective_on": TODAY.isoformat(),
            "reason": "试试",
            "version": "1",
            "csrf_token": token(client, f"/certificates/{cid}"),
        },
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "证件“C-VALID”当前状态为“有效”，不能发还" in html and "“暂扣”" in html
    assert cert_state(app, cid) == ("valid", 1)


def test_action_needs_a_reason(client, app, certs):
    login(client, app, "clerk")
    url = f"/certificates/{certs['valid']}/actions/cancel"
    html = client.post(
        url,
        data={
            "effective_on": TODAY.isoformat(),
            "reason": "",
            "version": "1",
            "csrf_token": token(client, url),
        },
    ).get_data(as_text=True)
    assert "请填写原因" in html
    assert cert_state(app, certs["valid"]) == ("valid", 1)
    assert client.get(f"/certificates/{certs['valid']}/actions/explode").status_code == 404


def test_replace_creates_the_new_card(client, app, certs):
    login(client, app, "clerk")
    url = f"/certificates/{certs['valid']}/actions/replace"
    resp = client.post(
        url,
        data={
            "effective_on": TODAY.isoformat(),
            "reason": "证件损坏",
            "document_no": "",
            "new_number": "C-NEW",
            "new_issued_on": TODAY.isoformat(),
            "new_expires_on": "",
            "version": "1",
            "csrf_token": token(client, url),
        },
        follow_redirects=True,
    )
    html = resp.get_data(as_text=True)
    assert "已换证" in html and "C-NEW</a>" in html
    with app.app_context():
        new = _db.session.scalar(select(Certificate).where(Certificate.number == "C-NEW"))
        old = _db.session.get(Certificate, certs["valid"])
        assert (old.status, old.replaced_by_id, new.status) == ("replaced", new.id, "valid")
        assert new.issuing_authority == old.issuing_authority


def test_edit_certificate_and_stale_edit(client, app, certs):
    login(client, app, "clerk")
    url = f"/certificates/{certs['valid']}/edit"
    page = client.get(url).get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in page and 'name="status"' not in page
    data = {
        "kind": "enforcement",
        "number": "C-VALID",
        "issuing_authority": "重庆市南岸区人民政府",
        "issued_on": (TODAY - D(400)).isoformat(),
        "expires_on": (TODAY + D(900)).isoformat(),
        "categories": "城市管理",
        "area": "",
        "version": "1",
    }
    first = client.post(url, data={**data, "csrf_token": token(client, url)}, follow_redirects=True)
    assert "证件 C-VALID 已保存" in first.get_data(as_text=True)
    second = client.post(url, data={**data, "area": "全区", "csrf_token": token(client, url)})
    assert "证件“C-VALID”已被他人修改" in second.get_data(as_text=True)
    with app.app_context():
        cert = _db.session.get(Certificate, certs["valid"])
        assert (cert.issuing_authority, cert.area, cert.expires_on) == (
            "重庆市南岸区人民政府",
            "",
            TODAY + D(900),
        )


# ---------------------------------------------------------------- roles


def test_viewer_sees_no_buttons_and_cannot_post(client, app, certs):
    login(client, app, "viewer")
    cid = certs["valid"]
    html = client.get(f"/certificates/{cid}").get_data(as_text=True)
    assert "/actions/" not in html and f"/certificates/{cid}/edit" not in html
    assert client.get(f"/certificates/{cid}/actions/suspend").status_code == 403
    assert client.get(f"/officers/{certs['bare']}/certificates/new").status_code == 403
    csrf = token(client, f"/certificates/{cid}")
    resp = client.post(
        f"/certificates/{cid}/actions/suspend",
        data={"effective_on": TODAY.isoformat(), "reason": "x", "version": "1", "csrf_token": csrf},
    )
    assert resp.status_code == 403
    resp = client.post(
        f"/officers/{certs['bare']}/certificates/new",
        data={
            "kind": "enforcement",
            "number": "V-1",
            "issued_on": "2026-01-01",
            "csrf_token": csrf,
        },
    )
    assert resp.status_code == 403
    assert cert_state(app, cid) == ("valid", 1)
    with app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(Certificate)) == 3
