"""案件核查 pages (docs/domain.md 案件核查): list with verdicts and reasons, filters, export, form, detail,
dashboard card, officer page, and the warning before a back-dated suspension."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.cases.services import save_case
from app.certificates.services import create_certificate, transition
from app.extensions import db as _db
from app.models.cases import PenaltyCase
from app.models.certificates import Certificate
from tests.conftest import TODAY, login, token
from tests.factories import OfficerFactory, UnitFactory

D = timedelta


@pytest.fixture(autouse=True)
def _today(set_today):
    set_today(TODAY)


@pytest.fixture
def data(app):
    """张三 A1, 李四 B1 valid; 王五 C1 suspended from 2025-07-10. Three cases."""
    with app.app_context():
        unit = UnitFactory(name="城市管理科")
        ids = {}
        for name, number in (("张三", "A1"), ("李四", "B1"), ("王五", "C1")):
            o = OfficerFactory(name=name, unit=unit)
            cert = create_certificate(o, {"number": number, "issued_on": date(2024, 1, 1),
                                          "expires_on": date(2029, 1, 1)}, today=TODAY)
            if number == "C1":
                transition(cert, "suspend", effective_on=date(2025, 7, 10), reason="违纪", today=TODAY)
            ids[name] = o.id
            ids[number] = cert.id
        for no, numbers, decided, unit_name in (
                ("罚〔2025〕1号", ["A1", "B1"], date(2025, 8, 1), "城市管理科"),
                ("罚〔2025〕2号", ["A1", "C1"], date(2025, 8, 2), "城市管理科"),
                ("罚〔2024〕3号", ["A1", "X9"], date(2024, 5, 1), "南坪社区")):
            ids[no] = save_case(None, {"case_no": no, "title": f"案件{no}", "decided_on": decided,
                                       "certificate_numbers": numbers, "unit": unit_name}).id
        _db.session.commit()
        return ids


def rows_of(html: str) -> list[str]:
    body = html.split('id="cases-table"', 1)[1].split("</tbody>", 1)[0]
    return body.split("<tr")[2:]


def test_list_shows_verdicts_in_red_and_green_with_chinese_reasons(client, app, data):
    login(client, app, "viewer")
    html = client.get("/cases").get_data(as_text=True)
    assert "共 <span id=\"cases-total\">3</span> 件" in html
    assert '<span id="cases-bad" class="text-danger">2</span>' in html
    rows = {r.split("</a>")[0].rsplit(">", 1)[1]: r for r in rows_of(html)}
    assert "verdict-ok" in rows["罚〔2025〕1号"] and "table-danger" not in rows["罚〔2025〕1号"]
    assert "verdict-bad" in rows["罚〔2025〕2号"] and "table-danger" in rows["罚〔2025〕2号"]
    assert "暂扣期间" in rows["罚〔2025〕2号"] and "C1 2025年8月2日" in rows["罚〔2025〕2号"]
    assert "不足两名持证人员" in rows["罚〔2025〕2号"]
    assert "证号不存在" in rows["罚〔2024〕3号"] and "suspended" not in "".join(rows.values())


@pytest.mark.parametrize("query,expected", [
    ("verdict=ok", ["罚〔2025〕1号"]),
    ("verdict=not_ok", ["罚〔2025〕2号", "罚〔2024〕3号"]),
    ("reason=unknown", ["罚〔2024〕3号"]),
    ("reason=suspended&year=2025", ["罚〔2025〕2号"]),
    ("year=2024", ["罚〔2024〕3号"]),
    ("unit=南坪社区", ["罚〔2024〕3号"]),
    ("q=C1", ["罚〔2025〕2号"]),
    ("q=1号", ["罚〔2025〕1号"]),
    ("year=abc&verdict=zzz&reason=x", ["罚〔2025〕2号", "罚〔2025〕1号", "罚〔2024〕3号"]),
])
def test_filters(client, app, data, query, expected):
    login(client, app, "viewer")
    resp = client.get(f"/cases?{query}")
    assert resp.status_code == 200
    got = [r.split("</a>")[0].rsplit(">", 1)[1] for r in rows_of(resp.get_data(as_text=True))]
    assert got == expected


def test_export_uses_the_same_query(client, app, data):
    login(client, app, "viewer")
    resp = client.get("/cases.xlsx?verdict=not_ok")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.data)).active
    assert [ws.cell(row=r, column=1).value for r in range(3, ws.max_row + 1)] == ["罚〔2025〕2号", "罚〔2024〕3号"]
    assert ws.cell(row=3, column=7).value == "不符合"
    assert "暂扣期间（C1 2025年8月2日）" in ws.cell(row=3, column=8).value


def test_new_case_form_with_autocomplete_and_refusals(client, app, data):
    login(client, app, "clerk")
    page = client.get("/cases/new").get_data(as_text=True)
    assert '<datalist id="cert-numbers">' in page and '<option value="A1">张三 · 行政执法证</option>' in page
    assert 'list="cert-numbers"' in page
    form = {"case_no": "罚〔2025〕9号", "title": "新案", "opened_on": "2025-09-02", "decided_on": "2025-09-01",
            "unit": "城市管理科", "numbers-0": "A1", "numbers-1": "B1", "numbers-2": "", "numbers-3": "",
            "csrf_token": token(client, "/cases/new")}
    html = client.post("/cases/new", data=form).get_data(as_text=True)
    assert "立案日期（2025年9月2日）晚于决定日期（2025年9月1日）" in html
    assert 'value="罚〔2025〕9号"' in html  # what was typed is kept
    form["opened_on"] = "2025-08-20"
    resp = client.post("/cases/new", data=form, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "案件“罚〔2025〕9号”已保存" in html and "符合《行政处罚法》第四十二条" in html
    with app.app_context():
        c = _db.session.scalar(select(PenaltyCase).where(PenaltyCase.case_no == "罚〔2025〕9号"))
        assert c.numbers == ["A1", "B1"] and c.opened_on == date(2025, 8, 20)
    form["numbers-0"], form["numbers-1"] = "", ""
    form["case_no"] = "罚〔2025〕10号"
    assert "执法证号不能为空" in client.post("/cases/new", data=form).get_data(as_text=True)
    form["numbers-0"] = "A1"
    form["case_no"] = "罚〔2025〕1号"
    assert "案号“罚〔2025〕1号”已存在" in client.post("/cases/new", data=form).get_data(as_text=True)


def test_single_number_case_is_saved_and_judged(client, app, data):
    login(client, app, "clerk")
    form = {"case_no": "罚〔2025〕11号", "decided_on": "2025-09-01", "numbers-0": "A1",
            "csrf_token": token(client, "/cases/new")}
    html = client.post("/cases/new", data=form, follow_redirects=True).get_data(as_text=True)
    assert "已保存" in html and "不足两名持证人员" in html


def test_edit_and_detail(client, app, data):
    login(client, app, "clerk")
    cid = data["罚〔2025〕2号"]
    detail = client.get(f"/cases/{cid}").get_data(as_text=True)
    assert "不符合《行政处罚法》第四十二条" in detail and "王五" in detail and "暂扣期间" in detail
    page = client.get(f"/cases/{cid}/edit").get_data(as_text=True)
    assert 'value="C1"' in page
    form = {"case_no": "罚〔2025〕2号", "decided_on": "2025-08-02", "numbers-0": "A1", "numbers-1": "B1",
            "numbers-2": "", "numbers-3": "", "csrf_token": token(client, f"/cases/{cid}/edit")}
    html = client.post(f"/cases/{cid}/edit", data=form, follow_redirects=True).get_data(as_text=True)
    assert "已保存" in html and "符合《行政处罚法》第四十二条" in html
    assert client.get("/cases/999999").status_code == 404


def test_viewer_cannot_write(client, app, data):
    login(client, app, "viewer")
    assert client.get("/cases/new").status_code == 403
    assert client.post(f"/cases/{data['罚〔2025〕1号']}/delete",
                       data={"csrf_token": token(client, "/cases")}).status_code == 403


def test_dashboard_card_and_officer_page(client, app, data):
    login(client, app, "viewer")
    html = client.get("/").get_data(as_text=True)
    card = html.split('id="case-problems"', 1)[1].split("</a>", 1)[0]
    assert "案件执法人员资格问题" in card and ">2</div>" in card
    officer = client.get(f"/officers/{data['王五']}").get_data(as_text=True)
    section = officer.split('id="officer-cases"', 1)[1]
    assert "罚〔2025〕2号" in section and "罚〔2025〕1号" not in section
    assert "案件核查" in html  # navbar entry


def test_back_dated_suspension_warns_how_many_verdicts_change(client, app, data):
    login(client, app, "clerk")
    url = f"/certificates/{data['B1']}/actions/suspend"
    form = {"effective_on": "2025-07-01", "reason": "违纪", "version": "1", "csrf_token": token(client, url)}
    html = client.post(url, data=form).get_data(as_text=True)
    assert 'id="case-impact"' in html and "将改变 <strong>1</strong> 件行政处罚案件的核查结果" in html
    with app.app_context():
        assert _db.session.get(Certificate, data["B1"]).status == "valid"  # nothing done yet
    form["confirm_cases"] = "2025-07-01:1"
    resp = client.post(url, data=form, follow_redirects=True)
    assert "证件 B1 已暂扣" in resp.get_data(as_text=True)
    with app.app_context():
        assert _db.session.get(Certificate, data["B1"]).status == "suspended"
    assert "verdict-ok" not in client.get("/cases?year=2025").get_data(as_text=True)


def test_suspension_dated_today_or_without_cases_does_not_warn(client, app, data):
    login(client, app, "clerk")
    url = f"/certificates/{data['A1']}/actions/suspend"
    form = {"effective_on": TODAY.isoformat(), "reason": "违纪", "version": "1", "csrf_token": token(client, url)}
    resp = client.post(url, data=form, follow_redirects=True)
    assert "证件 A1 已暂扣" in resp.get_data(as_text=True)


def test_cases_imported_on_the_web_page_show_at_once(client, app, data):
    from tests.web.test_import_web import upload, xlsx_bytes

    login(client, app, "clerk")
    assert "/imports/template/cases.xlsx" in client.get("/imports").get_data(as_text=True)
    bad = xlsx_bytes([["案号", "决定日期", "执法证号"], ["罚〔2025〕20号", "2025-02-30", "A1 C1"],
                      ["罚〔2025〕20号", "2025-09-01", ""]])
    html = upload(client, bad, kind="cases").get_data(as_text=True)
    assert "导入被拒绝：共 3 个问题" in html and "日期“2025-02-30”不存在" in html
    assert "与第 2 行重复" in html and "执法证号不能为空" in html
    with app.app_context():
        assert _db.session.scalar(select(PenaltyCase).where(PenaltyCase.case_no == "罚〔2025〕20号")) is None
    good = xlsx_bytes([["案号", "决定日期", "执法证号"], ["罚〔2025〕20号", "2025-09-01", "A1、C1"]])
    html = upload(client, good, kind="cases").get_data(as_text=True)
    assert "导入成功：导入行政处罚案件 1 条（新增 1，更新 0）" in html
    rows = rows_of(client.get("/cases?verdict=not_ok&q=20号").get_data(as_text=True))
    assert len(rows) == 1 and "暂扣期间" in rows[0]
    resp = client.get("/imports/template/cases.xlsx")
    assert resp.status_code == 200
    ws = openpyxl_load(resp.data)
    assert [c.value for c in ws[1]][:5] == ["案号", "案件名称", "立案日期", "决定日期", "执法证号"]


def openpyxl_load(data: bytes):
    return load_workbook(io.BytesIO(data)).active
