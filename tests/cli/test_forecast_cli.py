"""`flask report forecast`: holders by unit over the coming months, at the edges of every rule."""

from __future__ import annotations

import json
from datetime import date

import pytest
from openpyxl import load_workbook

from app.extensions import db as _db
from app.settings import services as settings
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory, id_number

TODAY = date(2026, 6, 15)  # horizon with the default 3,6,12: up to 2027-06-15 inclusive


def officer(unit, name, born=None, gender="M", **kw):
    return OfficerFactory(name=name, unit=unit, id_number=id_number(born, gender), **kw)


def card(o, number, issued=date(2024, 1, 1), expires=date(2031, 12, 31), **kw):
    return CertificateFactory(officer=o, number=number, issued_on=issued, expires_on=expires, **kw)


@pytest.fixture
def data(app):
    with app.app_context():
        a = UnitFactory(name="甲科", sort_order=1)
        card(officer(a, "张甲"), "A-1", expires=date(2026, 8, 14))                 # lost 8-15
        card(officer(a, "李乙", born=date(1966, 3, 10)), "B-1")                    # 60y4m: 2026-07-10
        card(officer(a, "王丙"), "C-1")
        card(officer(a, "赵丁"), "D-1", issued=date(2026, 9, 1))                   # holder from 9-1
        card(officer(a, "钱戊"), "E-1", status="suspended")
        card(officer(a, "孙己", establishment="contract"), "F-1")                 # ineligible
        card(officer(a, "周庚", on_enforcement_post=False), "G-1")                 # off post
        card(officer(a, "吴辛", employment_status="retired"), "H-1")               # inactive
        b = UnitFactory(name="乙科", sort_order=2)
        card(officer(b, "郑壬", born=date(1971, 2, 28), gender="F"), "I-1",
             expires=date(2026, 6, 27))                                          # tie on 6-28: retires
        card(officer(b, "冯癸"), "J-1", expires=date(2027, 6, 14))               # lost on the last day
        card(officer(b, "陈子"), "K-1", expires=date(2027, 6, 15))               # valid to the last day
        card(officer(b, "褚丑", born=date(1976, 5, 20), gender="F", retirement_basis=50), "N-1")
        c = UnitFactory(name="丙社区", sort_order=3)
        officer(c, "卫寅")                                                         # no card
        d = UnitFactory(name="丁队", sort_order=4)
        card(officer(d, "蒋卯", on_enforcement_post=False), "L-0")                # unit not listed
        e = UnitFactory(name="戊队", sort_order=5)
        m = officer(e, "沈辰")
        card(m, "M-1", issued=date(2021, 11, 1), expires=date(2026, 10, 31))
        card(m, "M-2", issued=date(2026, 11, 1))                                   # renewed the next day
        n = officer(e, "韩巳")
        card(n, "P-1", issued=date(2021, 11, 1), expires=date(2026, 10, 31))
        card(n, "P-2", issued=date(2026, 11, 10))                                  # a gap of nine days
        _db.session.commit()


def run(runner, *args):
    result = runner.invoke(args=["report", "forecast", "--today", TODAY.isoformat(), *args])
    assert result.exit_code == 0, result.output
    return result


def loss(name, reason, on, number):
    return {"name": name, "reason": reason, "on": on, "certificate_number": number}


def test_forecast_json_is_exactly_the_expected(runner, data):
    out = json.loads(run(runner, "--format", "json").output)
    assert out == {"today": "2026-06-15", "units": [
        {"unit": "甲科", "now": 3, "months": {"3": 2, "6": 2, "12": 2}, "below_two_on": "2026-08-15",
         "losses": [loss("李乙", "retires", "2026-07-10", "B-1"), loss("张甲", "expires", "2026-08-15", "A-1")]},
        {"unit": "乙科", "now": 4, "months": {"3": 3, "6": 3, "12": 1}, "below_two_on": "2027-06-15",
         "losses": [loss("郑壬", "retires", "2026-06-28", "I-1"), loss("褚丑", "retires", "2027-02-20", "N-1"),
                    loss("冯癸", "expires", "2027-06-15", "J-1")]},
        {"unit": "丙社区", "now": 0, "months": {"3": 0, "6": 0, "12": 0}, "below_two_on": "2026-06-15",
         "losses": []},
        {"unit": "戊队", "now": 2, "months": {"3": 2, "6": 2, "12": 2}, "below_two_on": "2026-11-01",
         "losses": [loss("韩巳", "expires", "2026-11-01", "P-1")]},
    ]}


def test_unit_filter_months_and_month_end(runner, data):
    out = json.loads(run(runner, "--unit", "乙科", "--months", "1,12", "--format", "json").output)
    assert [u["unit"] for u in out["units"]] == ["乙科"]
    assert out["units"][0]["months"] == {"1": 3, "12": 1}
    # from 31 August: six months on is 28 February (the month's last day)
    out = json.loads(run(runner, "--today", "2026-08-31", "--months", "6", "--unit", "乙科",
                         "--format", "json").output)
    assert out["units"][0]["months"] == {"6": 2}  # 冯癸, 陈子; 褚丑 retired 2027-02-20
    assert out["units"][0]["losses"] == [loss("褚丑", "retires", "2027-02-20", "N-1")]


def test_eligible_establishments_setting(runner, data, app):
    with app.app_context():
        settings.set_value("eligible_establishments", "civil_servant,public_institution,contract")
        _db.session.commit()
    out = json.loads(run(runner, "--unit", "甲科", "--format", "json").output)
    assert out["units"][0]["now"] == 4  # 孙己 (合同制) counts once the setting allows it


def test_future_issue_is_not_a_loss_and_suspended_never_counts(runner, data):
    out = json.loads(run(runner, "--today", "2026-09-01", "--unit", "甲科", "--format", "json").output)
    unit = out["units"][0]
    assert unit["now"] == 2  # 王丙 and 赵丁 (issued today); 钱戊's suspended card never counts
    assert unit["losses"] == []


def test_bad_input_is_refused_in_chinese(runner, data):
    result = runner.invoke(args=["report", "forecast", "--months", "3,x"])
    assert result.exit_code == 2 and "月数“x”" in result.output
    result = runner.invoke(args=["report", "forecast", "--unit", "不存在的科"])
    assert result.exit_code == 2 and "没有名为“不存在的科”的单位" in result.output
    result = runner.invoke(args=["report", "forecast", "--format", "xlsx"])
    assert result.exit_code == 2 and "--out" in result.output


def test_table_and_xlsx(runner, data, tmp_path):
    text = run(runner).output
    assert "甲科" in text and "李乙（B-1）2026年7月10日起退休" in text
    target = tmp_path / "f.xlsx"
    run(runner, "--format", "xlsx", "--out", str(target))
    ws = load_workbook(target).active
    rows = list(ws.iter_rows(values_only=True))
    header = rows[1]
    assert header[:5] == ("单位", "当前持证", "3个月后", "6个月后", "12个月后")
    assert rows[2][0] == "甲科" and rows[2][1] == 3
