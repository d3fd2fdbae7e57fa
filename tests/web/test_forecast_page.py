"""The page 持证力量预测 (/forecast): per unit the figures of compute() (the CLI's JSON), the
units falling below two first, their losses, the unit filter, the .xlsx export and unit scope."""

from __future__ import annotations

import io
import re
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models.certificates import Certificate
from app.reports import forecast
from tests.cli.test_forecast_cli import TODAY, data  # noqa: F401  (the fixture)
from tests.conftest import login, token


def _cards(html: str) -> list[tuple[str, str]]:
    """(unit name, card html) in page order."""
    return re.findall(r'data-unit="([^"]+)">(.*?)</div>\s*</div>\s*</div>', html, re.S)


def _numbers(card: str) -> list[int]:
    body = re.search(r'<table class="table table-sm mb-1 text-center forecast-counts">.*?<tbody>(.*?)</tbody>',
                     card, re.S)
    return [int(x) for x in re.findall(r">(\d+)</td>", body.group(1))]


def test_page_shows_computes_figures_below_two_first(app, client, data, set_today):  # noqa: F811
    set_today(TODAY)
    login(client, app, "viewer")
    html = client.get("/forecast").get_data(as_text=True)
    with app.app_context():
        expected = forecast.compute(TODAY).as_json()["units"]
    cards = dict(_cards(html))
    assert set(cards) == {u["unit"] for u in expected}
    for u in expected:
        assert _numbers(cards[u["unit"]]) == [u["now"], u["months"]["3"], u["months"]["6"],
                                              u["months"]["12"]], u["unit"]
    # the units falling below two come first, soonest first: 丙社区 (now), 甲科, 戊队, 乙科
    assert [name for name, _c in _cards(html)] == ["丙社区", "甲科", "戊队", "乙科"]
    assert "现已不足两人" in cards["丙社区"]
    assert "2026年8月15日起不足两人" in cards["甲科"] and "text-bg-danger" in cards["甲科"]
    assert "2027年6月15日起不足两人" in cards["乙科"] and "text-bg-warning" in cards["乙科"]
    assert re.search(r"李乙</a> · 退休 · 2026年7月10日 · .*证号 B-1", cards["甲科"])
    assert re.search(r"张甲</a> · 证件到期 · 2026年8月15日 · .*证号 A-1", cards["甲科"])
    assert "3</strong> 个单位将在 6 个月内" not in html and "4</strong> 个单位将在 12 个月内不足两名持证人员" in html
    assert '<svg class="trend-chart"' in html and "<script" not in html.split("<main", 1)[-1].split("</main>")[0]


def test_unit_filter_and_unknown_unit(app, client, data, set_today):  # noqa: F811
    set_today(TODAY)
    login(client, app, "viewer")
    html = client.get("/forecast?unit=乙科").get_data(as_text=True)
    assert [name for name, _c in _cards(html)] == ["乙科"]
    html = client.get("/forecast?unit=没有的科").get_data(as_text=True)
    assert "没有名为“没有的科”的单位，已显示全部单位" in html
    assert len(_cards(html)) == 4


def test_xlsx_export_is_the_forecast(app, client, data, set_today):  # noqa: F811
    set_today(TODAY)
    login(client, app, "viewer")
    resp = client.get("/forecast.xlsx?unit=甲科")
    assert resp.status_code == 200 and "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = [[c for c in r] for r in ws.iter_rows(values_only=True)]
    header = rows.index(next(r for r in rows if r and r[0] == "单位"))
    assert rows[header][:6] == ["单位", "当前持证", "3个月后", "6个月后", "12个月后", "不足两人日期"]
    assert rows[header + 1][:5] == ["甲科", 3, 2, 2, 2]
    assert rows[header + 1][5].date() == date(2026, 8, 15)  # a real date
    assert "李乙（B-1）2026年7月10日起退休" in rows[header + 1][6]
    assert len(rows) == header + 2


def test_scoped_user_sees_only_their_units(app, client, data, set_today):  # noqa: F811
    from tests.web.test_scope import scoped_login

    set_today(TODAY)
    scoped_login(client, app, "jia", "viewer", "甲科")
    html = client.get("/forecast").get_data(as_text=True)
    assert [name for name, _c in _cards(html)] == ["甲科"]
    assert "冯癸" not in html and "J-1" not in html
    ws = load_workbook(io.BytesIO(client.get("/forecast.xlsx").data)).active
    text = " ".join(str(c) for r in ws.iter_rows(values_only=True) for c in r if c is not None)
    assert "甲科" in text and "乙科" not in text and "冯癸" not in text


def test_dashboard_card_counts_units_below_two_within_six_months(app, client, data, set_today):  # noqa: F811
    set_today(TODAY)
    login(client, app, "viewer")
    html = client.get("/").get_data(as_text=True)
    card = re.search(r'id="forecast-falling">(.*?)</div></div></div>', html, re.S).group(1)
    # 丙社区 (now), 甲科 (2026-08-15), 戊队 (2026-11-01); not 乙科 (2027-06-15)
    assert re.search(r'>3</span> 个单位将在 6 个月内不足两名持证人员', card)
    assert "丙社区、甲科、戊队" in card and "乙科" not in card
    assert 'href="/forecast"' in html


def test_kept_forecast_follows_a_write(app, client, data, set_today):  # noqa: F811
    """As in production (kept until the next audited write): a suspension entered on the web
    changes the page at once, and the officer's link still leads to their page."""
    set_today(TODAY)
    app.config["TREND_CACHE_SECONDS"] = 300
    try:
        login(client, app, "clerk")
        card = dict(_cards(client.get("/forecast").get_data(as_text=True)))["戊队"]
        assert _numbers(card)[0] == 2
        with app.app_context():
            cert = db.session.scalar(select(Certificate).where(Certificate.number == "M-1"))
            cid, version, officer_id = cert.id, cert.version, cert.officer_id
        url = f"/certificates/{cid}/actions/suspend"
        resp = client.post(url, data={"effective_on": TODAY.isoformat(), "reason": "停职调查", "document_no": "",
                                      "version": str(version), "csrf_token": token(client, url)},
                           follow_redirects=True)
        assert "已暂扣" in resp.get_data(as_text=True)
        html = client.get("/forecast").get_data(as_text=True)
        card = dict(_cards(html))["戊队"]
        assert _numbers(card)[0] == 1 and "现已不足两人" in card
        assert f'href="/officers/{officer_id}"' not in card  # 沈辰 no longer counts: not a loss either
        assert re.search(r'<a href="/officers/\d+">韩巳</a> · 证件到期', card)
    finally:
        app.config.pop("TREND_CACHE_SECONDS", None)


def test_kept_forecast_outlives_an_export_not_a_write(app, client, data, set_today):  # noqa: F811
    """Only an audited change of data clears the kept pictures: an export (audited, but changing
    nothing) does not — a change made behind the audit's back stays hidden until the next write."""
    from app.models.audit import AuditEvent

    set_today(TODAY)
    app.config["TREND_CACHE_SECONDS"] = 300
    try:
        login(client, app, "clerk")
        assert _numbers(dict(_cards(client.get("/forecast").get_data(as_text=True)))["戊队"])[0] == 2
        with app.app_context():  # no audit row: the kept forecast cannot see it
            cert = db.session.scalar(select(Certificate).where(Certificate.number == "M-1"))
            cert.expires_on, cid = date(TODAY.year - 1, 1, 1), cert.id
            db.session.commit()
            audited = db.session.scalar(select(db.func.count()).select_from(AuditEvent))
        assert client.get("/forecast.xlsx").status_code == 200  # audited as an export
        with app.app_context():
            assert db.session.scalar(select(db.func.count()).select_from(AuditEvent)) == audited + 1
        assert _numbers(dict(_cards(client.get("/forecast").get_data(as_text=True)))["戊队"])[0] == 2
        with app.app_context():  # an audited write of any kind refreshes the pictures
            from app.audit.services import record
            record("update", "certificate", cid, "修改证件")
            db.session.commit()
        assert _numbers(dict(_cards(client.get("/forecast").get_data(as_text=True)))["戊队"])[0] == 1
    finally:
        app.config.pop("TREND_CACHE_SECONDS", None)
