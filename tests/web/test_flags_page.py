"""The flags page /flags and its Excel/CSV exports."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from app.extensions import db as _db
from app.idnumber import mask
from app.models.audit import AuditEvent
from tests.conftest import TODAY, login
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory

D = timedelta


@pytest.fixture(autouse=True)
def _today(set_today):
    set_today(TODAY)


@pytest.fixture
def data(app):
    with app.app_context():
        a = UnitFactory(name="城市管理科", sort_order=1)
        b = UnitFactory(name="南坪社区", sort_order=2)
        expired = OfficerFactory(name="张三", unit=a)
        CertificateFactory(officer=expired, number="C-EXPIRED", issued_on=TODAY - D(2000),
                           expires_on=TODAY - D(12))
        soon = OfficerFactory(name="李四", unit=a)
        CertificateFactory(officer=soon, number="C-SOON", issued_on=TODAY - D(1000),
                           expires_on=TODAY + D(20))
        later = OfficerFactory(name="孙七", unit=b)
        CertificateFactory(officer=later, number="C-LATER", issued_on=TODAY - D(1000),
                           expires_on=TODAY + D(60))
        none = OfficerFactory(name="赵六", unit=b)
        _db.session.commit()
        return {o.name: (o.id, o.id_number) for o in (expired, soon, later, none)}


def table_names(html: str) -> list[str]:
    import re

    body = html.split('id="flags-table"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<a href="/officers/\d+">([^<]+)</a>', body)


def test_page_lists_flags_with_labels_and_links(client, app, data):
    login(client, app, "viewer")
    html = client.get("/flags").get_data(as_text=True)
    assert "未持证上岗" in html and "证件已过期" in html and "无执法证" in html
    assert set(table_names(html)) >= {"张三", "赵六", "李四", "孙七"}
    assert f'href="/officers/{data["张三"][0]}"' in html
    assert mask(data["张三"][1]) in html and data["张三"][1] not in html  # masked only
    assert "已过期12天" in html and "剩余20天" in html
    assert "2026年6月3日" in html  # 有效期至 in Chinese
    assert 'id="chip-UNLICENSED"' in html


def test_dashboard_link_expiring_within_30(client, app, data):
    login(client, app, "viewer")
    html = client.get("/flags?flag=EXPIRING&within=30").get_data(as_text=True)
    assert table_names(html) == ["李四"]  # 孙七 expires in 60 days: outside 30
    html = client.get("/flags?flag=EXPIRING&within=60").get_data(as_text=True)
    assert table_names(html) == ["李四", "孙七"]


def test_filters_unit_reason_search_and_chinese_flag_label(client, app, data):
    login(client, app, "viewer")
    assert table_names(client.get("/flags?flag=UNLICENSED&unit=南坪社区").get_data(as_text=True)) == ["赵六"]
    assert table_names(client.get("/flags?flag=UNLICENSED&reason=expired").get_data(as_text=True)) == ["张三"]
    assert table_names(client.get("/flags?flag=未持证上岗&q=赵").get_data(as_text=True)) == ["赵六"]
    html = client.get("/flags?unit=南坪社区").get_data(as_text=True)
    # chips count under the unit filter: one unlicensed, one expiring (60 ≤ 90 days) there
    assert "张三" not in html and "李四" not in html


def test_bad_filters_get_a_message_not_an_error(client, app, data):
    login(client, app, "viewer")
    resp = client.get("/flags?within=abc&flag=NOPE&unit=不存在&page=999")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "到期天数“abc”无效" in html
    assert "未知的问题类型“NOPE”" in html
    assert "没有名为“不存在”的单位" in html
    assert "张三" in html  # falls back to everything
    assert client.get("/flags?within=-5").status_code == 200


def test_pagination_50_per_page(client, app):
    with app.app_context():
        unit = UnitFactory(name="大科室")
        for i in range(60):
            OfficerFactory(name=f"无证{i:02d}", unit=unit)
        _db.session.commit()
    login(client, app, "viewer")
    first = client.get("/flags?flag=UNLICENSED").get_data(as_text=True)
    second = client.get("/flags?flag=UNLICENSED&page=2").get_data(as_text=True)
    assert len(table_names(first)) == 50 and len(table_names(second)) == 10
    assert "page=2" in first and "flag=UNLICENSED" in first


def test_xlsx_export_has_rows_filename_and_is_audited(client, app, data):
    login(client, app, "viewer")  # exports are reads: viewers may export
    resp = client.get("/flags.xlsx?flag=UNLICENSED")
    assert resp.status_code == 200
    cd = resp.headers["Content-Disposition"]
    assert cd.startswith("attachment;")
    assert "filename*=UTF-8''" + quote(f"问题提示_{TODAY.isoformat()}.xlsx") in cd
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert "问题：未持证上岗" in rows[0][0] and "2026年6月15日" in rows[0][0]  # what was shown, in words
    assert rows[1][:3] == ("问题", "原因", "姓名")
    assert ws.freeze_panes == "A3"
    assert sorted(r[2] for r in rows[2:]) == ["张三", "赵六"]
    with app.app_context():
        (event,) = _db.session.query(AuditEvent).filter_by(action="export").all()
        assert event.actor == "viewer_user"
        assert "2 条" in event.summary and "UNLICENSED" in event.summary


def test_csv_export_same_filters_bom_and_audited(client, app, data):
    login(client, app, "clerk")
    resp = client.get("/flags.csv?flag=EXPIRING&within=30")
    assert resp.status_code == 200
    assert resp.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert rows[0] == ["问题", "原因", "姓名", "身份证号", "单位", "证件编号", "有效期至", "剩余天数"]
    assert [r[2] for r in rows[1:]] == ["李四"]
    assert rows[1][3] == mask(data["李四"][1]) and rows[1][7] == "20"
    with app.app_context():
        assert _db.session.query(AuditEvent).filter_by(action="export").count() == 1


def test_export_buttons_carry_the_filters(client, app, data):
    login(client, app, "viewer")
    html = client.get("/flags?flag=EXPIRING&within=30").get_data(as_text=True)
    assert "导出 Excel" in html and "导出 CSV" in html
    assert "/flags.xlsx?" in html and "within=30" in html.split("/flags.xlsx?", 1)[1].split('"', 1)[0]


def test_anonymous_is_sent_to_login(client, data):
    assert client.get("/flags").status_code == 302
    assert client.get("/flags.csv").status_code == 302
