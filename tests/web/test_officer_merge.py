"""An officer entered by mistake: deleted when nothing refers to the record, otherwise merged
into the other record of the same person (administrators only, audited)."""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import func, select

from app.extensions import db as _db
from app.models.audit import AuditEvent
from app.models.auth import User
from app.models.exams import Exam, ExamResult
from app.models.officers import Officer, OfficerAttachment
from app.models.online import Sitting
from app.models.training import Attendance, TrainingSession
from tests.conftest import csrf_from, login, token
from tests.factories import CertificateFactory, OfficerFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def _officer_refs():
    return {t.name: c for t in _db.metadata.sorted_tables for fk in t.foreign_keys
            if fk.column.table.name == "officer" for c in [fk.parent]}


def _flash(html: str) -> str:
    return " ".join(re.findall(r'<div class="alert[^"]*"[^>]*>(.*?)<', html, re.S))


def test_admin_deletes_a_record_nothing_refers_to(app, client):
    with app.app_context():
        o = OfficerFactory(name="误录人员")
        _db.session.commit()
        oid = o.id
    clerk = app.test_client()
    login(clerk, app, "clerk")
    assert clerk.post(f"/officers/{oid}/delete",
                      data={"csrf_token": token(clerk, f"/officers/{oid}")}).status_code == 403
    assert "删除或合并此记录" not in clerk.get(f"/officers/{oid}").get_data(as_text=True)
    login(client, app, "admin")
    assert f'href="/officers/{oid}/merge">删除或合并此记录' in client.get(f"/officers/{oid}").get_data(as_text=True)
    page = client.get(f"/officers/{oid}/merge").get_data(as_text=True)
    assert f'action="/officers/{oid}/delete"' in page and 'data-confirm="确定删除执法人员“误录人员”？"' in page
    html = client.post(f"/officers/{oid}/delete", data={"csrf_token": csrf_from(page)},
                       follow_redirects=True).get_data(as_text=True)
    assert "已删除执法人员“误录人员”" in html
    with app.app_context():
        assert _db.session.get(Officer, oid) is None
        ev = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "delete",
                                                         AuditEvent.entity_type == "officer"))
        assert ev.entity_id == oid and ev.changes["name"] == ["误录人员", None]
        assert "*" in ev.changes["id_number"][0]  # masked in the log


def test_delete_is_refused_naming_what_refers_to_the_record(app, client):
    with app.app_context():
        o = OfficerFactory(name="有证人员")
        CertificateFactory(officer=o)
        s = TrainingSession(title="专题培训", held_on=date(2026, 3, 1), hours=6, category="general_law")
        _db.session.add_all([s, Attendance(session=s, officer_id=o.id, status="attended", credited_hours=6)])
        _db.session.commit()
        oid = o.id
    login(client, app, "admin")
    page = client.get(f"/officers/{oid}/merge").get_data(as_text=True)
    assert f'action="/officers/{oid}/delete"' not in page
    blockers = page.split('id="delete-blockers">', 1)[1].split("</span>", 1)[0]
    assert blockers == "不能删除：还有证件 1 张、培训出勤记录 1 条"
    html = client.post(f"/officers/{oid}/delete", data={"csrf_token": csrf_from(page)},
                       follow_redirects=True).get_data(as_text=True)
    assert "不能删除“有证人员”：还有证件 1 张、培训出勤记录 1 条" in _flash(html)
    with app.app_context():
        assert _db.session.get(Officer, oid) is not None


def _rows_for(officer, exam, session):
    """One row of every table that refers to an officer."""
    from app.models.applications import Application
    from app.models.me import ChangeRequest, OfficerInvite, TrainingClaim
    from app.models.officers import CardCancelTask, OfficerPhoto, OfficerUnitHistory

    card = CertificateFactory(officer=officer)
    account = User(username=officer.id_number, role="officer", officer_id=officer.id, password_hash="x")
    _db.session.add_all([
        account,
        OfficerInvite(officer_id=officer.id, code_hash=f"h{officer.id}", expires_at=datetime(2026, 7, 1)),
        TrainingClaim(officer_id=officer.id, title="外单位培训", held_on=date(2026, 4, 1), hours=4,
                      category="general_law"),
        ChangeRequest(officer_id=officer.id, field="phone", value="13800000000"),
        Application(number=f"SQ2026-{officer.id:05d}", kind="new", officer_id=officer.id, state="unit_review",
                    step="unit_review", submitted_on=date(2026, 5, 1)),
        OfficerUnitHistory(officer_id=officer.id, unit_id=officer.unit_id, from_on=date(2020, 1, 1)),
        CardCancelTask(officer_id=officer.id, certificate_id=card.id, departure="transferred",
                       left_on=date(2026, 5, 1), due_on=date(2026, 5, 31)),
        OfficerPhoto(officer_id=officer.id, mime="image/png", data=PNG),
        OfficerAttachment(officer_id=officer.id, kind="other", filename="任命书.pdf", mime="application/pdf",
                          size=4, data=b"%PDF"),
        Attendance(session=session, officer_id=officer.id, status="attended", credited_hours=6),
        ExamResult(exam=exam, officer_id=officer.id, score=80, absent=False),
        Sitting(exam_id=exam.id, officer_id=officer.id, code="A1", seat=1),
    ])
    _db.session.flush()


def test_merge_moves_the_rows_of_every_table_that_refers_to_an_officer(app, client):
    with app.app_context():
        keep, drop = OfficerFactory(name="张明"), OfficerFactory(name="张明")
        exam = Exam(title="资格考试", held_on=date(2026, 5, 1))
        session = TrainingSession(title="专题培训", held_on=date(2026, 3, 1), hours=6, category="general_law")
        _db.session.add_all([exam, session])
        _db.session.flush()
        _rows_for(drop, exam, session)
        _db.session.commit()
        keep_id, drop_id = keep.id, drop.id
        refs = _officer_refs()
        before = {t: _db.session.scalar(select(func.count()).select_from(_db.metadata.tables[t]).where(c == drop_id))
                  for t, c in refs.items()}
    # every table that refers to an officer has a row of the record merged away
    assert all(before.values()), before
    login(client, app, "admin")
    url = f"/officers/{keep_id}/merge?other={drop_id}"
    page = client.get(url).get_data(as_text=True)
    assert "将转移：" in page and "证件 1 张" in page and "在线考试记录 1 条" in page
    assert "离岗待注销证件 1 个" in page
    html = client.post(f"/officers/{keep_id}/merge", data={"csrf_token": csrf_from(page), "other": str(drop_id),
                                                          "keep": str(keep_id)},
                       follow_redirects=True).get_data(as_text=True)
    assert f"已合并：全部记录已归入“张明”（编号 {keep_id}）" in html
    with app.app_context():
        assert _db.session.get(Officer, drop_id) is None
        for t, c in refs.items():
            table = _db.metadata.tables[t]
            assert not _db.session.scalar(select(func.count()).select_from(table).where(c == drop_id)), t
            # the unit history and invitation codes are not moved: the kept record keeps its own
            # (here none); the merged-away record's own login is ended (re-invited on the kept one)
            kept = 0 if t in ("officer_unit_history", "officer_invite", "user_account") else before[t]
            assert _db.session.scalar(select(func.count()).select_from(table).where(c == keep_id)) == kept, t
        ev = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "merge",
                                                         AuditEvent.entity_id == keep_id))
        assert f"编号 {drop_id}" in ev.summary and "证件 1 张" in ev.summary
        account = _db.session.scalar(select(User).where(User.role == "officer"))
        assert account.officer_id is None and not account.active
        assert set(ev.changes["moved"][1]) >= {"学时申报", "证件申请", "信息修改申请"}
        assert set(ev.changes["moved"][1]) >= {"证件", "附件", "培训出勤记录", "考试成绩", "在线考试记录", "照片",
                                               "离岗待注销证件"}
    audit = client.get("/audit").get_data(as_text=True)
    assert "合并" in audit and "合并来源" in audit and "转移的记录" in audit


def test_merge_is_refused_when_both_records_sat_the_same_exam(app, client):
    with app.app_context():
        a, b = OfficerFactory(name="李华"), OfficerFactory(name="李华")
        exam = Exam(title="2026年度资格考试", held_on=date(2026, 5, 1))
        _db.session.add(exam)
        _db.session.flush()
        _db.session.add_all([ExamResult(exam=exam, officer_id=a.id, score=80, absent=False),
                             ExamResult(exam=exam, officer_id=b.id, score=None, absent=True)])
        CertificateFactory(officer=b)
        _db.session.commit()
        a_id, b_id = a.id, b.id
    login(client, app, "admin")
    page = client.get(f"/officers/{a_id}/merge?other={b_id}").get_data(as_text=True)
    assert "两条记录都有考试“2026年度资格考试”的考试成绩" in page and 'id="merge-conflicts"' in page
    html = client.post(f"/officers/{a_id}/merge", data={"csrf_token": token(client, f"/officers/{a_id}/merge"),
                                                       "other": str(b_id), "keep": str(a_id)},
                       follow_redirects=True).get_data(as_text=True)
    assert "两条记录都有考试“2026年度资格考试”的考试成绩" in html
    with app.app_context():
        assert _db.session.get(Officer, b_id) is not None
        assert _db.session.scalar(select(func.count()).select_from(ExamResult)
                                  .where(ExamResult.officer_id == b_id)) == 1


def test_merge_finds_the_other_record_and_refuses_itself(app, client):
    with app.app_context():
        a = OfficerFactory(name="王五")
        _db.session.commit()
        a_id = a.id
    login(client, app, "admin")
    assert "不能与自身合并" in client.get(f"/officers/{a_id}/merge?other={a_id}").get_data(as_text=True)
    assert "没有其他名为“王五”的人员" in client.get(f"/officers/{a_id}/merge?other=王五").get_data(as_text=True)
    assert "没有编号为 99999 的人员" in client.get(f"/officers/{a_id}/merge?other=99999").get_data(as_text=True)
    clerk = app.test_client()
    login(clerk, app, "clerk")
    assert clerk.get(f"/officers/{a_id}/merge").status_code == 403
