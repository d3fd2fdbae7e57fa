"""Bulk actions on the officer list — ticked rows or every row matching the filter;
each asks for a confirmation naming the count and writes one audit row per officer."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db as _db
from app.models.audit import AuditEvent
from app.models.exams import Exam, ExamResult
from app.models.officers import Officer
from app.models.training import Attendance, TrainingSession
from tests.conftest import TODAY, login, token
from tests.factories import OfficerFactory, UnitFactory


@pytest.fixture(autouse=True)
def _today(set_today):
    set_today(TODAY)


@pytest.fixture
def staff(app):
    with app.app_context():
        a = UnitFactory(name="城市管理科", sort_order=1)
        b = UnitFactory(name="南坪社区", sort_order=2)
        people = {n: OfficerFactory(name=n, unit=a) for n in ("张三", "李四", "王五")}
        people["赵六"] = OfficerFactory(name="赵六", unit=b)
        s = TrainingSession(title="行政处罚法讲座", category="lecture", held_on=TODAY, hours=4.0)
        e = Exam(title="2026年资格考试", kind="qualification", held_on=TODAY)
        _db.session.add_all([s, e])
        _db.session.commit()
        return {"a": a.id, "b": b.id, "session": s.id, "exam": e.id,
                **{n: o.id for n, o in people.items()}}


def audit_rows(app, text: str) -> list[tuple[int, str]]:
    with app.app_context():
        return list(_db.session.execute(
            select(AuditEvent.entity_id, AuditEvent.summary)
            .where(AuditEvent.entity_type == "officer", AuditEvent.summary.contains(text))
            .order_by(AuditEvent.entity_id)))


def unit_of(app, officer_id: int) -> int:
    with app.app_context():
        return _db.session.get(Officer, officer_id).unit_id


def test_change_unit_of_ticked_rows_after_confirmation(app, client, staff):
    login(client, app, "clerk")
    html = client.get("/officers").get_data(as_text=True)
    assert 'name="ids"' in html and "批量操作" in html
    form = {"csrf_token": token(client, "/officers"), "action": "unit",
            "ids": [staff["张三"], staff["李四"]], "filters": ""}
    resp = client.post("/officers/bulk", data=form)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "将对以下 <strong>2</strong> 名人员调整单位" in page and "确认对 2 人调整单位" in page
    assert "张三" in page and "李四" in page and "王五" not in page
    assert unit_of(app, staff["张三"]) == staff["a"]  # nothing changed before the confirmation
    # Confirming without choosing the unit keeps the page and says what is missing.
    page = client.post("/officers/bulk", data={**form, "confirmed": "1"}).get_data(as_text=True)
    assert "请选择要调入的单位" in page and unit_of(app, staff["张三"]) == staff["a"]
    resp = client.post("/officers/bulk", data={**form, "confirmed": "1", "target": str(staff["b"])},
                       follow_redirects=True)
    assert "已将 2 名人员调入“南坪社区”" in resp.get_data(as_text=True)
    assert unit_of(app, staff["张三"]) == staff["b"] and unit_of(app, staff["李四"]) == staff["b"]
    assert unit_of(app, staff["王五"]) == staff["a"]
    rows = audit_rows(app, "批量调整单位")
    assert [r[0] for r in rows] == sorted([staff["张三"], staff["李四"]])


def test_all_matching_the_filter_set_off_post(app, client, staff):
    login(client, app, "admin")
    filters = f"unit={staff['a']}"
    html = client.get(f"/officers?{filters}").get_data(as_text=True)
    assert f'name="filters" value="{filters}"' in html  # the form carries the list's own filters
    assert "选择全部 3 名符合条件的人员" in html
    form = {"csrf_token": token(client, "/officers"), "action": "post_off", "all": "1", "filters": filters}
    page = client.post("/officers/bulk", data=form).get_data(as_text=True)
    assert "将对以下 <strong>3</strong> 名人员设为非执法岗位" in page and "赵六" not in page
    resp = client.post("/officers/bulk", data={**form, "confirmed": "1"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/officers?{filters}")
    assert "已将 3 名人员设为非执法岗位" in client.get(resp.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        off = set(_db.session.scalars(select(Officer.name).where(Officer.on_enforcement_post.is_(False))))
    assert off == {"张三", "李四", "王五"}
    assert len(audit_rows(app, "批量设置岗位")) == 3


def test_enrol_in_training_and_exam(app, client, staff):
    login(client, app, "clerk")
    base = {"csrf_token": token(client, "/officers"), "ids": [staff["张三"], staff["赵六"]], "filters": "",
            "confirmed": "1"}
    resp = client.post("/officers/bulk", data={**base, "action": "training", "target": str(staff["session"])},
                       follow_redirects=True)
    assert "已为 2 名人员报名培训“行政处罚法讲座”" in resp.get_data(as_text=True)
    resp = client.post("/officers/bulk", data={**base, "action": "training", "target": str(staff["session"])},
                       follow_redirects=True)
    assert "已为 0 名人员报名培训“行政处罚法讲座”（2 人已在名单中）" in resp.get_data(as_text=True)
    resp = client.post("/officers/bulk", data={**base, "action": "exam", "target": str(staff["exam"])},
                       follow_redirects=True)
    assert "已为 2 名人员报名考试“2026年资格考试”" in resp.get_data(as_text=True)
    with app.app_context():
        assert _db.session.scalar(select(_db.func.count()).select_from(Attendance)) == 2
        assert _db.session.scalar(select(_db.func.count()).select_from(ExamResult)) == 2
    assert len(audit_rows(app, "批量报名培训")) == 2 and len(audit_rows(app, "批量报名考试")) == 2


def test_roster_of_the_selection(app, client, staff):
    login(client, app, "clerk")
    resp = client.post("/officers/bulk", data={"csrf_token": token(client, "/officers"), "action": "roster",
                                               "ids": [staff["王五"], staff["李四"]], "filters": ""})
    page = resp.get_data(as_text=True)
    body = page.split('id="roster"', 1)[1]
    assert re.findall(r"<td>(李四|王五|张三)</td>", body) == ["李四", "王五"]  # pinyin: lǐ before wáng
    assert re.search(r"\d{6}\*{8}\d{3}[\dX]", body) and "data-print" in page
    assert len(audit_rows(app, "打印人员名册")) == 2


def test_nothing_selected_or_viewer(app, client, staff):
    login(client, app, "clerk")
    resp = client.post("/officers/bulk", data={"csrf_token": token(client, "/officers"), "action": "unit",
                                               "filters": "q=张"}, follow_redirects=True)
    assert "请先勾选人员" in resp.get_data(as_text=True)
    viewer = app.test_client()
    login(viewer, app, "viewer")
    assert 'name="ids"' not in viewer.get("/officers").get_data(as_text=True)
    resp = viewer.post("/officers/bulk", data={"csrf_token": token(viewer, "/officers"), "action": "post_off",
                                               "ids": [staff["张三"]], "confirmed": "1"})
    assert resp.status_code == 403


def test_a_bulk_change_racing_another_save_answers_409_in_words(app, client, staff):
    """Someone saves one of the officers while the bulk change is being written (the row's version
    moves under it, here just before the flush): the bulk change, which commits outside the form
    helper, answers 409 with the 已被他人修改 message, not a 500, and nothing of it is kept."""
    from sqlalchemy import event, update

    login(client, app, "clerk")
    form = {"csrf_token": token(client, "/officers"), "action": "unit", "ids": [staff["张三"]],
            "filters": "", "confirmed": "1", "target": str(staff["b"])}

    def another_save(session, _ctx, _instances):
        session.connection().execute(update(Officer).where(Officer.id == staff["张三"])
                                     .values(version=Officer.version + 1, name="张三丰"))

    with app.app_context():
        sess_cls = _db.session.registry().__class__
    event.listen(sess_cls, "before_flush", another_save)
    try:
        resp = client.post("/officers/bulk", data=form)
    finally:
        event.remove(sess_cls, "before_flush", another_save)
    assert resp.status_code == 409
    assert "数据已被他人修改" in resp.get_data(as_text=True)
    assert unit_of(app, staff["张三"]) == staff["a"]
