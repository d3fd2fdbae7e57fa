"""The 证件到期提醒 page, its exports, and the dashboard's last-run card."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import event, select

from app.extensions import db
from app.reminders import services
from tests.conftest import TODAY, follow_job, login
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory

Q = f"?today={TODAY.isoformat()}"


@pytest.fixture
def people(app):
    """张三 7-day window (城市管理科), 李四 60-day window (安全生产科), 赵六 expired on post,
    王五 outside every window, 钱七 retired (never shown)."""
    with app.app_context():
        a, b = UnitFactory(name="城市管理科"), UnitFactory(name="安全生产科")
        out = {}
        for name, unit, days, kw in [
            ("张三", a, 5, {}), ("李四", b, 45, {}), ("赵六", a, -12, {}), ("王五", b, 300, {}),
            ("钱七", a, 5, {"employment_status": "retired"}),
        ]:
            o = OfficerFactory(name=name, unit=unit, phone=f"1390000{len(out):04d}", **kw)
            out[name] = CertificateFactory(officer=o, issued_on=date(2021, 7, 1),
                                           expires_on=TODAY + timedelta(days=days)).id
        db.session.commit()
        return out


def rows_of(html: str, table_id: str) -> list[str]:
    m = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert m, f"no table {table_id}"
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)).strip()
            for r in re.findall(r"<tr data-certificate.*?</tr>", m.group(0), re.S)]


def test_anonymous_is_sent_to_login(client):
    resp = client.get("/reminders")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_page_shows_expired_first_in_red_then_windows_by_unit(app, client, people):
    login(client, app, "viewer")
    html = client.get("/reminders" + Q).get_data(as_text=True)

    assert "证件到期提醒" in html and "2026年6月15日" in html
    assert html.index("已过期仍在执法岗位") < html.index("7 天内到期")
    assert re.search(r'<table class="table table-sm align-middle table-danger" id="expired-table"', html)
    assert re.search(r'<tr class="table-light unit-row"><th colspan="8"[^>]*>城市管理科（1）</th>', html)
    expired = rows_of(html, "expired-table")
    assert len(expired) == 1 and "赵六" in expired[0] and "已过期12天" in expired[0]
    seven = rows_of(html, "band-7-table")
    assert len(seven) == 1
    assert "张三" in seven[0] and "城市管理科" in seven[0] and "剩余5天" in seven[0]
    assert "13900000000" in seven[0] and "未发送" in seven[0]
    sixty = rows_of(html, "band-60-table")
    assert "李四" in sixty[0] and "安全生产科" in sixty[0] and "剩余45天" in sixty[0]
    assert "安全生产科（1）" in html
    assert "王五" not in html and "钱七" not in html
    assert '<span id="reminders-total">2</span>' in html


def test_page_shows_what_was_sent_and_when(app, client, people, monkeypatch):
    with app.app_context():
        from app.settings.services import set_value

        set_value("reminder_recipients", "hr@example.gov.cn")
        db.session.commit()
    login(client, app, "viewer")
    before = rows_of(client.get("/reminders" + Q).get_data(as_text=True), "band-7-table")[0]
    assert "待发送：邮件" in before

    with app.app_context():
        result = services.send_reminders(TODAY, app.config, commit=db.session.commit,
                                         sender=lambda out, smtp, today: None)
        assert result.ok

    html = client.get("/reminders" + Q).get_data(as_text=True)
    after = rows_of(html, "band-7-table")[0]
    assert re.search(r"7天提醒 · 邮件 · \d{4}年\d+月\d+日 \d\d:\d\d · 已发送", after)
    assert re.search(r"已发送 邮件 · \d{4}年", after) and "待发送" not in after
    assert "60天提醒 · 邮件" in rows_of(html, "band-60-table")[0]
    assert "成功" in html  # last run line


def test_other_day_and_bad_date(app, client, people):
    login(client, app, "viewer")
    later = client.get("/reminders?today=" + (TODAY + timedelta(days=10)).isoformat())
    assert later.status_code == 200
    expired = rows_of(later.get_data(as_text=True), "expired-table")
    assert ["赵六" in expired[0], "张三" in expired[1], "已过期5天" in expired[1]] == [True] * 3

    bad = client.get("/reminders?today=2026-02-30")
    assert bad.status_code == 200
    assert "日期“2026-02-30”不存在" in bad.get_data(as_text=True)


def test_xlsx_export(app, client, people):
    login(client, app, "viewer")
    resp = client.get("/reminders.xlsx" + Q)

    assert resp.status_code == 200
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(resp.data)).active
    values = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    assert "证件到期提醒" in values[0][0]
    assert values[1][:7] == ["类别", "单位", "姓名", "证件编号", "有效期至", "剩余天数", "联系电话"]
    body = values[2:]
    assert [r[2] for r in body] == ["赵六", "张三", "李四"]
    assert body[0][0] == "已过期仍在岗" and body[0][5] == -12
    assert body[1][0] == "7 天内到期" and body[1][5] == 5
    from app.models.audit import AuditEvent

    with app.app_context():
        summaries = list(db.session.scalars(select(AuditEvent.summary).where(AuditEvent.action == "export")))
    assert any("证件到期提醒 .xlsx" in s for s in summaries)


def test_pdf_export_has_chinese_text(app, client, people):
    login(client, app, "viewer")
    resp = follow_job(client, client.get("/reminders.pdf" + Q))

    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(resp.data)).pages)
    for expected in ("证件到期提醒", "示例街道办事处", "赵六", "张三", "李四", "已过期12天", "第 1 / 1 页"):
        assert expected in text
    assert "王五" not in text


def test_page_query_count_does_not_grow_with_rows(app, client, people):
    login(client, app, "viewer")
    with app.app_context():
        unit = UnitFactory(name="扩展科")
        for i in range(40):
            o = OfficerFactory(unit=unit)
            CertificateFactory(officer=o, expires_on=TODAY + timedelta(days=i + 1))
        db.session.commit()
        engine = db.engine
    statements = []

    def count(*args):
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        resp = client.get("/reminders" + Q)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert resp.status_code == 200
    assert len(statements) <= 12, statements


def test_dashboard_shows_last_run_and_failure(app, client, people):
    login(client, app, "viewer")
    assert "尚未运行" in client.get("/").get_data(as_text=True)
    with app.app_context():
        from app.settings.services import set_value

        set_value("reminder_recipients", "hr@example.gov.cn")
        db.session.commit()
        app.config["SMTP_HOST"], old = "", app.config["SMTP_HOST"]
        try:
            services.send_reminders(TODAY, app.config, commit=db.session.commit)
        finally:
            app.config["SMTP_HOST"] = old

    html = client.get("/").get_data(as_text=True)
    card = re.search(r'id="reminder-run".*?</div></div>', html, re.S).group(0)
    assert "失败" in card and "未配置 SMTP_HOST" in card
    assert re.search(r"\d{4}年\d+月\d+日 \d\d:\d\d", card)
