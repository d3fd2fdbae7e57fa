"""需换证 → 换证申请: on the officer page (and /flags) a user who may submit gets “发起换证申请”, a link
to the new-application form already holding the officer and 换证; submitting it files a renew
application under the usual checks. A viewer, or an officer not flagged, gets no link."""

from __future__ import annotations

import re
from datetime import date

from app.extensions import db as _db
from app.models.applications import Application
from tests.conftest import csrf_from, login
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory

TODAY = date(2026, 6, 15)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _link(html: str) -> str | None:
    m = re.search(r'<a [^>]*href="([^"]+)"[^>]*>发起换证申请</a>', html)
    return m.group(1).replace("&amp;", "&") if m else None


def _setup(app):
    with app.app_context():
        unit = UnitFactory(name="市监所", enforcement_fields="城市管理、市场监管")
        short = OfficerFactory(name="缺类别", unit=unit)
        CertificateFactory(officer=short, number="ZF-RE-1", categories="城市管理", issued_on=date(2024, 1, 1),
                           expires_on=date(2029, 1, 1))
        full = OfficerFactory(name="类别齐", unit=unit)
        CertificateFactory(officer=full, number="ZF-RE-2", categories="城市管理、市场监管",
                           issued_on=date(2024, 1, 1), expires_on=date(2029, 1, 1))
        _db.session.commit()
        return short.id, full.id


def test_the_flag_leads_to_a_prefilled_renew_form_and_a_renew_application(app, client, set_today):
    set_today(TODAY)
    short, full = _setup(app)
    login(client, app, "clerk")
    page = client.get(f"/officers/{short}").get_data(as_text=True)
    assert "需换证" in page
    url = _link(page)
    assert url is not None and f"officer_id={short}" in url and "kind=renew" in url
    assert _link(client.get(f"/officers/{full}").get_data(as_text=True)) is None  # not flagged: no link
    flags = client.get("/flags?flag=NEEDS_REISSUE").get_data(as_text=True)
    assert "缺类别" in flags and _link(flags) == url

    form = client.get(url).get_data(as_text=True)
    assert "执法人员： 缺类别 （市监所）" in _text(form)
    assert f'name="officer_id" value="{short}"' in form
    assert re.search(r'<option value="renew"\s+selected>换证</option>', form)
    resp = client.post(url, data={"officer_id": short, "kind": "renew", "reason": "调入市场监管领域",
                                  "csrf_token": csrf_from(form)})
    assert resp.status_code == 302
    assert "已提交换证申请" in _text(client.get(resp.headers["Location"]).get_data(as_text=True))
    with app.app_context():
        a = _db.session.query(Application).one()
        assert (a.officer_id, a.kind, a.reason, a.old_certificate.number) == (short, "renew", "调入市场监管领域",
                                                                             "ZF-RE-1")
    # the usual checks still apply: a second renew while the first is open is refused
    form = client.get(url).get_data(as_text=True)
    resp = client.post(url, data={"officer_id": short, "kind": "renew", "csrf_token": csrf_from(form)})
    assert resp.status_code == 200 and "缺类别已有一份换证申请正在办理" in _text(resp.get_data(as_text=True))
    with app.app_context():
        assert _db.session.query(Application).count() == 1


def test_the_form_takes_the_kind_chosen_over_the_links(app, client, set_today):
    set_today(TODAY)
    short, _full = _setup(app)
    login(client, app, "clerk")
    url = _link(client.get(f"/officers/{short}").get_data(as_text=True))
    form = client.get(url).get_data(as_text=True)
    m = re.search(r'<form method="post"(?: action="([^"]*)")?[^>]* id="application-form"', form)
    target = (m.group(1) or url).replace("&amp;", "&")  # where a browser sends it (no action: the page's URL)
    resp = client.post(target, data={"officer_id": short, "kind": "replace", "csrf_token": csrf_from(form)})
    assert resp.status_code == 302
    with app.app_context():
        assert _db.session.query(Application.kind).scalar() == "replace"


def test_a_viewer_sees_the_flag_but_no_link(app, client, set_today):
    set_today(TODAY)
    short, _full = _setup(app)
    login(client, app, "viewer")
    page = client.get(f"/officers/{short}").get_data(as_text=True)
    assert "需换证" in page and "发起换证申请" not in page
    flags = client.get("/flags?flag=NEEDS_REISSUE").get_data(as_text=True)
    assert "缺类别" in flags and "发起换证申请" not in flags
