"""Defects as an administrator meets them: lost grid entries, half-done enrolment,
untruthful reminder badges, unchecked review passes, small wrong words."""

from __future__ import annotations

import re
from datetime import date, timedelta

from app.extensions import db as _db
from app.models.exams import Exam, ExamResult
from app.models.training import Attendance, TrainingSession
from tests.conftest import login, token
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory


def _row(html: str, name: str) -> str:
    m = re.search(rf'<tr data-officer="{name}"[^>]*>(.*?)</tr>', html, re.S)
    assert m, f"no row for {name}"
    return m.group(1)


def _session_with(app, names, hours=6):
    with app.app_context():
        unit = UnitFactory(name="城市管理科")
        s = TrainingSession(title="执法培训", held_on=date(2026, 3, 1), hours=hours, category="lecture")
        _db.session.add(s)
        ids = {}
        for n in names:
            o = OfficerFactory(name=n, unit=unit)
            a = Attendance(session=s, officer_id=o.id, status="registered", credited_hours=0)
            _db.session.add(a)
            _db.session.flush()
            ids[n] = a.id
        _db.session.commit()
        return s.id, ids


# ---------------------------------------------------------------- 3. grids keep what was typed

def test_attendance_grid_keeps_every_entry_and_marks_the_bad_cell(app, client):
    login(client, app, "clerk")
    sid, ids = _session_with(app, ["张三", "李四", "王五"])
    resp = client.post(f"/training/{sid}/attendance", data={
        "csrf_token": token(client), f"status-{ids['张三']}": "attended", f"hours-{ids['张三']}": "5",
        f"status-{ids['李四']}": "attended", f"hours-{ids['李四']}": "99",
        f"status-{ids['王五']}": "excused", f"hours-{ids['王五']}": ""}, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "出勤未保存" in html
    zhang, li, wang = _row(html, "张三"), _row(html, "李四"), _row(html, "王五")
    # every entry is still there, as typed
    assert re.search(r'value="attended" checked', zhang) and 'value="5"' in zhang
    assert re.search(r'value="attended" checked', li) and 'value="99"' in li
    assert re.search(r'value="excused" checked', wang)
    # the bad cell is marked and says what to fix
    assert re.search(r'name="hours-\d+"[^>]*is-invalid|is-invalid[^>]*name="hours-\d+"', li)
    assert "认定学时应在0到6之间" in li
    assert "is-invalid" not in zhang
    with app.app_context():  # nothing saved
        assert _db.session.get(Attendance, ids["张三"]).status == "registered"


def test_score_grid_keeps_scores_and_absent_ticks(app, client):
    login(client, app, "clerk")
    with app.app_context():
        e = Exam(title="资格考试", kind="qualification", held_on=date(2026, 5, 1), max_score=100, pass_score=60)
        _db.session.add(e)
        ids = {}
        for n in ("甲", "乙", "丙"):
            o = OfficerFactory(name=n)
            r = ExamResult(exam=e, officer_id=o.id)
            _db.session.add(r)
            _db.session.flush()
            ids[n] = r.id
        _db.session.commit()
        eid = e.id
    html = client.post(f"/exams/{eid}/results", data={
        "csrf_token": token(client), f"score-{ids['甲']}": "88", f"score-{ids['乙']}": "七十",
        f"score-{ids['丙']}": "", f"absent-{ids['丙']}": "1"}, follow_redirects=True).get_data(as_text=True)
    assert "成绩未保存" in html
    assert 'value="88"' in _row(html, "甲")
    assert 'value="七十"' in _row(html, "乙") and "is-invalid" in _row(html, "乙")
    assert "成绩“七十”不是数字" in _row(html, "乙")
    assert re.search(r'name="absent-\d+" value="1" checked', _row(html, "丙"))


def test_refused_form_save_keeps_input_and_puts_message_by_the_field(app, client):
    login(client, app, "clerk")
    with app.app_context():
        _db.session.add(TrainingSession(title="重复培训", held_on=date(2026, 3, 1), hours=2, category="lecture"))
        _db.session.commit()
    html = client.post("/training/new", data={
        "csrf_token": token(client, "/training/new"), "title": "重复培训", "category": "lecture",
        "held_on": "2026-03-01", "hours": "3", "location": "五楼", "organiser": "", "lecturer": "",
        "notes": ""}).get_data(as_text=True)
    assert 'value="五楼"' in html
    title_block = re.search(r'name="title".*?(?=<div class="mb-3)', html, re.S).group(0)
    assert "已有名为“重复培训”的培训" in title_block
    # units: a duplicate name is shown under the name field
    with app.app_context():
        UnitFactory(name="一科")
        _db.session.commit()
    html = client.post("/units/new", data={"csrf_token": token(client, "/units/new"), "name": "一科",
                                           "kind": "department", "parent_id": "", "sort_order": "3"}
                       ).get_data(as_text=True)
    name_block = re.search(r'name="name".*?(?=<div class="mb-3)', html, re.S).group(0)
    assert "单位“一科”已存在" in name_block
    assert 'value="3"' in html
    # officers: a duplicate ID number is shown under the ID number, the rest kept as typed
    with app.app_context():
        taken = OfficerFactory(name="已登记").id_number
        unit_id = UnitFactory(name="二科").id
        _db.session.commit()
    html = client.post("/officers/new", data={
        "csrf_token": token(client, "/officers/new"), "name": "新人", "id_number": taken, "unit_id": str(unit_id),
        "position": "科员", "establishment": "civil_servant", "education": "bachelor", "on_enforcement_post": "y",
        "employment_status": "active", "status_changed_on": "", "post_since": "", "retirement_basis": "",
        "phone": "13911112222", "employee_no": "", "notes": ""}).get_data(as_text=True)
    id_block = re.search(r'name="id_number".*?(?=<div class="mb-3)', html, re.S).group(0)
    assert "已登记给“已登记”" in id_block
    assert 'value="13911112222"' in html and 'value="新人"' in html


# ---------------------------------------------------------------- 4. enrolment by hand

def test_manual_enrolment_adds_the_known_and_keeps_the_unknown(app, client):
    login(client, app, "clerk")
    sid, _ids = _session_with(app, [])
    with app.app_context():
        OfficerFactory(name="张三")
        OfficerFactory(name="李四")
        _db.session.commit()
    html = client.post(f"/training/{sid}/enrol", data={"csrf_token": token(client), "mode": "hand",
                                                       "officers": "张三\n赵六\n李四"},
                       follow_redirects=True).get_data(as_text=True)
    assert "已添加 2 名参训人员" in html
    assert "没有名为“赵六”的人员" in html
    box = re.search(r'<textarea name="officers"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    assert box.strip() == "赵六"
    with app.app_context():
        assert len(_db.session.get(TrainingSession, sid).attendances) == 2


# ---------------------------------------------------------------- 5. reminders badge tells the truth

def test_reminders_badge_without_channel_or_sending(app, client):
    login(client, app, "viewer")
    with app.app_context():
        CertificateFactory(officer=OfficerFactory(name="到期人"), issued_on=date(2021, 1, 1),
                           expires_on=date.today() + timedelta(days=20))
        _db.session.commit()
    html = client.get("/reminders").get_data(as_text=True)
    row = re.search(r'<tr data-certificate="\d+">(.*?)</tr>', html, re.S).group(1)
    assert "已提醒" not in row
    assert "未配置发送渠道" in row


# ---------------------------------------------------------------- 6. reviews: failing a pre-check

def _review_people(app):
    with app.app_context():
        ok = OfficerFactory(name="合格人")
        short = OfficerFactory(name="缺学时")
        c_ok = CertificateFactory(officer=ok, issued_on=date(2020, 1, 1), expires_on=date(2030, 1, 1))
        c_short = CertificateFactory(officer=short, issued_on=date(2020, 1, 1), expires_on=date(2030, 1, 1))
        s = TrainingSession(title="全年培训", held_on=date(2025, 3, 1), hours=60, category="lecture")
        _db.session.add_all([s, Attendance(session=s, officer_id=ok.id, status="attended", credited_hours=60)])
        _db.session.commit()
        return c_ok.id, c_short.id


def test_passing_someone_who_fails_a_check_needs_confirmation_and_reason(app, client):
    login(client, app, "clerk")
    c_ok, c_short = _review_people(app)
    html = client.post("/reviews/2025", data={"csrf_token": token(client), "cert": [c_ok, c_short],
                                              "result": "pass", "reviewed_on": "2026-01-05", "note": ""},
                       follow_redirects=True).get_data(as_text=True)
    assert "缺学时" in html and "未通过预审" in html
    assert 'name="override_confirm"' in html
    with app.app_context():
        from app.models.certificates import AnnualReview

        assert _db.session.scalar(_db.select(_db.func.count()).select_from(AnnualReview)) == 0
    # confirmed without a reason: still refused
    html = client.post("/reviews/2025", data={"csrf_token": token(client), "cert": [c_ok, c_short],
                                              "result": "pass", "reviewed_on": "2026-01-05", "note": "",
                                              "override_confirm": "1", "override_reason": ""},
                       follow_redirects=True).get_data(as_text=True)
    assert "请填写原因" in html
    html = client.post("/reviews/2025", data={"csrf_token": token(client), "cert": [c_ok, c_short],
                                              "result": "pass", "reviewed_on": "2026-01-05", "note": "",
                                              "override_confirm": "1", "override_reason": "学时已在外单位完成"},
                       follow_redirects=True).get_data(as_text=True)
    assert "已将 2 个证件的2025年年审登记为“通过”" in html
    with app.app_context():
        from app.models.certificates import AnnualReview

        r = _db.session.scalar(_db.select(AnnualReview).where(AnnualReview.certificate_id == c_short))
        assert r.result == "pass" and "学时已在外单位完成" in r.note


def test_expired_certificate_fails_the_validity_check(app, client):
    login(client, app, "viewer")
    with app.app_context():
        o = OfficerFactory(name="过期人")
        CertificateFactory(officer=o, issued_on=date(2019, 1, 1), expires_on=date(2025, 6, 30))
        s = TrainingSession(title="全年培训", held_on=date(2025, 3, 1), hours=60, category="lecture")
        _db.session.add_all([s, Attendance(session=s, officer_id=o.id, status="attended", credited_hours=60)])
        _db.session.commit()
    html = client.get("/reviews?year=2025").get_data(as_text=True)
    assert "有效期" in html
    assert "✗" in _row(html, "过期人")


# ---------------------------------------------------------------- 7. settings: checkboxes, not codes

def test_eligible_establishments_are_checkboxes(app, client):
    login(client, app, "admin")
    html = client.get("/settings").get_data(as_text=True)
    assert "civil_servant,public_institution" not in html
    boxes = re.findall(r'<input[^>]*type="checkbox"[^>]*name="eligible_establishments"[^>]*>', html) or \
        re.findall(r'<input[^>]*name="eligible_establishments"[^>]*type="checkbox"[^>]*>', html)
    assert len(boxes) == 6
    assert sum("checked" in b for b in boxes) == 2
    form = {"csrf_token": token(client, "/settings")}
    from app.settings.services import SPECS, get_raw

    with app.app_context():
        for name in SPECS:
            form[name] = get_raw(name)
    form["eligible_establishments"] = ["civil_servant", "contract"]
    html = client.post("/settings", data=form, follow_redirects=True).get_data(as_text=True)
    assert "设置已保存" in html
    with app.app_context():
        from app.settings.services import get

        assert get("eligible_establishments") == ["civil_servant", "contract"]
    form["eligible_establishments"] = []
    html = client.post("/settings", data=form).get_data(as_text=True)
    assert "至少需要一种编制类型" in html


# ---------------------------------------------------------------- 9. dates as people type and read them

def test_date_fields_accept_what_the_imports_accept(app, client):
    login(client, app, "clerk")
    for typed, title in (("2024年3月1日", "培训甲"), ("2024/3/2", "培训乙"), ("2024-03-03", "培训丙")):
        html = client.post("/training/new", data={
            "csrf_token": token(client, "/training/new"), "title": title, "category": "lecture",
            "held_on": typed, "hours": "2", "location": "", "organiser": "", "lecturer": "", "notes": ""},
            follow_redirects=True).get_data(as_text=True)
        assert f"已新增培训“{title}”" in html, typed
    with app.app_context():
        got = {s.title: s.held_on for s in _db.session.scalars(_db.select(TrainingSession))}
    assert got == {"培训甲": date(2024, 3, 1), "培训乙": date(2024, 3, 2), "培训丙": date(2024, 3, 3)}
    # the edit form shows the date as people write it
    with app.app_context():
        sid = _db.session.scalar(_db.select(TrainingSession.id).where(TrainingSession.title == "培训甲"))
    html = client.get(f"/training/{sid}/edit").get_data(as_text=True)
    assert re.search(r'name="held_on"[^>]*value="2024年3月1日"|value="2024年3月1日"[^>]*name="held_on"', html)
    # a wrong date is kept as typed, with the expected format beside it
    html = client.post("/exams/new", data={
        "csrf_token": token(client, "/exams/new"), "title": "考试", "kind": "qualification",
        "held_on": "2024/13/1", "max_score": "", "pass_score": "", "makeup_of_id": "0"}).get_data(as_text=True)
    block = re.search(r'name="held_on".*?(?=<div class="mb-3)', html, re.S).group(0)
    assert 'value="2024/13/1"' in block
    assert "2024年3月1日" in block and "不是有效的日期值" not in html and "请填写有效的考试日期" not in html


def test_error_messages_and_reminder_exports_use_chinese_dates(app, client):
    import io

    from openpyxl import load_workbook

    login(client, app, "clerk")
    with app.app_context():
        _db.session.add(TrainingSession(title="重复", held_on=date(2026, 3, 1), hours=2, category="lecture"))
        _db.session.commit()
    html = client.post("/training/new", data={
        "csrf_token": token(client, "/training/new"), "title": "重复", "category": "lecture",
        "held_on": "2026-03-01", "hours": "2", "location": "", "organiser": "", "lecturer": "",
        "notes": ""}).get_data(as_text=True)
    assert "2026年3月1日 已有名为“重复”的培训" in html
    wb = load_workbook(io.BytesIO(client.get("/reminders.xlsx?today=2026-06-15").data))
    title = wb.active["A1"].value
    assert "2026年6月15日" in title and "2026-06-15" not in title


# ---------------------------------------------------------------- 10. smaller things

def test_action_that_does_not_apply_offers_no_button(app, client):
    login(client, app, "clerk")
    with app.app_context():
        c = CertificateFactory(status="suspended")
        _db.session.commit()
        cid = c.id
    html = client.get(f"/certificates/{cid}/actions/suspend").get_data(as_text=True)
    assert "暂扣后变为" not in html
    assert "确认暂扣" not in html
    assert "本证件当前不能暂扣" in html


def test_replacement_number_is_marked_required(app, client):
    login(client, app, "clerk")
    with app.app_context():
        c = CertificateFactory()
        _db.session.commit()
        cid = c.id
    html = client.get(f"/certificates/{cid}/actions/replace").get_data(as_text=True)
    assert re.search(r'for="new_number">新证件编号</label><span class="text-danger">\*</span>', html)


def test_users_page_says_locked_while_locked_and_new_form_has_no_keep_hint(app, client):
    from app.models.auth import User
    from app.models_base import utcnow
    from tests.conftest import make_user

    login(client, app, "admin")
    make_user(app, "locked_one", "clerk")
    make_user(app, "was_locked", "clerk")
    with app.app_context():
        now = utcnow()
        locked_one = _db.session.scalar(_db.select(User).where(User.username == "locked_one"))
        locked_one.locked_until = now + timedelta(minutes=30)
        was_locked = _db.session.scalar(_db.select(User).where(User.username == "was_locked"))
        was_locked.locked_until = now - timedelta(hours=2)
        _db.session.commit()
    html = client.get("/users").get_data(as_text=True)
    locked = re.search(r"<td>locked_one</td>(.*?)</tr>", html, re.S).group(1)
    was = re.search(r"<td>was_locked</td>(.*?)</tr>", html, re.S).group(1)
    assert "曾锁定至" not in locked and "已锁定" in locked
    assert "曾锁定至" in was
    form = client.get("/users/new").get_data(as_text=True)
    assert "留空则不修改" not in form and "留空则自动生成" in form


def test_exam_form_leaves_scores_blank_for_the_defaults(app, client):
    login(client, app, "clerk")
    html = client.get("/exams/new").get_data(as_text=True)
    for name in ("max_score", "pass_score"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
        assert 'value=""' in tag or "value=" not in tag, tag
    html = client.post("/exams/new", data={"csrf_token": token(client, "/exams/new"), "title": "默认分数考试",
                                           "kind": "qualification", "held_on": "2026-05-01", "max_score": "",
                                           "pass_score": "", "makeup_of_id": "0"},
                       follow_redirects=True).get_data(as_text=True)
    assert "满分 100 · 合格分数 60" in html


def test_scores_refused_for_an_exam_in_the_future(app, client):
    login(client, app, "clerk")
    with app.app_context():
        e = Exam(title="将来的考试", kind="qualification", held_on=date.today() + timedelta(days=10),
                 max_score=100, pass_score=60)
        _db.session.add(e)
        o = OfficerFactory(name="考生")
        r = ExamResult(exam=e, officer_id=o.id)
        _db.session.add(r)
        _db.session.commit()
        eid, rid = e.id, r.id
    html = client.post(f"/exams/{eid}/results", data={"csrf_token": token(client), f"score-{rid}": "80"},
                       follow_redirects=True).get_data(as_text=True)
    assert "成绩未保存" in html and "还没到" in html
    assert 'value="80"' in _row(html, "考生")
    with app.app_context():
        assert _db.session.get(ExamResult, rid).score is None


def test_favicon_is_served_and_linked(app, client):
    resp = client.get("/favicon.ico")
    assert resp.status_code == 200 and resp.data[:4] == b"\x00\x00\x01\x00"  # an .ico file
    login(client, app, "viewer")
    html = client.get("/").get_data(as_text=True)
    href = re.search(r'<link rel="icon" href="([^"]+)"', html).group(1)
    assert client.get(href).status_code == 200
