"""Training, exams and reviews through the web: bulk attendance, score grid, ledger, statistics."""

from __future__ import annotations

import re
from datetime import date

from app.extensions import db as _db
from app.models.exams import Exam, ExamResult
from app.models.training import Attendance, TrainingSession
from tests.conftest import login, token
from tests.factories import OfficerFactory, UnitFactory


def make_people(app):
    with app.app_context():
        unit = UnitFactory(name="城市管理科")
        other = UnitFactory(name="一社区")
        OfficerFactory(name="张三", unit=unit)
        OfficerFactory(name="李四", unit=unit)
        OfficerFactory(name="退休员", unit=unit, employment_status="retired")
        c = OfficerFactory(name="王五", unit=other)
        OfficerFactory(name="离岗员", unit=other, on_enforcement_post=False)
        _db.session.commit()
        return unit.id, other.id, c.id_number


def test_create_session_enrol_and_mark_attendance(app, client):
    login(client, app, "clerk")
    unit_id, _other, wang_id = make_people(app)
    year = date.today().year
    resp = client.post("/training/new", data={
        "csrf_token": token(client, "/training/new"), "title": "行政处罚法讲座", "category": "lecture",
        "held_on": f"{year}-01-10", "hours": "4", "location": "三楼会议室", "organiser": "", "lecturer": "",
        "notes": ""}, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "已新增培训“行政处罚法讲座”" in html
    sid = int(re.search(r"/training/(\d+)/enrol", html).group(1))
    # by unit: active officers of the unit only
    html = client.post(f"/training/{sid}/enrol", data={"csrf_token": token(client), "mode": "unit",
                                                       "unit_id": unit_id},
                       follow_redirects=True).get_data(as_text=True)
    assert "已添加 2 名参训人员" in html and "退休员" not in html
    # by hand: the known one is added, the unknown name is named and left in the box
    html = client.post(f"/training/{sid}/enrol", data={"csrf_token": token(client), "mode": "hand",
                                                       "officers": f"{wang_id}\n赵六"},
                       follow_redirects=True).get_data(as_text=True)
    assert "已添加 1 名参训人员" in html and "没有名为“赵六”的人员" in html
    # all active officers on an enforcement post: the 3 already there are counted
    html = client.post(f"/training/{sid}/enrol", data={"csrf_token": token(client), "mode": "on_post"},
                       follow_redirects=True).get_data(as_text=True)
    assert "已添加 0 名参训人员（3 人已在名单中）" in html
    with app.app_context():
        ids = {a.officer.name: a.id for a in _db.session.get(TrainingSession, sid).attendances}
    html = client.post(f"/training/{sid}/attendance", data={
        "csrf_token": token(client), f"status-{ids['张三']}": "attended", f"hours-{ids['张三']}": "",
        f"status-{ids['李四']}": "attended", f"hours-{ids['李四']}": "2.5",
        f"status-{ids['王五']}": "excused", f"hours-{ids['王五']}": "4"}, follow_redirects=True).get_data(as_text=True)
    assert "出勤已保存（3 人有变动）" in html
    assert re.search(r'id="attended-count">2<', html)
    with app.app_context():
        got = {a.officer.name: (a.status, a.credited_hours) for a in _db.session.get(TrainingSession, sid).attendances}
    assert got == {"张三": ("attended", 4.0), "李四": ("attended", 2.5), "王五": ("excused", 0.0)}
    # too many hours: refused with the officer's name, nothing changed
    html = client.post(f"/training/{sid}/attendance", data={
        "csrf_token": token(client), f"status-{ids['张三']}": "absent",
        f"status-{ids['李四']}": "attended", f"hours-{ids['李四']}": "9"}, follow_redirects=True).get_data(as_text=True)
    assert "出勤未保存：李四：认定学时应在0到4之间" in html
    with app.app_context():
        assert _db.session.get(Attendance, ids["张三"]).status == "attended"
    # the ledger shows the hours; the list filters by year and category
    ledger = client.get(f"/training/ledger?year={year}").get_data(as_text=True)
    row = re.search(r'data-officer="李四">(.*?)</tr>', ledger, re.S).group(1)
    assert re.search(r'class="text-end hours">2.5<', row)
    assert "行政处罚法讲座" in client.get(f"/training?year={year}&category=lecture").get_data(as_text=True)
    assert "行政处罚法讲座" not in client.get(f"/training?year={year}&category=political").get_data(as_text=True)
    assert "没有符合条件的培训" in client.get("/training?q=不存在").get_data(as_text=True)


def test_bad_session_input_gets_a_message(app, client):
    login(client, app, "clerk")
    html = client.post("/training/new", data={"csrf_token": token(client, "/training/new"), "title": "x",
                                              "category": "lecture", "held_on": "2026-13-01", "hours": "0"}
                       ).get_data(as_text=True)
    assert "日期“2026-13-01”不存在，应写成 2024年3月1日" in html and "学时应在0.5到1000之间" in html
    assert client.get("/training/999999").status_code == 404
    assert client.get("/training?year=abc&page=-3").status_code == 200
    assert client.get("/training/ledger?year=99999&unit=x").status_code == 200


def test_viewer_cannot_change_attendance(app, client):
    login(client, app, "viewer")
    with app.app_context():
        s = TrainingSession(title="t", held_on=date(2026, 1, 1), hours=2, category="lecture")
        _db.session.add(s)
        _db.session.commit()
        sid = s.id
    assert client.post(f"/training/{sid}/enrol",
                       data={"csrf_token": token(client), "mode": "on_post"}).status_code == 403


def test_score_grid_and_makeup(app, client):
    login(client, app, "clerk")
    make_people(app)
    html = client.post("/exams/new", data={"csrf_token": token(client, "/exams/new"), "title": "执法资格考试",
                                           "kind": "qualification", "held_on": "2025-05-01", "max_score": "100",
                                           "pass_score": "60", "makeup_of_id": "0"},
                       follow_redirects=True).get_data(as_text=True)
    assert "已新增考试“执法资格考试”" in html
    eid = int(re.search(r"/exams/(\d+)/candidates", html).group(1))
    html = client.post(f"/exams/{eid}/candidates", data={"csrf_token": token(client), "mode": "on_post"},
                       follow_redirects=True).get_data(as_text=True)
    assert "已添加 3 名考生" in html
    with app.app_context():
        ids = {r.officer.name: r.id for r in _db.session.get(Exam, eid).results}
    html = client.post(f"/exams/{eid}/results", data={
        "csrf_token": token(client), f"score-{ids['张三']}": "88", f"score-{ids['李四']}": "101",
        f"score-{ids['王五']}": ""}, follow_redirects=True).get_data(as_text=True)
    assert "成绩未保存：李四：成绩应在0到满分100之间" in html
    html = client.post(f"/exams/{eid}/results", data={
        "csrf_token": token(client), f"score-{ids['张三']}": "88", f"score-{ids['李四']}": "59.5",
        f"score-{ids['王五']}": "", f"absent-{ids['王五']}": "1"}, follow_redirects=True).get_data(as_text=True)
    assert "成绩已保存（3 人有变动）" in html
    assert re.search(r'id="passed-count">1<', html)
    assert re.search(r'data-officer="李四">.*?不合格', html, re.S)
    assert re.search(r'data-officer="王五">.*?缺考</span>', html, re.S)
    # a make-up exam lists those who did not pass the original
    html = client.post("/exams/new", data={"csrf_token": token(client, "/exams/new"), "title": "执法资格考试（补考）",
                                           "kind": "annual", "held_on": "2025-06-01", "max_score": "100",
                                           "pass_score": "60", "makeup_of_id": str(eid)},
                       follow_redirects=True).get_data(as_text=True)
    assert "已列入原考试未通过的 2 人" in html
    with app.app_context():
        m = _db.session.scalar(_db.select(Exam).where(Exam.makeup_of_id == eid))
        assert m.kind == "qualification"
        assert {r.officer.name for r in m.results} == {"李四", "王五"}
    html = client.post(f"/exams/{m.id}/candidates", data={"csrf_token": token(client), "mode": "hand",
                                                          "officers": "张三"},
                       follow_redirects=True).get_data(as_text=True)
    assert "张三 已通过原考试“执法资格考试”，不需要补考" in html


def test_reviews_page_records_many(app, client):
    from tests.factories import CertificateFactory

    login(client, app, "clerk")
    with app.app_context():
        a, b = OfficerFactory(name="甲"), OfficerFactory(name="乙")
        ca = CertificateFactory(officer=a, issued_on=date(2020, 1, 1), expires_on=date(2030, 1, 1))
        cb = CertificateFactory(officer=b, issued_on=date(2020, 1, 1), expires_on=date(2030, 1, 1))
        _db.session.commit()
        ids = (ca.id, cb.id)
    html = client.get("/reviews?year=2025").get_data(as_text=True)
    assert 'data-officer="甲"' in html and 'data-officer="乙"' in html
    html = client.post("/reviews/2025", data={"csrf_token": token(client), "cert": list(ids), "result": "fail",
                                              "reviewed_on": "2026-01-05", "note": ""},
                       follow_redirects=True).get_data(as_text=True)
    assert "年审结果未保存：年审不通过时请填写原因" in html
    html = client.post("/reviews/2025", data={"csrf_token": token(client), "cert": list(ids), "result": "pass",
                                              "reviewed_on": "2026-01-05", "note": "", "override_confirm": "1",
                                              "override_reason": "学时另行认定"},
                       follow_redirects=True).get_data(as_text=True)
    assert "已将 2 个证件的2025年年审登记为“通过”" in html
    assert html.count("<td class=\"result\">通过") == 2
    html = client.post("/reviews/2025", data={"csrf_token": token(client), "result": "pass",
                                              "reviewed_on": "bad"}, follow_redirects=True).get_data(as_text=True)
    assert "请先勾选要登记的证件" in html


def test_annual_statistics_page(app, client):
    login(client, app, "viewer")
    with app.app_context():
        o = OfficerFactory()
        s = TrainingSession(title="旁听庭审", held_on=date(2024, 4, 1), hours=3, category="court_observation")
        e = Exam(title="年度考试", kind="annual", held_on=date(2024, 5, 1), max_score=100, pass_score=60)
        _db.session.add_all([s, e, Attendance(session=s, officer_id=o.id, status="attended", credited_hours=3),
                             ExamResult(exam=e, officer_id=o.id, score=70)])
        _db.session.commit()
    html = client.get("/training/annual?year=2024").get_data(as_text=True)
    assert re.search(r"<th>培训次数</th><td>1</td>", html)
    assert "旁听庭审" in html
    assert re.search(r"<th>合格率</th><td>100.00%</td>", html)
