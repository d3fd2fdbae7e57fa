"""Issue 10: the dashboard's trend — holders, flags and training hours for the last 12 months,
computed in three statements and drawn as inline SVG."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import event

from app.certificates.models import CertificateEvent
from app.extensions import db as _db
from app.main.trend import last_months, trend
from app.training.models import Attendance, TrainingSession
from tests.conftest import TODAY, login
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory


def test_last_months_end_today():
    months = last_months(TODAY)
    assert len(months) == 12 and months[-1].end == TODAY and months[-1].label == "2026年6月"
    assert months[0].label == "2025年7月" and months[0].end == date(2025, 7, 31)


def _setup():
    unit = UnitFactory(name="执法大队")
    old = datetime(2024, 1, 1)
    a = OfficerFactory(name="张三", unit=unit, created_at=old)
    b = OfficerFactory(name="李四", unit=unit, created_at=old)
    OfficerFactory(name="王五", unit=unit, created_at=old)  # never certified: unlicensed throughout
    # 张三: valid all year, expiring 2026-08-01 (within 90 days of May and June ends).
    CertificateFactory(officer=a, issued_on=date(2023, 1, 1), expires_on=date(2026, 8, 1))
    # 李四: issued 2026-01-10, revoked 2026-04-20.
    c = CertificateFactory(officer=b, issued_on=date(2026, 1, 10), expires_on=date(2030, 1, 1), status="revoked")
    _db.session.query(CertificateEvent).filter(CertificateEvent.certificate_id == c.id,
                                               CertificateEvent.to_status == "revoked").update(
        {"effective_on": date(2026, 4, 20)})
    s = TrainingSession(title="讲座", category="lecture", held_on=date(2026, 3, 5), hours=4.0)
    _db.session.add(s)
    _db.session.flush()
    _db.session.add_all([Attendance(session_id=s.id, officer_id=a.id, status="attended", credited_hours=4.0),
                         Attendance(session_id=s.id, officer_id=b.id, status="attended", credited_hours=3.5)])
    _db.session.flush()


def test_trend_values_and_statement_count(db):
    _setup()
    statements = []
    listener = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(_db.engine, "before_cursor_execute", listener)
    try:
        t = trend(TODAY, 90)
    finally:
        event.remove(_db.engine, "before_cursor_execute", listener)
    assert len(statements) == 3
    i = {label: n for n, label in enumerate(t["months"])}
    assert t["holders"][i["2025年12月"]] == 1 and t["holders"][i["2026年1月"]] == 2
    assert t["holders"][i["2026年3月"]] == 2 and t["holders"][i["2026年4月"]] == 1  # revoked 4月20日
    assert t["unlicensed"][i["2026年3月"]] == 1 and t["unlicensed"][i["2026年5月"]] == 2
    assert t["expiring"][i["2026年4月"]] == 0 and t["expiring"][i["2026年5月"]] == 1
    assert t["flags"][i["2026年5月"]] == 3
    assert t["hours"][i["2026年3月"]] == 7.5 and sum(t["hours"]) == 7.5


def test_dashboard_draws_the_trend(app, client, set_today):
    set_today(TODAY)
    with app.app_context():
        _setup()
        _db.session.commit()
    login(client, app, "viewer")
    html = client.get("/").get_data(as_text=True)
    trend_html = html.split('id="trend"', 1)[1]
    assert trend_html.count("<svg") == 3 and "<script" not in trend_html.split("</details>", 1)[0]
    assert "持证人数（月末）" in trend_html and "<title>2026年3月：7.5学时</title>" in trend_html
    assert "<td>2026年4月</td><td class=\"text-end\">1</td>" in html
