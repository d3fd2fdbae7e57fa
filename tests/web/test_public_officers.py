"""/public/officers: the 三项制度 行政执法公示 list, without login (docs/domain.md 打印文件与公开页面)."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from app.certificates.services import create_certificate, transition
from app.extensions import db as _db
from app.models.settings import Setting
from app.settings.services import set_value
from tests.conftest import TODAY, login
from tests.factories import OfficerFactory, UnitFactory
from tests.web.test_settings_page import _form as settings_form

D = timedelta


@pytest.fixture(autouse=True)
def _today(set_today, public_list_on):
    set_today(TODAY)


def card(officer, number, issued=date(2024, 1, 1), expires=date(2029, 1, 1), kind="enforcement"):
    return create_certificate(officer, {"number": number, "issued_on": issued, "expires_on": expires,
                                        "kind": kind, "categories": "市容环境卫生", "area": "南岸区"},
                              today=TODAY)


@pytest.fixture
def registry(app):
    """Two holders today; five people who are not."""
    with app.app_context():
        unit = UnitFactory(name="城市管理科")
        people = {}
        for name in ("张三", "李四", "过期", "暂扣", "退休", "离岗", "监督"):
            people[name] = OfficerFactory(name=name, unit=unit)
        card(people["张三"], "5001080001")
        card(people["李四"], "5001080002")
        card(people["过期"], "5001080003", issued=date(2020, 1, 1), expires=TODAY - D(1))
        transition(card(people["暂扣"], "5001080004"), "suspend", effective_on=TODAY - D(10),
                   reason="违纪", today=TODAY)
        card(people["退休"], "5001080005")
        people["退休"].employment_status = "retired"
        card(people["离岗"], "5001080006")
        people["离岗"].on_enforcement_post = False
        card(people["监督"], "5001080007", kind="supervision")
        _db.session.commit()
        return {n: (o.id, o.id_number, o.birth_date) for n, o in people.items()}


def names_in(html: str) -> set[str]:
    import re

    table = html.split('id="holders"', 1)[1].split("</table>", 1)[0]
    return set(re.findall(r"<tr><td>([^<]+)</td>", table))


def test_without_login_shows_exactly_todays_holders_and_no_id_numbers(client, registry):
    resp = client.get("/public/officers")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert names_in(html) == {"张三", "李四"}
    assert "共 2 人" in html
    assert "5001080001" in html and "市容环境卫生" in html and "南岸区" in html
    assert "2024年1月1日至2029年1月1日" in html
    for _oid, id_number, birth in registry.values():
        assert id_number not in html
        assert id_number[:6] + "********" not in html  # not even masked
        assert birth.isoformat() not in html and f"{birth.year}年{birth.month}月{birth.day}日" not in html
    assert "身份证" not in html and "出生" not in html


def test_search_by_part_of_the_name_or_the_whole_number(client, registry):
    assert names_in(client.get("/public/officers?q=张").get_data(as_text=True)) == {"张三"}
    assert names_in(client.get("/public/officers?q=5001080002").get_data(as_text=True)) == {"李四"}
    html = client.get("/public/officers?q=500108000").get_data(as_text=True)  # a prefix finds nobody
    assert names_in(html) == set() and "共 0 人" in html
    assert names_in(client.get("/public/officers?q=5001080004").get_data(as_text=True)) == set()


def test_a_suspension_removes_the_officer_at_once(app, client, registry):
    assert "张三" in names_in(client.get("/public/officers").get_data(as_text=True))
    with app.app_context():
        from sqlalchemy import select

        from app.models.certificates import Certificate

        cert = _db.session.scalar(select(Certificate).where(Certificate.number == "5001080001"))
        transition(cert, "suspend", effective_on=TODAY, reason="暂扣", today=TODAY)
        _db.session.commit()
    html = client.get("/public/officers").get_data(as_text=True)
    assert names_in(html) == {"李四"}
    changes = html.split('id="changes"', 1)[1]
    assert "2026年6月15日" in changes and "张三（城市管理科，5001080001）" in changes


def test_change_log_lists_added_and_removed_by_date(app, client, registry):
    with app.app_context():
        card(OfficerFactory(name="新人", unit=UnitFactory(name="南坪社区")), "5001080009",
             issued=TODAY - D(5))
        _db.session.commit()
    html = client.get("/public/officers").get_data(as_text=True)
    changes = html.split('id="changes"', 1)[1].split("</table>", 1)[0]
    rows = changes.split("<tr>")[2:]
    # newest first: 过期 removed today (the day after its expiry day), 新人 added 5 days ago,
    # 暂扣 removed 10 days ago
    assert "2026年6月15日" in rows[0] and "过期（城市管理科，5001080003）" in rows[0]
    assert "2026年6月10日" in rows[1] and "新人（南坪社区，5001080009）" in rows[1].split("</td>")[1]
    assert "2026年6月5日" in rows[2] and "暂扣（城市管理科，5001080004）" in rows[2].split("</td>")[2]
    assert "过期（城市管理科，5001080003）" in rows[0].split("</td>")[2]
    assert len(rows) == 3 and "2026年6月14日" not in changes
    assert "张三" not in changes  # on the list for the whole period


def test_expiry_today_leaves_the_list_tomorrow(app, client, registry, set_today):
    with app.app_context():
        card(OfficerFactory(name="到期", unit=UnitFactory(name="南坪社区")), "5001080010",
             issued=date(2020, 1, 1), expires=TODAY)
        _db.session.commit()
    assert "到期" in names_in(client.get("/public/officers").get_data(as_text=True))
    set_today(TODAY + D(1))
    html = client.get("/public/officers").get_data(as_text=True)
    assert "到期" not in names_in(html)
    assert "到期（南坪社区，5001080010）" in html.split('id="changes"', 1)[1]


def test_setting_turns_the_page_off(app, client, registry):
    with app.app_context():
        set_value("public_list_enabled", "否")
        _db.session.commit()
    assert client.get("/public/officers").status_code == 404
    assert client.get("/public/officers.xlsx").status_code == 404
    with app.app_context():
        set_value("public_list_enabled", "是")
        _db.session.commit()
    assert client.get("/public/officers").status_code == 200


def test_xlsx_export_without_login(client, registry):
    resp = client.get("/public/officers.xlsx?q=李")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.data)).active
    assert [c.value for c in ws[2]] == ["姓名", "单位", "执法证号", "执法类别", "执法区域", "发证日期", "有效期至"]
    assert [ws.cell(row=r, column=1).value for r in range(3, ws.max_row + 1)] == ["李四"]


def test_pdf_export_without_login(client, registry):
    from pypdf import PdfReader

    resp = client.get("/public/officers.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.data)).pages)
    assert "张三" in text and "李四" in text and "暂扣" not in text


def test_fresh_installation_keeps_the_list_off(app, client, registry):
    with app.app_context():
        _db.session.execute(_db.delete(Setting))
        _db.session.commit()
    for path in ("/public/officers", "/public/officers.xlsx", "/public/officers.pdf"):
        resp = client.get(path)
        assert resp.status_code == 404, path
        assert "张三" not in resp.get_data(as_text=True)
    assert "/public/officers" not in client.get("/verify/forged-token").get_data(as_text=True)
    login(client, app, "admin")
    html = client.get("/").get_data(as_text=True)
    state = html.split('id="public-list-state"', 1)[1].split("</div></div>", 1)[0]
    assert "未公开" in state and 'href="/settings#public_list_enabled"' in state and "在设置中开启" in state
    client.post("/settings", data=settings_form(client, public_list_enabled="是"))
    assert client.get("/public/officers").status_code == 200
    state = client.get("/").get_data(as_text=True).split('id="public-list-state"', 1)[1]
    assert "已公开" in state.split("</div></div>", 1)[0]


def test_verify_page_links_to_the_list(client):
    html = client.get("/verify/forged-token").get_data(as_text=True)
    assert "/public/officers" in html


def test_bad_page_and_long_query_do_not_fail(client, registry):
    assert client.get("/public/officers?page=abc").status_code == 200
    assert client.get("/public/officers?page=-5&q=" + "张" * 500).status_code == 200


def test_change_log_follows_an_officer_leaving(app, client, registry):
    with app.app_context():
        o = OfficerFactory(name="调走", unit=UnitFactory(name="南坪社区"), employment_status="transferred",
                           status_changed_on=TODAY - D(3))
        card(o, "5001080011")
        _db.session.commit()
    html = client.get("/public/officers").get_data(as_text=True)
    assert "调走" not in names_in(html)
    changes = html.split('id="changes"', 1)[1].split("</table>", 1)[0]
    row = next(r for r in changes.split("<tr>") if "2026年6月12日" in r)
    removed = row.split("</td>")[2]
    assert "调走（南坪社区，5001080011）" in removed


def test_paging(app, client):
    with app.app_context():
        unit = UnitFactory(name="综合行政执法队")
        for i in range(53):
            card(OfficerFactory(name=f"队员{i:02d}", unit=unit), f"50010890{i:04d}")
        _db.session.commit()
    first = client.get("/public/officers").get_data(as_text=True)
    assert "共 53 人" in first and len(names_in(first)) == 50 and "/public/officers?page=2" in first
    second = client.get("/public/officers?page=2").get_data(as_text=True)
    assert len(names_in(second)) == 3 and not names_in(first) & names_in(second)
