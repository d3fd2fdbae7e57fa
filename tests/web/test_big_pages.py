"""Pages that summarise the whole register stay one page at province scale (issue 21): the unit
tree sends the list of units once (each move control is filled from it in the browser), the
forecast's unit cards and an online exam's recorded candidates come a page at a time, the tree's
counts are kept until the next audited write and then recomputed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.extensions import db as _db
from app.online import routes as online_routes
from app.online import services as online_svc
from app.reports import forecast
from app.reports import routes as report_routes
from app.reports.trend import _cache
from tests.cli.test_forecast_cli import TODAY as FORECAST_DAY
from tests.cli.test_forecast_cli import data  # noqa: F401  (the fixture)
from tests.conftest import TODAY, login, token
from tests.web.test_online_vs_recorded import enter_score, result_of
from tests.web.test_scope import scoped_login, tree  # noqa: F401  (the fixture)


def _move_select(html: str, unit_id: int) -> str:
    return re.search(rf'<select[^>]*id="move-{unit_id}".*?</select>', html, re.S).group(0)


def test_tree_sends_each_unit_once_and_each_move_control_its_current_parent(app, client, tree):  # noqa: F811
    u = tree["units"]
    scoped_login(client, app, "top", "admin", None)
    html = client.get("/units/tree").get_data(as_text=True)
    # the page's one list of the units a unit may go under (none, then every unit)
    choices = re.search(r'<template id="unit-choices">(.*?)</template>', html, re.S).group(1)
    assert sorted(re.findall(r'<option value="([^"]*)">', choices)) == sorted(["", *map(str, u.values())])
    assert 'src="/static/unit_tree.js"' in html
    # each control: one option, the current parent, selected
    sel = _move_select(html, u["甲一科"])
    assert re.findall(r"<option[^>]*>", sel) == [f'<option value="{u["甲局"]}" selected>']
    assert "甲局</option>" in sel and f'data-self="{u["甲一科"]}"' in sel
    assert re.findall(r"<option[^>]*>", _move_select(html, u["某区"])) == ['<option value="" selected>']
    # a move still posts to the unit's own address
    assert f'action="/units/{u["乙局"]}/move"' in html and f'href="/officers?unit={u["乙局"]}"' in html


def test_scoped_tree_top_offers_the_first_choice_not_its_hidden_parent(app, client, tree):  # noqa: F811
    u = tree["units"]
    scoped_login(client, app, "jia", "admin", "甲局")
    html = client.get("/units/tree").get_data(as_text=True)
    # 甲局's parent (某区) is out of sight: as before, the control offers the first unit it may go under
    sel = _move_select(html, u["甲局"])
    assert "某区" not in sel and re.findall(r"<option[^>]*>", sel) == [f'<option value="{u["甲一科"]}">']


def test_tree_counts_are_recomputed_after_a_write(app, client, tree):  # noqa: F811
    """Kept per process until the next audited write: a new card shows at once."""
    app.config["TREND_CACHE_SECONDS"] = 300
    try:
        scoped_login(client, app, "top", "admin", None)
        html = client.get("/units/tree").get_data(as_text=True)
        assert re.search(r"乙局</span>.*?人员 1</span>.*?持证 1</span>", html, re.S)
        assert re.search(r"丙局</span>.*?人员 1</span>.*?持证 1</span>", html, re.S)
        # 李丙's card is suspended through the certificate page (an audited write)
        cert_id, _number = tree["certs"]["李丙"]
        url = f"/certificates/{cert_id}/actions/suspend"
        with app.app_context():
            from app.models.certificates import Certificate

            version = _db.session.get(Certificate, cert_id).version
        resp = client.post(url, data={"csrf_token": token(client, url), "effective_on": TODAY.isoformat(),
                                      "reason": "核查", "document_no": "", "version": str(version)},
                           follow_redirects=True)
        assert resp.status_code == 200
        with app.app_context():
            assert _db.session.get(Certificate, cert_id).status == "suspended"
        html = client.get("/units/tree").get_data(as_text=True)
        assert re.search(r"丙局</span>.*?人员 1</span>.*?持证 0</span>", html, re.S)
    finally:
        app.config.pop("TREND_CACHE_SECONDS", None)
        _cache.clear()


def _card_names(html: str) -> list[str]:
    return re.findall(r'data-unit="([^"]+)">', html)


def test_forecast_cards_come_a_page_at_a_time(app, client, data, set_today, monkeypatch):  # noqa: F811
    set_today(FORECAST_DAY)
    login(client, app, "viewer")
    everything = _card_names(client.get("/forecast").get_data(as_text=True))
    assert everything == ["丙社区", "甲科", "戊队", "乙科"]  # below two first, soonest first
    monkeypatch.setattr(report_routes, "FORECAST_PER_PAGE", 3)
    first = client.get("/forecast").get_data(as_text=True)
    second = client.get("/forecast?page=2").get_data(as_text=True)
    assert _card_names(first) == everything[:3] and _card_names(second) == everything[3:]
    assert "共 4 个单位，第 1 / 2 页" in first and "下一页" in first
    # the summary counts every unit on every page
    assert "4</strong> 个单位将在 12 个月内不足两名持证人员" in second
    assert _card_names(client.get("/forecast?page=99").get_data(as_text=True)) == everything[3:]
    assert _card_names(client.get("/forecast?page=x").get_data(as_text=True)) == everything[:3]
    with app.app_context():
        assert len(forecast.compute(FORECAST_DAY).units) == 4


def test_online_exam_lists_recorded_candidates_a_page_at_a_time(app, runner, client, tmp_path, monkeypatch):
    from tests.online_data import exam_with_bank

    exam_id, cands = exam_with_bank(app, runner, tmp_path, 3, open_now=False)
    login(client, app, "admin")
    for cand, score in zip(cands, ("7.5", "4", "9"), strict=True):
        rid, *_rest = result_of(app, exam_id, cand["id_number"])
        enter_score(client, exam_id, rid, score)
    with app.app_context():
        exam = _db.session.get(online_svc.Exam, exam_id)
        full = online_svc.recorded_candidates(exam)
        pages = [online_svc.recorded_page(exam, online_svc.online_of(exam), n, 2) for n in (1, 2, 3)]
    assert [c["name"] for c in full] == sorted(c["name"] for c in full) and len(full) == 3
    assert [r for rows, _t, _s in pages[:2] for r in rows] == full  # same rows, same order
    assert [(t, s) for _rows, t, s in pages] == [(3, 1), (3, 2), (3, 2)]  # past the end: the last page
    monkeypatch.setattr(online_routes, "RECORDED_PER_PAGE", 2)
    url = f"/exams/{exam_id}/online"
    first = client.get(url).get_data(as_text=True)
    second = client.get(f"{url}?page=2").get_data(as_text=True)
    names = [c["name"] for c in full]
    assert re.findall(r'<tr data-name="([^"]+)">', first) == names[:2]
    assert re.findall(r'<tr data-name="([^"]+)">', second) == names[2:]
    assert "共 3 人" in first and "下一页" in first


@pytest.mark.parametrize("user", ["top", "jia"])
def test_officer_page_cases_are_the_users_own(app, client, tree, user):  # noqa: F811
    """The officer page's cases: those naming the officer's card that the user may see (a case
    handled by another branch's unit is not shown to a branch user), judged on every card."""
    from app.cases.services import CaseFilters, case_rows
    from app.models.cases import PenaltyCase

    o, c, u = tree["officers"], tree["certs"], tree["units"]
    scoped_login(client, app, "top_admin", "admin", None)
    for no, unit, numbers in (("罚〔2026〕1号", "甲局", [c["赵甲"][1]]),
                              ("罚〔2026〕2号", "乙局", [c["赵甲"][1], c["孙乙"][1]])):
        url = "/cases/new"
        resp = client.post(url, data={"csrf_token": token(client, url), "case_no": no, "title": "案件",
                                      "opened_on": (TODAY - timedelta(days=10)).isoformat(),
                                      "decided_on": (TODAY - timedelta(days=5)).isoformat(),
                                      "unit": unit, "officer_names": "赵甲", "outcome": "罚款",
                                      **{f"numbers-{i}": n for i, n in enumerate(numbers)}},
                           follow_redirects=True)
        assert f"案件“{no}”已保存" in resp.get_data(as_text=True)
    with app.app_context():
        assert _db.session.scalar(_db.select(_db.func.count()).select_from(PenaltyCase)) == 2
    if user == "jia":
        client = scoped_login(app.test_client(), app, "jia_admin", "admin", "甲局")
    html = client.get(f"/officers/{o['赵甲']}").get_data(as_text=True)
    assert "罚〔2026〕1号" in html
    assert ("罚〔2026〕2号" in html) == (user == "top")
    with app.app_context():
        expected = {r["case_no"] for r in case_rows(CaseFilters(officer_id=o["赵甲"]))}
    assert expected == {"罚〔2026〕1号", "罚〔2026〕2号"}
    assert u  # the tree's units exist for both users
