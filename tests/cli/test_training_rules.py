"""Training requirements as rules (docs/domain.md, 年度学时): `flask training rule set|show`, the
content groups, online hours over the cap, and what `flask report training` and the flags say."""

from __future__ import annotations

import json
from datetime import date

from app.extensions import db as _db
from app.models.audit import AuditEvent
from app.models.training import Attendance, TrainingHours, TrainingRule, TrainingSession
from tests.factories import OfficerFactory, UnitFactory


def add_session(title, held_on, hours, category, online=False):
    s = TrainingSession(title=title, held_on=held_on, hours=hours, category=category, online=online)
    _db.session.add(s)
    _db.session.flush()
    return s


def attend(s, officer, credited=None):
    _db.session.add(Attendance(session=s, officer_id=officer.id, status="attended",
                               credited_hours=s.hours if credited is None else credited))
    _db.session.flush()


def build_year(app):
    """2025: 甲 meets everything offline; 乙 has 40 online hours (cap 30) and too little 专门法律知识;
    丙 took the post on 1 July 2025 (pro rata: total and minimums halved, about)."""
    with app.app_context():
        unit = UnitFactory(name="执法一队")
        a = OfficerFactory(name="甲", unit=unit)
        b = OfficerFactory(name="乙", unit=unit)
        c = OfficerFactory(name="丙", unit=unit, post_since=date(2025, 7, 1))
        law = add_session("宪法讲座", date(2025, 3, 1), 20, "lecture")
        spec = add_session("专门法律", date(2025, 4, 1), 24, "specialist_law")
        skill = add_session("离岗培训", date(2025, 5, 1), 16, "off_post")
        on1 = add_session("网课一", date(2025, 2, 1), 12, "general_law", online=True)
        on2 = add_session("网课二", date(2025, 6, 1), 12, "refresher", online=True)
        on3 = add_session("网课三", date(2025, 9, 1), 16, "political", online=True)
        for s in (law, spec, skill):
            attend(s, a)
        # 乙: online 12 (公共) + 12 (专门) + 16 (公共) = 40; cap 30: the last 10 of 网课三 dropped
        for s in (on1, on2, on3):
            attend(s, b)
        attend(skill, b, credited=8)
        # 丙: on the post half the year
        attend(law, c, credited=6)
        attend(spec, c, credited=4)
        _db.session.commit()


def test_rule_set_show_and_report(app, runner, set_today):
    set_today(date(2026, 3, 1))
    build_year(app)
    out = runner.invoke(args=["training", "rule", "set", "2025", "--total", "60", "--min", "公共法律知识=20",
                              "--min", "专门法律知识=20", "--online-max", "30", "--source", "某府办发〔2025〕1号"])
    assert out.exit_code == 0, out.output
    assert "公共法律知识不少于 20" in out.output and "线上学时最多计 30" in out.output
    shown = runner.invoke(args=["training", "rule", "show", "2026"])
    assert shown.exit_code == 0 and "沿用2025年度" in shown.output and "某府办发〔2025〕1号" in shown.output

    rows = {r["name"]: r for r in json.loads(runner.invoke(
        args=["report", "training", "--year", "2025", "--format", "json"]).output)}
    a, b, c = rows["甲"], rows["乙"], rows["丙"]
    assert (a["counted"], a["meets"], a["missing"], a["total_gap"]) == (60, True, [], 0)
    assert a["by_group"] == {"公共法律知识": 20, "专门法律知识": 24, "执法技能": 16}
    # 乙: 40 online credited, 30 counted (网课一 12 + 网课二 12 + 6 of 网课三), plus 8 offline
    assert b["hours"] == 48 and b["counted"] == 38
    assert (b["online_counted"], b["online_dropped"]) == (30, 10)
    assert b["by_group"] == {"公共法律知识": 18, "专门法律知识": 12, "执法技能": 8}
    assert b["missing"] == [{"group": "公共法律知识", "hours": 2}, {"group": "专门法律知识", "hours": 8}]
    assert (b["total_gap"], b["meets"]) == (22, False)
    # 丙: 184 of 365 days — owes 60 × 184/365 = 30.25, each minimum 20 × 184/365 = 10.08
    assert c["required"] == 30.25 and c["counted"] == 10
    assert c["missing"] == [{"group": "公共法律知识", "hours": 4.08}, {"group": "专门法律知识", "hours": 6.08}]
    assert c["total_gap"] == 20.25 and c["meets"] is False

    flags = json.loads(runner.invoke(args=["report", "flags", "--format", "json"]).output)
    # 甲 met 2025; everyone is behind in 2026 (no hours by 1 March): at_risk
    short = {f["name"]: f for f in flags if f["flag"] == "TRAINING_SHORTFALL" and f["reason"] == "shortfall"}
    assert set(short) == {"乙", "丙"}
    assert short["乙"]["reason"] == "shortfall" and short["乙"]["missing"] == b["missing"]
    assert short["乙"]["total_gap"] == 22
    annual = json.loads(runner.invoke(args=["report", "annual", "--year", "2025", "--format", "json"]).output)
    assert annual["officers"]["training_shortfall"] == 2
    with app.app_context():
        assert _db.session.query(AuditEvent).filter_by(entity_type="training_rule").count() == 1
        assert runner.invoke(args=["check", "hours"]).exit_code == 0


def test_a_minimum_alone_fires_the_flag(app, runner, set_today):
    """甲 has 60 hours but none of 执法技能: a minimum for it makes the year short."""
    set_today(date(2026, 3, 1))
    with app.app_context():
        a = OfficerFactory(name="甲")
        attend(add_session("讲座", date(2025, 3, 1), 60, "lecture"), a)
        _db.session.commit()
    flags = json.loads(runner.invoke(args=["report", "flags", "--format", "json"]).output)
    assert not [f for f in flags if f["flag"] == "TRAINING_SHORTFALL" and f["reason"] == "shortfall"]
    assert runner.invoke(args=["training", "rule", "set", "2025", "--total", "60",
                               "--min", "执法技能=8"]).exit_code == 0
    flags = json.loads(runner.invoke(args=["report", "flags", "--format", "json"]).output)
    [f] = [f for f in flags if f["flag"] == "TRAINING_SHORTFALL" and f["reason"] == "shortfall"]
    assert (f["reason"], f["missing"], f["total_gap"]) == ("shortfall", [{"group": "执法技能", "hours": 8}], 0)


def test_no_rule_keeps_the_setting_and_a_later_rule_without_cap_ends_the_cap(app, runner, set_today):
    set_today(date(2027, 3, 1))
    with app.app_context():
        a = OfficerFactory(name="甲")
        attend(add_session("网课", date(2026, 3, 1), 40, "lecture", online=True), a)
        _db.session.commit()
        officer_id = a.id
    rows = json.loads(runner.invoke(args=["report", "training", "--year", "2026", "--format", "json"]).output)
    assert (rows[0]["required"], rows[0]["counted"]) == (60, 40)
    assert runner.invoke(args=["training", "rule", "set", "2025", "--total", "30", "--online-max", "10"]).exit_code == 0
    rows = json.loads(runner.invoke(args=["report", "training", "--year", "2026", "--format", "json"]).output)
    assert (rows[0]["required"], rows[0]["counted"], rows[0]["online_dropped"]) == (30, 10, 30)
    assert runner.invoke(args=["training", "rule", "set", "2026", "--total", "30"]).exit_code == 0
    rows = json.loads(runner.invoke(args=["report", "training", "--year", "2026", "--format", "json"]).output)
    assert (rows[0]["counted"], rows[0]["meets"]) == (40, True)
    with app.app_context():
        assert _db.session.get(TrainingHours, (officer_id, 2026)).counted == 40


def test_rule_set_refuses_bad_input(app, runner):
    bad = [
        (["--total", "abc"], "年度总学时应为数字"),
        (["--total", "60", "--min", "不存在=5"], "未知的内容类别“不存在”"),
        (["--total", "10", "--min", "公共法律知识=20"], "不能超过年度总学时"),
        (["--total", "60", "--online-max", "-1"], "线上学时上限应在 0 到 10000 之间"),
        (["--total", "60", "--closes", "2024-12-31"], "记录截止日期不能早于该年度"),
    ]
    for args, message in bad:
        out = runner.invoke(args=["training", "rule", "set", "2025", *args])
        assert out.exit_code == 1 and message in out.output, (args, out.output)
    with app.app_context():
        assert _db.session.query(TrainingRule).count() == 0
    out = runner.invoke(args=["training", "rule", "set", "2025", "--total", "60", "--min", "公共法律知识"])
    assert out.exit_code == 2 and "内容类别=学时" in out.output


def test_changing_the_groups_setting_recounts(app, runner, set_today):
    set_today(date(2026, 3, 1))
    with app.app_context():
        a = OfficerFactory(name="甲")
        attend(add_session("离岗", date(2025, 3, 1), 60, "off_post"), a)
        _db.session.commit()
    assert runner.invoke(args=["training", "rule", "set", "2025", "--total", "60",
                               "--min", "专门法律知识=10"]).exit_code == 0
    rows = json.loads(runner.invoke(args=["report", "training", "--year", "2025", "--format", "json"]).output)
    assert rows[0]["missing"] == [{"group": "专门法律知识", "hours": 10}]
    value = ("通用法律知识=公共法律知识,法治讲座=公共法律知识,旁听庭审=公共法律知识,政治理论=公共法律知识,"
             "专门法律知识=专门法律知识,法律知识更新=专门法律知识,离岗培训=专门法律知识")
    out = runner.invoke(args=["settings", "set", "training_category_groups", value])
    assert out.exit_code == 0, out.output
    rows = json.loads(runner.invoke(args=["report", "training", "--year", "2025", "--format", "json"]).output)
    assert rows[0]["missing"] == [] and rows[0]["by_group"]["专门法律知识"] == 60
    out = runner.invoke(args=["settings", "set", "training_category_groups", "通用法律知识=公共法律知识"])
    assert out.exit_code == 1 and "以下培训类别未指定内容类别" in out.output
