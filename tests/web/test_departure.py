"""离岗 on the officer page: the post ends and a task to 注销 the card is due 30 days on."""

from __future__ import annotations

from datetime import date

from app.extensions import db as _db
from tests.conftest import csrf_from, login
from tests.factories import CertificateFactory, OfficerFactory

TODAY = date(2026, 6, 15)


def test_departure_ends_the_post_and_opens_a_cancel_task(app, client, set_today):
    set_today(TODAY)
    with app.app_context():
        o = OfficerFactory(name="离岗甲")
        CertificateFactory(officer=o, number="Z-1", issued_on=date(2024, 1, 1), expires_on=date(2029, 1, 1))
        _db.session.commit()
        oid = o.id
    login(client, app, "clerk")
    page = client.get(f"/officers/{oid}").get_data(as_text=True)
    assert "登记离岗" in page
    version = page.split('name="version" type="hidden" value="')[1].split('"')[0] if 'name="version" type="hidden"' in page else "1"
    resp = client.post(f"/officers/{oid}/depart", data={"kind": "resigned", "on": "2026年6月1日",
                                                       "version": version, "csrf_token": csrf_from(page)},
                       follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "已登记“离岗甲”离岗，请在2026年7月1日前注销其 1 个证件" in html
    assert "辞职（2026年6月1日）后注销证件 Z-1" in html and "2026年7月1日前" in html
    with app.app_context():
        from app.officers.models import Officer

        assert _db.session.get(Officer, oid).employment_status == "resigned"
    dash = client.get("/").get_data(as_text=True)
    assert "离岗待注销证件" in dash
    # a second departure is refused in Chinese
    resp = client.post(f"/officers/{oid}/depart", data={"kind": "retired", "on": "2026年6月2日",
                                                       "version": version, "csrf_token": csrf_from(page)},
                       follow_redirects=True)
    assert "已不在职，不能再登记离岗" in resp.get_data(as_text=True)


def test_future_date_is_refused(app, client, set_today):
    set_today(TODAY)
    with app.app_context():
        o = OfficerFactory(name="离岗乙")
        _db.session.commit()
        oid = o.id
    login(client, app, "clerk")
    page = client.get(f"/officers/{oid}").get_data(as_text=True)
    resp = client.post(f"/officers/{oid}/depart", data={"kind": "transferred", "on": "2026年7月1日",
                                                       "version": "1", "csrf_token": csrf_from(page)},
                       follow_redirects=True)
    assert "离岗日期2026年7月1日晚于今天" in resp.get_data(as_text=True)
