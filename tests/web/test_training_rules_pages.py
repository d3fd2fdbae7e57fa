"""The year's training rule on the web: the settings page's 年度学时要求 section, 线上 sessions on the
session form, the ledger's and the officer page's parts (公共法律知识 15/20), the import column."""

from __future__ import annotations

import re
from datetime import date

from app.extensions import db as _db
from app.models.training import Attendance, TrainingRule, TrainingSession
from tests.conftest import login, token
from tests.factories import OfficerFactory, UnitFactory


def test_settings_section_sets_and_deletes_a_rule(app, client):
    login(client, app, "admin")
    html = client.post("/settings/training-rules", data={
        "csrf_token": token(client, "/settings"), "year": "2025", "total": "60",
        "minimums": "公共法律知识=20，专门法律知识=20", "online_max": "30", "source": "某府办发〔2025〕1号",
        "closes_on": "2026年1月31日"}, follow_redirects=True).get_data(as_text=True)
    assert "已保存2025年度学时要求" in html
    row = re.search(r'<table[^>]*id="training-rule-list".*?</table>', html, re.S).group(0)
    assert "公共法律知识 20，专门法律知识 20" in row and "2026年1月31日" in row and "某府办发〔2025〕1号" in row
    with app.app_context():
        rule = _db.session.get(TrainingRule, 2025)
        assert (rule.total, rule.minimums, rule.online_max, rule.closes_on) == (
            60, {"公共法律知识": 20, "专门法律知识": 20}, 30, date(2026, 1, 31))
    html = client.post("/settings/training-rules", data={
        "csrf_token": token(client, "/settings"), "year": "2026", "total": "60", "minimums": "学习强国=5"},
        follow_redirects=True).get_data(as_text=True)
    assert "未保存：未知的内容类别“学习强国”" in html
    html = client.post("/settings/training-rules", data={
        "csrf_token": token(client, "/settings"), "year": "2025", "delete": "1"},
        follow_redirects=True).get_data(as_text=True)
    assert "已删除2025年度学时要求" in html and "尚未设定年度学时要求" in html


def test_clerk_cannot_set_a_rule(app, client):
    login(client, app, "clerk")
    assert client.post("/settings/training-rules", data={
        "csrf_token": token(client), "year": "2025", "total": "60"}).status_code == 403


def test_session_form_online_and_the_ledger_parts(app, client, set_today):
    set_today(date(2026, 3, 1))
    with app.app_context():
        unit = UnitFactory(name="执法一队")
        officer = OfficerFactory(name="张三", unit=unit)
        _db.session.commit()
        officer_id = officer.id
    login(client, app, "admin")
    client.post("/settings/training-rules", data={
        "csrf_token": token(client, "/settings"), "year": "2025", "total": "40",
        "minimums": "公共法律知识=20", "online_max": "10"})
    html = client.post("/training/new", data={
        "csrf_token": token(client, "/training/new"), "title": "网课", "category": "lecture", "online": "online",
        "held_on": "2025-03-01", "hours": "30"}, follow_redirects=True).get_data(as_text=True)
    assert "已新增培训“网课”" in html and "（线上）" in html
    with app.app_context():
        s = _db.session.query(TrainingSession).filter_by(title="网课").one()
        assert s.online is True
        _db.session.add(Attendance(session_id=s.id, officer_id=officer_id, status="attended", credited_hours=30))
        _db.session.commit()
        sid = s.id
    edit = client.get(f"/training/{sid}/edit").get_data(as_text=True)
    assert re.search(r'<option selected value="online">线上</option>|<option value="online" selected>', edit)
    html = client.get("/training/ledger?year=2025").get_data(as_text=True)
    row = re.search(r'<tr data-officer="张三">.*?</tr>', html, re.S).group(0)
    assert "计入 10" in row and "公共法律知识 10/20" in row
    page = client.get(f"/officers/{officer_id}").get_data(as_text=True)
    assert "线上超出上限不计 20 学时" in page and "公共法律知识 10/20" in page


def test_import_column_training_mode(app, runner, tmp_path):
    with app.app_context():
        o = OfficerFactory(name="张三")
        _db.session.commit()
        number = o.id_number
    f = tmp_path / "att.csv"
    f.write_text("培训名称,培训日期,培训类别,培训方式,学时,身份证号\n"
                 f"网课,2025-03-01,法治讲座,线上,4,{number}\n"
                 f"讲座,2025-03-02,法治讲座,,4,{number}\n", encoding="utf-8-sig")
    out = runner.invoke(args=["import", "attendance", str(f)])
    assert out.exit_code == 0, out.output
    with app.app_context():
        modes = {s.title: s.online for s in _db.session.query(TrainingSession)}
    assert modes == {"网课": True, "讲座": False}
    bad = tmp_path / "bad.csv"
    bad.write_text("培训名称,培训日期,培训类别,培训方式,学时,身份证号\n"
                   f"新课,2025-04-01,法治讲座,函授,4,{number}\n", encoding="utf-8-sig")
    out = runner.invoke(args=["import", "attendance", str(bad)])
    assert out.exit_code == 1 and "培训方式" in out.output


def closed_year(app):
    """2025's records closed on 31 January 2026; a 2025 session with 张三 on it."""
    with app.app_context():
        from app.rules.training import set_rule

        o = OfficerFactory(name="张三")
        s = TrainingSession(title="讲座", held_on=date(2025, 6, 1), hours=4, category="lecture")
        _db.session.add(s)
        _db.session.flush()
        a = Attendance(session_id=s.id, officer_id=o.id, status="registered", credited_hours=0)
        _db.session.add(a)
        set_rule(2025, 60, {}, None, "", date(2026, 1, 31))
        _db.session.commit()
        return s.id, a.id, o.id_number


def test_closed_year_refuses_attendance_unless_an_admin_gives_a_reason(app, client, set_today):
    from app.models.audit import AuditEvent

    set_today(date(2026, 2, 1))
    sid, att_id, _number = closed_year(app)
    login(client, app, "clerk")
    page = client.get(f"/training/{sid}").get_data(as_text=True)
    assert "2025年度培训记录已于2026年1月31日截止" in page and 'name="late_reason"' not in page
    data = {"csrf_token": token(client, f"/training/{sid}"), f"status-{att_id}": "attended",
            f"hours-{att_id}": "", "late_reason": "补登"}
    html = client.post(f"/training/{sid}/attendance", data=data, follow_redirects=True).get_data(as_text=True)
    assert "出勤未保存：2025年度培训记录已于2026年1月31日截止" in html
    with app.app_context():
        assert _db.session.get(Attendance, att_id).status == "registered"
    client = app.test_client()
    login(client, app, "admin")
    page = client.get(f"/training/{sid}").get_data(as_text=True)
    assert 'name="late_reason"' in page
    data["csrf_token"] = token(client, f"/training/{sid}")
    html = client.post(f"/training/{sid}/attendance", data=data, follow_redirects=True).get_data(as_text=True)
    assert "出勤已保存（1 人有变动）" in html
    with app.app_context():
        assert _db.session.get(Attendance, att_id).status == "attended"
        [ev] = _db.session.query(AuditEvent).filter_by(action="late_entry").all()
        assert ev.summary == "补录已截止的2025年度培训记录：补登"


def test_open_before_the_close_date(app, client, set_today):
    set_today(date(2026, 1, 31))
    sid, att_id, _number = closed_year(app)
    login(client, app, "clerk")
    html = client.post(f"/training/{sid}/attendance", data={
        "csrf_token": token(client, f"/training/{sid}"), f"status-{att_id}": "attended", f"hours-{att_id}": ""},
        follow_redirects=True).get_data(as_text=True)
    assert "出勤已保存（1 人有变动）" in html


def test_closed_year_import_needs_a_late_reason(app, runner, set_today, tmp_path):
    set_today(date(2026, 2, 1))
    _sid, _att, number = closed_year(app)
    f = tmp_path / "att.csv"
    f.write_text(f"培训名称,培训日期,学时,身份证号\n补课,2025-12-01,4,{number}\n", encoding="utf-8-sig")
    out = runner.invoke(args=["import", "attendance", str(f)])
    assert out.exit_code == 1 and "2025年度培训记录已于2026年1月31日截止" in out.output
    out = runner.invoke(args=["import", "attendance", str(f), "--late-reason", "年底漏报"])
    assert out.exit_code == 0, out.output
    with app.app_context():
        from app.models.audit import AuditEvent

        assert _db.session.query(TrainingSession).filter_by(title="补课").count() == 1
        assert _db.session.query(AuditEvent).filter_by(action="late_entry").count() == 1


def _late_entries(app):
    from app.models.audit import AuditEvent

    with app.app_context():
        return [e.summary for e in _db.session.query(AuditEvent).filter_by(action="late_entry")]


def _session_form(client, sid, **changes):
    data = {"csrf_token": token(client, f"/training/{sid}/edit"), "title": "讲座", "category": "lecture",
            "online": "offline", "held_on": "2025-06-01", "hours": "4", "unit_id": "0",
            "location": "", "organiser": "", "lecturer": "", "notes": ""}
    return {**data, **changes}


def test_closed_year_session_edit_needs_an_admins_reason(app, client, set_today):
    set_today(date(2026, 1, 31))  # the last open day: 张三 attended
    sid, att_id, _number = closed_year(app)
    with app.app_context():
        a = _db.session.get(Attendance, att_id)
        a.status, a.credited_hours = "attended", 4
        _db.session.commit()
    set_today(date(2026, 2, 1))
    login(client, app, "clerk")
    page = client.get(f"/training/{sid}/edit").get_data(as_text=True)
    assert "2025年度培训记录已于2026年1月31日截止：修改培训日期" in page and 'name="late_reason"' not in page
    html = client.post(f"/training/{sid}/edit", data=_session_form(client, sid, hours="6", late_reason="补登"),
                       follow_redirects=True).get_data(as_text=True)
    assert "2025年度培训记录已于2026年1月31日截止" in html and "请由系统管理员填写补录理由" in html
    with app.app_context():
        assert _db.session.get(TrainingSession, sid).hours == 4
    # the admin: the field is there; without a reason refused, with one saved and audited
    client = app.test_client()
    login(client, app, "admin")
    page = client.get(f"/training/{sid}/edit").get_data(as_text=True)
    assert 'name="late_reason"' in page
    html = client.post(f"/training/{sid}/edit", data=_session_form(client, sid, hours="6"),
                       follow_redirects=True).get_data(as_text=True)
    assert "请由系统管理员填写补录理由" in html and 'name="late_reason"' in html
    html = client.post(f"/training/{sid}/edit", data=_session_form(client, sid, hours="6", late_reason="学时录错"),
                       follow_redirects=True).get_data(as_text=True)
    assert "培训信息已保存" in html
    with app.app_context():
        assert _db.session.get(TrainingSession, sid).hours == 6
        assert _db.session.get(Attendance, att_id).credited_hours == 6  # followed the session's hours
    assert _late_entries(app) == ["补录已截止的2025年度培训记录：学时录错"]
    # an open year's session is edited without a reason, and its form has no such field
    set_today(date(2026, 1, 31))
    assert 'name="late_reason"' not in client.get(f"/training/{sid}/edit").get_data(as_text=True)


def test_closed_year_removal_and_enrolment_need_an_admins_reason(app, client, set_today):
    set_today(date(2026, 2, 1))
    sid, att_id, number = closed_year(app)
    with app.app_context():
        other = OfficerFactory(name="李四")
        _db.session.commit()
        other_number = other.id_number
    login(client, app, "clerk")
    html = client.post(f"/training/{sid}/remove/{att_id}", data={"csrf_token": token(client, f"/training/{sid}")},
                       follow_redirects=True).get_data(as_text=True)
    assert "2025年度培训记录已于2026年1月31日截止" in html
    with app.app_context():
        assert _db.session.get(Attendance, att_id) is not None
    client = app.test_client()
    login(client, app, "admin")
    page = client.get(f"/training/{sid}").get_data(as_text=True)
    # the admin's 移除 sends the attendance form (with its 补录理由) to the removal
    assert f'formaction="/training/{sid}/remove/{att_id}"' in page and 'id="enrol-late-reason"' in page
    csrf = token(client, f"/training/{sid}")
    html = client.post(f"/training/{sid}/enrol", data={"csrf_token": csrf, "mode": "hand", "officers": other_number},
                       follow_redirects=True).get_data(as_text=True)
    assert "未添加：2025年度培训记录已于2026年1月31日截止" in html and other_number in html
    html = client.post(f"/training/{sid}/enrol", data={"csrf_token": csrf, "mode": "hand", "officers": other_number,
                                                       "late_reason": "漏登"},
                       follow_redirects=True).get_data(as_text=True)
    assert "已添加 1 名参训人员" in html
    html = client.post(f"/training/{sid}/remove/{att_id}", data={"csrf_token": csrf, f"status-{att_id}": "registered",
                                                                 "late_reason": "误登"},
                       follow_redirects=True).get_data(as_text=True)
    assert "已从名单中移除" in html
    with app.app_context():
        assert _db.session.get(Attendance, att_id) is None
        assert _db.session.query(Attendance).filter_by(session_id=sid).count() == 1
    assert sorted(_late_entries(app)) == sorted(["补录已截止的2025年度培训记录：误登",
                                                 "补录已截止的2025年度培训记录：漏登"])
