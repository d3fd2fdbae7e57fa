"""Issue 10: every list exports exactly what it shows — at its own path with .xlsx appended and
the same query string; Chinese headers, real dates, a frozen header row, the filters in the
title row, ID numbers masked."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.extensions import db as _db
from tests.conftest import TODAY, login
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory

D = timedelta


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    for module in ("officers", "certificates", "training", "exams", "reviews"):
        monkeypatch.setattr(f"app.{module}.routes.today", lambda: TODAY)


def workbook(resp):
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    return ws, rows[0][0], rows[1], rows[2:]


def export_link(html: str) -> str:
    m = re.search(r'id="export-xlsx" href="([^"]+)"', html)
    assert m, "no 导出 Excel link"
    return m.group(1).replace("&amp;", "&")


def table_names(html: str, table: str) -> list[str]:
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<a href="/officers/\d+">([^<]+)</a>', body)


@pytest.fixture
def staff(app):
    with app.app_context():
        a = UnitFactory(name="城市管理科", sort_order=1)
        b = UnitFactory(name="南坪社区", sort_order=2)
        for i, name in enumerate(["张三", "李四", "王五", "赵六", "曾七"]):
            o = OfficerFactory(name=name, unit=a if i % 2 == 0 else b, on_enforcement_post=i != 2)
            CertificateFactory(officer=o, number=f"=CMD{i}" if i == 4 else f"C-{i}",
                               issued_on=TODAY - D(400), expires_on=TODAY + D(10 + 100 * i))
        _db.session.commit()
        return {"a": a.id, "b": b.id}


def test_officers_export_is_the_filtered_list(app, client, staff):
    login(client, app, "viewer")
    html = client.get(f"/officers?unit={staff['a']}&post=yes&sort=name").get_data(as_text=True)
    shown = table_names(html, "officers")
    assert shown == ["曾七", "张三"]  # zēng before zhāng
    link = export_link(html)
    assert link.startswith("/officers.xlsx?") and f"unit={staff['a']}" in link and "post=yes" in link
    ws, title, header, rows = workbook(client.get(link))
    assert [r[0] for r in rows] == shown
    assert header[:3] == ["姓名", "身份证号", "单位"]
    assert "城市管理科" in title and "执法岗位：是" in title and "2026年6月15日" in title
    assert ws.freeze_panes == "A3"
    assert all(re.fullmatch(r"\d{6}\*{8}\d{3}[\dX]", r[1]) for r in rows)  # masked, even for… a viewer
    expires = rows[0][header.index("执法证有效期至")]
    assert isinstance(expires, datetime) and expires.date() == TODAY + D(410)  # 曾七
    with app.app_context():
        event = _db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).one()
        assert "执法人员" in event.summary and "2 行" in event.summary


def test_officers_export_of_everything_spans_all_pages(app, client, staff):
    app.config["PER_PAGE"], old = 2, app.config["PER_PAGE"]
    try:
        login(client, app, "admin")
        html = client.get("/officers").get_data(as_text=True)
        assert len(table_names(html, "officers")) == 2
        _ws, title, _h, rows = workbook(client.get(export_link(html)))
        assert len(rows) == 5 and "（全部）" in title
        # Admins see whole numbers on the detail page only: the export is masked as the list is.
        assert all("*" in r[1] for r in rows)
    finally:
        app.config["PER_PAGE"] = old


def test_certificates_export_matches_and_neutralises_formulas(app, client, staff):
    login(client, app, "clerk")
    html = client.get("/certificates?sort=-expires&expires_from=2026-07-01").get_data(as_text=True)
    numbers = re.findall(r'<a href="/certificates/\d+">([^<]+)</a>', html)
    assert numbers == ["=CMD4", "C-3", "C-2", "C-1"]
    ws, title, header, rows = workbook(client.get(export_link(html)))
    assert [r[0] for r in rows] == ["'=CMD4", "C-3", "C-2", "C-1"]
    assert "到期日起：2026年7月1日" in title
    assert header == ["证件编号", "证件类型", "持证人", "单位", "发证日期", "有效期至", "状态", "有效性"]
    assert rows[0][5].date() == TODAY + D(410) and rows[0][7] == "有效"
