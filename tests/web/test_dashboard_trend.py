"""The dashboard's trend — holders, flags and training hours for the last 12 months,
computed in three statements and drawn as inline SVG."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import event

from app.extensions import db as _db
from app.models.certificates import CertificateEvent
from app.models.training import Attendance, TrainingSession
from app.reports.trend import last_months, trend
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
    assert "持证执法人员（月末）" in trend_html and "<title>2026年3月：7.5学时</title>" in trend_html
    assert "<td>2026年4月</td><td class=\"text-end\">1</td>" in html


def _cards_and_last_point(client) -> tuple[dict, dict]:
    """The dashboard's cards and the trend's last point (its numbers table and the charts' latest values)."""
    import re

    html = client.get("/").get_data(as_text=True)
    cards = {
        "holders": int(re.search(r'id="stat-certified">(\d+)<', html).group(1)),
        **{k: int(re.search(rf'id="flag-{flag}">.*?<div class="number[^"]*">(\d+)</div>', html, re.S).group(1))
           for k, flag in (("unlicensed", "UNLICENSED"), ("expiring", "EXPIRING"))},
    }
    cards["flags"] = cards["unlicensed"] + cards["expiring"]
    last_row = html.split('id="trend-table"', 1)[1].split("</tbody>", 1)[0].rsplit("<tr>", 1)[1]
    holders, unlicensed, expiring = (int(x) for x in re.findall(r'<td class="text-end">(\d+)</td>', last_row)[:3])
    charts = re.findall(r'text-anchor="end" font-weight="bold" fill="[^"]+">([\d.]+)', html)
    point = {"holders": holders, "unlicensed": unlicensed, "expiring": expiring, "flags": unlicensed + expiring}
    assert (int(charts[0]), int(charts[1])) == (point["holders"], point["flags"])
    return cards, point


def test_the_charts_last_point_is_the_cards_figures(app, client, set_today):
    """Officers imported today (rows created now), one with two cards, a card expiring soon,
    one officer never certified: the chart's last point equals the cards — after a suspension,
    and after a card's expiry passes."""
    from tests.conftest import token

    set_today(TODAY)
    app.config["TREND_CACHE_SECONDS"] = 300  # as in production: cached, refreshed by writes
    try:
        with app.app_context():
            unit = UnitFactory(name="综合执法大队")
            a, b, c = (OfficerFactory(name=n, unit=unit) for n in ("赵一", "钱二", "孙三"))
            OfficerFactory(name="李四", unit=unit)  # never certified
            CertificateFactory(officer=a, issued_on=date(2022, 7, 10), expires_on=date(2026, 7, 9))
            CertificateFactory(officer=b, issued_on=date(2023, 1, 1), expires_on=date(2028, 1, 1))
            CertificateFactory(officer=b, issued_on=date(2025, 1, 1), expires_on=date(2030, 1, 1))
            cid = CertificateFactory(officer=c, issued_on=date(2024, 1, 1), expires_on=date(2029, 1, 1)).id
            _db.session.commit()
        login(client, app, "clerk")
        cards, point = _cards_and_last_point(client)
        assert cards == point == {"holders": 3, "unlicensed": 1, "expiring": 1, "flags": 2}

        url = f"/certificates/{cid}/actions/suspend"
        resp = client.post(url, data={"effective_on": TODAY.isoformat(), "reason": "停职调查", "document_no": "",
                                      "version": "1", "csrf_token": token(client, url)}, follow_redirects=True)
        assert "已暂扣" in resp.get_data(as_text=True)
        cards, point = _cards_and_last_point(client)
        assert cards == point == {"holders": 2, "unlicensed": 2, "expiring": 1, "flags": 3}

        set_today(date(2026, 7, 15))  # 赵一's card expired on 7月9日
        cards, point = _cards_and_last_point(client)
        assert cards == point == {"holders": 1, "unlicensed": 3, "expiring": 0, "flags": 3}
    finally:
        app.config.pop("TREND_CACHE_SECONDS", None)
