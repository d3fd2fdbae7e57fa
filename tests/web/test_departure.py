"""离岗 on the officer page: the post ends and a task to 注销 the card is due 30 days on."""

from __future__ import annotations

import re
from datetime import date

from app.extensions import db as _db
from tests.conftest import csrf_from, login
from tests.factories import CertificateFactory, OfficerFactory
from tests.web.test_scope import tree  # noqa: F401  (the fixture)

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
    version = (page.split('name="version" type="hidden" value="')[1].split('"')[0]
               if 'name="version" type="hidden"' in page else "1")
    resp = client.post(f"/officers/{oid}/depart", data={"kind": "resigned", "on": "2026年6月1日",
                                                       "version": version, "csrf_token": csrf_from(page)},
                       follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "已登记“离岗甲”离岗，请在2026年7月1日前注销其 1 个证件" in html
    assert "辞职（2026年6月1日）后注销证件 Z-1" in html and "2026年7月1日前" in html
    with app.app_context():
        from app.models.officers import Officer

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


def _number_after(html: str, marker: str) -> str:
    return html.split(marker, 1)[1].split('class="number', 1)[1].split(">", 1)[1].split("<", 1)[0].strip()


def test_dashboard_counts_cards_and_open_tasks_within_the_users_scope(app, client, tree):  # noqa: F811
    """The card total and the open 注销 tasks come from one statement; both stay within the
    signed-in user's unit subtree."""
    from app.models.officers import Officer
    from app.officers.departures import depart
    from tests.web.test_scope import TODAY as SCOPE_TODAY
    from tests.web.test_scope import scoped_login

    with app.app_context():
        for name in ("赵甲", "李丙"):
            depart(_db.session.get(Officer, tree["officers"][name]), "transferred", SCOPE_TODAY, today=SCOPE_TODAY)
        _db.session.commit()
    scoped_login(client, app, "jia_clerk", "clerk", "甲局")
    html = client.get("/").get_data(as_text=True)
    assert _number_after(html, "证件总数") == "2"          # 赵甲 and 钱甲一, not 孙乙 or 李丙
    assert _number_after(html, 'id="cancel-tasks"') == "1"  # 赵甲's card, not 李丙's
    admin = app.test_client()
    scoped_login(admin, app, "boss", "admin", None)
    html = admin.get("/").get_data(as_text=True)
    assert _number_after(html, "证件总数") == "4" and _number_after(html, 'id="cancel-tasks"') == "2"
    # the list behind the count: the user's own task only
    listing = client.get("/officers/cancel-tasks").get_data(as_text=True)
    assert 'href="/officers/cancel-tasks" id="cancel-tasks"' in client.get("/").get_data(as_text=True)
    assert "ZF-赵甲" in listing and "赵甲" in listing and "ZF-李丙" not in listing and "李丙" not in listing


def test_cancel_task_list_shows_overdue_first_with_due_dates(app, client, set_today):
    from app.officers.departures import depart

    with app.app_context():
        late, soon = OfficerFactory(name="早走"), OfficerFactory(name="晚走")
        for o, number in ((late, "Z-早"), (soon, "Z-晚")):
            CertificateFactory(officer=o, number=number, issued_on=date(2024, 1, 1), expires_on=date(2029, 1, 1))
        _db.session.flush()
        depart(soon, "retired", date(2026, 6, 10), today=TODAY)
        depart(late, "deceased", date(2026, 5, 1), today=TODAY)
        done = OfficerFactory(name="已注销")
        card = CertificateFactory(officer=done, number="Z-销", issued_on=date(2024, 1, 1), expires_on=date(2029, 1, 1))
        _db.session.flush()
        depart(done, "transferred", date(2026, 5, 2), today=TODAY)
        card.status = "cancelled"  # 注销 done: the task closes
        _db.session.commit()
    set_today(TODAY)
    login(client, app, "viewer")
    html = client.get("/officers/cancel-tasks").get_data(as_text=True)
    summary = re.sub(r"<[^>]+>", "", html.split('id="cancel-summary">', 1)[1].split("</div>", 1)[0]).strip()
    assert summary == "共 2 个证件待注销，其中 1 个已逾期。"
    first, second = html.index("Z-早"), html.index("Z-晚")
    assert first < second and "Z-销" not in html
    assert "2026年5月31日前（已逾期）" in html and "死亡（2026年5月1日）" in html
    assert "2026年7月10日前" in html and "2026年7月10日前（已逾期）" not in html
