"""/api/v1/applications: an application from a street's clerk through every step to a card on the
public list; returns and resubmission, rejection, the wait for an exam, deadlines in working days
(National Day 2024), each refused check, who may decide what."""

from __future__ import annotations

from datetime import date

import pytest

from app.extensions import db as _db
from tests.conftest import PASSWORD, TODAY
from tests.factories import CertificateFactory, OfficerFactory


def _issue(runner, username: str) -> str:
    result = runner.invoke(args=["users", "token", username])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


class Flow:
    def __init__(self, client, tokens, ids):
        self.client, self.tokens, self.ids = client, tokens, ids

    def post(self, user, url, body):
        return self.client.post(url, json=body, headers={"Authorization": f"Bearer {self.tokens[user]}"})

    def get(self, user, url):
        return self.client.get(url, headers={"Authorization": f"Bearer {self.tokens[user]}"})

    def submit(self, user="street_clerk", **body):
        return self.post(user, "/api/v1/applications", body)

    def decide(self, user, app_id, decision, **body):
        return self.post(user, f"/api/v1/applications/{app_id}/decision", {"decision": decision, **body})


@pytest.fixture
def flow(app, runner, client, set_today):
    """某区 → 甲街道, 乙街道. 张三 (甲街道) passed the qualification exam in May 2026; 李四 (甲街道)
    has no exam; 赵六 (甲街道) holds a valid card; 王五 is in 乙街道. Users: a clerk and an admin of
    甲街道, a clerk (法制) and an admin (审批) of 某区, a clerk of the whole organisation (制证)."""
    from app.auth.services import create_user
    from app.models.exams import Exam, ExamResult
    from app.models.officers import Unit

    set_today(TODAY)
    with app.app_context():
        root = Unit(name="某区", kind="department")
        _db.session.add(root)
        _db.session.flush()
        street = Unit(name="甲街道", kind="department", parent_id=root.id)
        other = Unit(name="乙街道", kind="department", parent_id=root.id)
        _db.session.add_all([street, other])
        _db.session.flush()
        people = {name: OfficerFactory(name=name, unit=unit) for name, unit in
                  (("张三", street), ("李四", street), ("赵六", street), ("王五", other))}
        card = CertificateFactory(officer=people["赵六"], number="ZF-OLD-1", issued_on=date(2022, 1, 1),
                                  expires_on=date(2026, 12, 31))
        exam = Exam(title="2026年资格考试", kind="qualification", held_on=date(2026, 5, 1), pass_score=60)
        _db.session.add(exam)
        _db.session.flush()
        _db.session.add(ExamResult(exam_id=exam.id, officer_id=people["张三"].id, score=85))
        for name, role, unit in (("street_clerk", "clerk", street), ("street_admin", "admin", street),
                                 ("legal", "clerk", root), ("chief", "admin", root), ("issuer", "clerk", None),
                                 ("other_clerk", "clerk", other)):
            create_user(name, role, PASSWORD, unit_id=unit.id if unit else None)
        _db.session.commit()
        ids = {n: (o.id, o.id_number) for n, o in people.items()} | {"card": card.id, "street": street.id}
    tokens = {u: _issue(runner, u) for u in ("street_clerk", "street_admin", "legal", "chief", "issuer", "other_clerk")}
    return Flow(client, tokens, ids)


def test_an_application_goes_through_every_step_to_a_card_on_the_public_list(app, client, flow, public_list_on):
    resp = flow.submit(kind="new", id_number=flow.ids["张三"][1], reason="新任执法岗位")
    assert resp.status_code == 201, resp.get_json()
    a = resp.get_json()
    assert a["state"] == "unit_review" and a["step"] == "unit_review" and a["number"].startswith("SQ2026-")
    assert a["officer"] == {"id": flow.ids["张三"][0], "name": "张三", "unit": "甲街道"}
    assert a["submitted_on"] == "2026-06-15" and a["due_on"] == "2026-06-30" and a["overdue"] is False
    for user, step, nxt in (("street_admin", "unit_review", "legal_review"), ("legal", "legal_review", "approval"),
                            ("chief", "approval", "issuing")):
        resp = flow.decide(user, a["id"], "approve", reason="同意")
        assert resp.status_code == 200, (step, resp.get_json())
        assert resp.get_json()["state"] == nxt
    resp = flow.decide("issuer", a["id"], "approve", certificate_number="500103260001", issued_on="2026-06-15")
    assert resp.status_code == 200, resp.get_json()
    done = resp.get_json()
    assert done["state"] == "done" and done["certificate_number"] == "500103260001" and done["due_on"] is None
    assert [(h["step"], h["decision"], h["by"]) for h in done["history"]] == [
        ("submitted", "submit", "street_clerk"), ("unit_review", "approve", "street_admin"),
        ("legal_review", "approve", "legal"), ("approval", "approve", "chief"), ("issuing", "approve", "issuer")]
    from app.models.certificates import Certificate

    with app.app_context():
        cert = _db.session.scalar(_db.select(Certificate).where(Certificate.number == "500103260001"))
        assert cert.status == "valid" and cert.officer_id == flow.ids["张三"][0]
        assert cert.expires_on == date(2031, 6, 14)
        assert [(e.kind, e.document_no) for e in cert.events] == [("issue", done["number"])]
    public = client.get("/public/officers").get_data(as_text=True)
    assert "张三" in public and "500103260001" in public
    # finished: 409 for anyone
    assert flow.decide("chief", a["id"], "approve").status_code == 409
    assert flow.decide("street_clerk", a["id"], "reject", reason="x").status_code == 409


def test_return_and_resubmission_go_back_to_the_step_that_returned_it(flow):
    a = flow.submit(kind="new", id_number=flow.ids["张三"][1]).get_json()
    assert flow.decide("street_admin", a["id"], "approve").status_code == 200
    resp = flow.decide("legal", a["id"], "return")
    assert resp.status_code == 400 and resp.get_json()["error"] == "reason_required"
    resp = flow.decide("legal", a["id"], "return", reason="缺少身份证复印件")
    assert resp.status_code == 200
    back = resp.get_json()
    assert back["state"] == "returned" and back["step"] == "legal_review" and back["due_on"] is None
    assert back["history"][-1] == {**back["history"][-1], "step": "legal_review", "decision": "return",
                                   "by": "legal", "reason": "缺少身份证复印件"}
    # only the submitting unit resubmits
    assert flow.post("other_clerk", f"/api/v1/applications/{a['id']}/resubmit", {}).status_code == 404
    assert flow.post("legal", f"/api/v1/applications/{a['id']}/resubmit", {}).status_code == 403
    assert flow.decide("legal", a["id"], "approve").status_code == 409
    resp = flow.post("street_clerk", f"/api/v1/applications/{a['id']}/resubmit", {"note": "已补齐复印件"})
    assert resp.status_code == 200
    again = resp.get_json()
    assert again["state"] == "legal_review" and again["history"][-1]["decision"] == "resubmit"
    assert flow.post("street_clerk", f"/api/v1/applications/{a['id']}/resubmit", {}).status_code == 409


def test_rejection_is_final_and_needs_a_reason(flow):
    a = flow.submit(kind="new", id_number=flow.ids["张三"][1]).get_json()
    assert flow.decide("street_admin", a["id"], "reject").status_code == 400
    resp = flow.decide("street_admin", a["id"], "reject", reason="不符合条件")
    assert resp.status_code == 200 and resp.get_json()["state"] == "rejected"
    assert flow.decide("street_admin", a["id"], "approve").status_code == 409
    assert flow.post("street_clerk", f"/api/v1/applications/{a['id']}/resubmit", {}).status_code == 409
    # a rejected application is not open: a new one may be submitted
    assert flow.submit(kind="new", id_number=flow.ids["张三"][1]).status_code == 201


def test_nobody_decides_their_own_submission_or_a_step_that_is_not_theirs(flow):
    a = flow.submit("street_admin", kind="new", id_number=flow.ids["张三"][1]).get_json()
    resp = flow.decide("street_admin", a["id"], "approve")
    assert resp.status_code == 403 and resp.get_json()["error"] == "own_submission"
    for user in ("street_clerk", "legal", "issuer"):  # 单位初审 is an admin's
        assert flow.decide(user, a["id"], "approve").status_code == 403, user
    assert flow.decide("other_clerk", a["id"], "approve").status_code == 404  # another street's: not found
    assert flow.decide("chief", a["id"], "approve").get_json()["state"] == "legal_review"  # the root admin is above
    assert flow.decide("street_admin", a["id"], "approve").status_code == 403  # 法制审核 is the root's


def test_new_without_an_exam_waits_and_moves_on_when_a_pass_is_recorded(app, flow):
    a = flow.submit(kind="new", id_number=flow.ids["李四"][1]).get_json()
    assert a["state"] == "awaiting_exam" and a["due_on"] is None
    assert flow.decide("street_admin", a["id"], "approve").status_code == 409
    from app.exams import services as exams
    from app.models.exams import Exam
    from app.models.officers import Officer

    with app.app_context():
        exam = exams.save_exam(None, {"title": "补充资格考试", "kind": "qualification", "held_on": TODAY,
                                      "max_score": 100, "pass_score": 60})
        exams.add_candidates(exam, [_db.session.get(Officer, flow.ids["李四"][0])])
        _db.session.commit()
        result = exam.results[0]
        exams.save_results(exam, {result.id: ("55", False)}, today=TODAY)  # failed: still waiting
        _db.session.commit()
    assert flow.get("street_clerk", f"/api/v1/applications/{a['id']}").get_json()["state"] == "awaiting_exam"
    with app.app_context():
        exam = _db.session.scalar(_db.select(Exam).where(Exam.title == "补充资格考试"))
        exams.save_results(exam, {exam.results[0].id: ("75", False)}, today=TODAY)
        _db.session.commit()
    moved = flow.get("street_clerk", f"/api/v1/applications/{a['id']}").get_json()
    assert moved["state"] == "unit_review" and moved["due_on"] == "2026-06-30"
    assert moved["history"][-1]["decision"] == "exam_passed"


def test_paper_received_before_national_day_is_due_after_it_and_overdue(flow, set_today):
    set_today(date(2024, 10, 17))
    from tests.factories import CertificateFactory  # noqa: F401  (the exam must lie within 3 years)

    resp = flow.submit(kind="renew", id_number=flow.ids["赵六"][1], submitted_on="2024-09-27", reason="到期换证")
    assert resp.status_code == 201, resp.get_json()
    a = resp.get_json()
    assert a["submitted_on"] == "2024-09-27" and a["due_on"] == "2024-10-16" and a["overdue"] is True
    assert "due_estimated" not in a
    listed = flow.get("chief", "/api/v1/applications?overdue=1").get_json()
    assert [x["number"] for x in listed["items"]] == [a["number"]] and listed["total"] == 1
    assert flow.get("chief", "/api/v1/applications?state=legal_review").get_json()["total"] == 0
    assert flow.get("chief", "/api/v1/applications?unit=甲街道").get_json()["total"] == 1
    assert flow.get("chief", "/api/v1/applications?unit=乙街道").get_json()["total"] == 0


def test_a_year_the_calendar_does_not_know_is_estimated_until_entered(app, flow, set_today, runner, tmp_path):
    set_today(date(2027, 3, 1))
    a = flow.submit(kind="cancel", id_number=flow.ids["赵六"][1], reason="退休").get_json()
    assert a["due_on"] == "2027-03-15" and a["due_estimated"] is True
    days = tmp_path / "2027.txt"
    days.write_text("# 2027\n2027-03-02 休  测试假日\n2027-03-06 班\n", encoding="utf-8")
    result = runner.invoke(args=["calendar", "set", "2027", str(days)])
    assert result.exit_code == 0, result.output
    bad = tmp_path / "bad.txt"
    bad.write_text("2027-02-30 休\n2026-01-01 休\n2027-03-03 上班\n", encoding="utf-8")
    result = runner.invoke(args=["calendar", "set", "2027", str(bad)])
    assert result.exit_code == 1 and "第1行" in result.output and "第2行" in result.output and "第3行" in result.output
    b = flow.submit(kind="replace", id_number=flow.ids["赵六"][1], reason="遗失").get_json()
    assert b["due_on"] == "2027-03-15" and "due_estimated" not in b  # one day off, one Saturday worked


@pytest.mark.parametrize(("code", "setup", "kind", "who"), [
    ("not_active", lambda o: setattr(o, "employment_status", "retired"), "new", "张三"),
    ("ineligible", lambda o: setattr(o, "establishment", "contract"), "renew", "赵六"),
    ("no_card", None, "replace", "张三"),
    ("no_card", None, "renew", "李四"),
    ("no_card", lambda o: setattr(o.certificates[0], "status", "lost"), "cancel", "赵六"),
])
def test_each_refused_check_answers_422_with_its_code_and_creates_nothing(app, flow, code, setup, kind, who):
    from app.models.applications import Application
    from app.models.officers import Officer

    if setup:
        with app.app_context():
            setup(_db.session.get(Officer, flow.ids[who][0]))
            _db.session.commit()
    resp = flow.submit(kind=kind, id_number=flow.ids[who][1], reason="x")
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["error"] == code and who in body["message"]
    with app.app_context():
        assert _db.session.scalar(_db.select(_db.func.count()).select_from(Application)) == 0


def test_duplicate_unknown_and_out_of_scope(flow):
    assert flow.submit(kind="cancel", id_number=flow.ids["赵六"][1], reason="调出").status_code == 201
    resp = flow.submit(kind="cancel", id_number=flow.ids["赵六"][1], reason="调出")
    assert resp.status_code == 422 and resp.get_json()["error"] == "duplicate"
    assert flow.submit(kind="renew", id_number=flow.ids["赵六"][1]).status_code == 201  # another kind
    assert flow.submit(kind="new", id_number="110101199003077777").status_code == 404
    assert flow.submit(kind="new", id_number=flow.ids["王五"][1]).status_code == 404  # another street
    assert flow.submit(kind="lost", id_number=flow.ids["张三"][1]).status_code == 400
    assert flow.submit(kind="new", id_number=flow.ids["张三"][1], submitted_on="2026-02-30").status_code == 400


def _to_issuing(flow, app_id):
    for user in ("street_admin", "legal", "chief"):
        assert flow.decide(user, app_id, "approve").status_code == 200


def test_renew_replace_and_cancel_act_on_the_card_through_its_transitions(app, flow, runner):
    from app.models.certificates import Certificate

    renew = flow.submit(kind="renew", id_number=flow.ids["赵六"][1], reason="到期换证").get_json()
    assert renew["certificate_number"] == "ZF-OLD-1"
    _to_issuing(flow, renew["id"])
    assert flow.decide("issuer", renew["id"], "approve").get_json()["error"] == "number_required"
    assert runner.invoke(args=["settings", "set", "region_code", "500103"]).exit_code == 0
    assert runner.invoke(args=["settings", "set", "certificate_number_pattern",
                               "{地区码}{年份:2}{序号:06}"]).exit_code == 0
    done = flow.decide("issuer", renew["id"], "approve").get_json()
    assert done["state"] == "done" and done["certificate_number"] == "50010326000001"
    with app.app_context():
        old = _db.session.get(Certificate, flow.ids["card"])
        assert old.status == "replaced" and old.replaced_by.number == "50010326000001"
        assert [e.kind for e in old.events][-1] == "replace" and old.events[-1].document_no == renew["number"]
    lost = flow.submit(kind="replace", id_number=flow.ids["赵六"][1], reason="遗失").get_json()
    assert lost["certificate_number"] == "50010326000001"
    _to_issuing(flow, lost["id"])
    done = flow.decide("issuer", lost["id"], "approve").get_json()
    assert done["certificate_number"] == "50010326000002"
    cancel = flow.submit(kind="cancel", id_number=flow.ids["赵六"][1], reason="退休").get_json()
    _to_issuing(flow, cancel["id"])
    assert flow.decide("issuer", cancel["id"], "approve").get_json()["state"] == "done"
    with app.app_context():
        cards = {c.number: c.status for c in _db.session.scalars(_db.select(Certificate))}
        assert cards == {"ZF-OLD-1": "replaced", "50010326000001": "lost", "50010326000002": "cancelled"}


def test_bad_input_gets_a_chinese_message_never_a_500(flow):
    a = flow.submit(kind="new", id_number=flow.ids["张三"][1]).get_json()
    cases = [
        (flow.post("street_clerk", "/api/v1/applications", ["kind"]), 400),
        (flow.submit(kind="new"), 400),
        (flow.decide("street_admin", a["id"], "maybe"), 400),
        (flow.get("chief", "/api/v1/applications?state=nope"), 422),
        (flow.get("chief", "/api/v1/applications?page=0"), 422),
        (flow.get("chief", "/api/v1/applications?unit=不存在的单位"), 422),
        (flow.get("chief", "/api/v1/applications/999999"), 404),
    ]
    for resp, status in cases:
        assert resp.status_code == status, resp.get_json()
        body = resp.get_json()
        assert set(body) == {"error", "message"} and any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])
    _to_issuing(flow, a["id"])
    resp = flow.decide("issuer", a["id"], "approve", certificate_number="X1", issued_on="2026-13-01")
    assert resp.status_code == 400 and "发证日期" in resp.get_json()["message"]
    resp = flow.decide("issuer", a["id"], "approve", certificate_number="X1", issued_on="2026-07-01")
    assert resp.status_code == 400 and "不能晚于今天" in resp.get_json()["message"]
    page = flow.get("chief", "/api/v1/applications?per_page=1&page=1").get_json()
    assert page["total"] == 1 and page["per_page"] == 1 and page["items"][0]["state"] == "issuing"
