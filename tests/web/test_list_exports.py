"""Every list exports exactly what it shows — at its own path with .xlsx appended and
the same query string; Chinese headers, real dates, a frozen header row, the filters in the
title row, ID numbers masked."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db as _db
from app.models.audit import AuditEvent
from tests.conftest import TODAY, login
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory

D = timedelta


@pytest.fixture(autouse=True)
def _today(set_today):
    set_today(TODAY)


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
    assert [r[0] for r in rows] == ["=CMD4", "C-3", "C-2", "C-1"]  # as shown, stored as text
    assert ws["A3"].data_type == "s" and ws["A3"].quotePrefix
    assert "到期日起：2026年7月1日" in title
    assert header == ["证件编号", "证件类型", "持证人", "单位", "发证日期", "有效期至", "状态", "有效性"]
    assert rows[0][5].date() == TODAY + D(410) and rows[0][7] == "有效"


@pytest.fixture
def activity(app, staff):
    from app.models.exams import Exam, ExamResult
    from app.models.officers import Officer
    from app.models.training import Attendance, TrainingSession

    with app.app_context():
        officers = _db.session.scalars(select(Officer).order_by(Officer.id)).all()
        for i, (title, cat) in enumerate([("行政处罚法讲座", "lecture"), ("安全生产培训", "political"),
                                          ("=HYPERLINK(1)", "lecture")]):
            s = TrainingSession(title=title, category=cat, held_on=TODAY - D(30 * (i + 1)), hours=4.0 + i,
                                location="三楼会议室")
            _db.session.add(s)
            _db.session.flush()
            for o in officers[: 2 + i]:
                _db.session.add(Attendance(session_id=s.id, officer_id=o.id, status="attended",
                                           credited_hours=s.hours))
        for i, title in enumerate(["2026年资格考试", "2026年年度法治理论考试"]):
            e = Exam(title=title, kind="qualification" if i == 0 else "annual", held_on=TODAY - D(10 + i))
            _db.session.add(e)
            _db.session.flush()
            for j, o in enumerate(officers):
                _db.session.add(ExamResult(exam_id=e.id, officer_id=o.id, score=50.0 + 10 * j))
        _db.session.commit()


def test_units_export_and_search_sort_paging(app, client, staff):
    login(client, app, "viewer")
    html = client.get("/units?q=社区").get_data(as_text=True)
    assert "南坪社区" in html and "城市管理科" not in html.split('id="units"', 1)[1]
    _ws, title, header, rows = workbook(client.get(export_link(html)))
    assert header == ["排序", "单位名称", "类型", "上级单位", "人员数"]
    assert rows == [[2, "南坪社区", "科室", None, 2]] and "搜索：社区" in title
    html = client.get("/units?sort=-count").get_data(as_text=True)
    body = html.split('id="units"', 1)[1]
    assert body.index("城市管理科") < body.index("南坪社区")  # 3 people before 2


def test_training_export_matches_the_filtered_list(app, client, activity):
    login(client, app, "viewer")
    html = client.get("/training?category=lecture&sort=title").get_data(as_text=True)
    shown = re.findall(r'<a href="/training/\d+">([^<]+)</a>', html)
    assert shown == ["=HYPERLINK(1)", "行政处罚法讲座"]
    _ws, title, header, rows = workbook(client.get(export_link(html)))
    assert [r[1] for r in rows] == ["=HYPERLINK(1)", "行政处罚法讲座"]
    assert header[:4] == ["日期", "培训名称", "类别", "学时"] and "类别：法治讲座" in title
    assert rows[1][0].date() == TODAY - D(30) and rows[1][3] == 4.0 and rows[1][4] == 2 and rows[1][6] == 8.0


def test_ledger_export_matches(app, client, activity):
    login(client, app, "clerk")
    html = client.get(f"/training/ledger?year={TODAY.year}&unit={activity_unit(app)}").get_data(as_text=True)
    shown = re.findall(r'data-officer="([^"]+)"', html)
    assert shown
    _ws, title, header, rows = workbook(client.get(export_link(html)))
    assert [r[1] for r in rows] == shown and "城市管理科" in title
    assert header[:4] == ["单位", "姓名", "身份证号", "认定学时"]
    zhang = next(r for r in rows if r[1] == "张三")
    assert zhang[3] == 15 and "*" in zhang[2]  # 4 + 5 + 6 hours, a number


def activity_unit(app) -> int:
    from app.models.officers import Unit

    with app.app_context():
        return _db.session.scalar(select(Unit.id).where(Unit.name == "城市管理科"))


def test_exams_export_matches(app, client, activity):
    login(client, app, "viewer")
    html = client.get("/exams?kind=annual").get_data(as_text=True)
    shown = re.findall(r'<a href="/exams/\d+">([^<]+)</a>', html)
    assert shown == ["2026年年度法治理论考试"]
    _ws, title, header, rows = workbook(client.get(export_link(html)))
    assert [r[1] for r in rows] == shown and "类型：年度法治理论考试" in title
    assert rows[0][header.index("考生")] == 5 and rows[0][header.index("合格")] == 4


def test_reviews_export_matches(app, client, staff):
    login(client, app, "viewer")
    html = client.get(f"/reviews?year={TODAY.year}&q=张").get_data(as_text=True)
    _ws, title, header, rows = workbook(client.get(export_link(html)))
    assert [r[1] for r in rows] == ["张三"] and "搜索：张" in title
    assert header[:3] == ["单位", "姓名", "证件编号"] and rows[0][header.index("年审结果")] == "未登记"


def test_audit_export_admin_only_and_matches(app, client, staff):
    login(client, app, "admin")
    client.get("/officers.xlsx?post=no")
    html = client.get("/audit?action=export").get_data(as_text=True)
    _ws, title, header, rows = workbook(client.get(export_link(html)))
    assert len(rows) == 1 and rows[0][header.index("操作")] == "导出" and "操作：导出" in title
    assert isinstance(rows[0][0], datetime)
    viewer = app.test_client()
    login(viewer, app, "viewer")
    assert viewer.get("/audit.xlsx").status_code == 403


@pytest.mark.parametrize("path", ["/flags", "/reminders", "/cases"])
def test_other_lists_link_their_export(app, client, staff, path):
    login(client, app, "admin")
    link = export_link(client.get(path).get_data(as_text=True))
    assert link.split("?")[0] == path + ".xlsx"
    workbook(client.get(link))
