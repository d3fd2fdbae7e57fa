"""A candidate whose result in an exam is already recorded does not sit its online paper unless an
administrator lets the online result replace it (with a reason); replacing a passing result whose
考试合格证明 was issued withdraws that document first (the QR code then says so, with the reason).
Score audit rows show old → new."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditEvent
from app.models.exams import ExamResult
from app.models.officers import Officer
from app.web.tokens import make_token
from tests.conftest import TODAY, follow_job, login, token
from tests.online_data import KEY, exam_with_bank


@pytest.fixture(autouse=True)
def _today(set_today):
    set_today(TODAY)


def result_of(app, exam_id, id_number):
    with app.app_context():
        r = db.session.scalar(select(ExamResult).join(Officer, Officer.id == ExamResult.officer_id)
                              .where(ExamResult.exam_id == exam_id, Officer.id_number == id_number))
        out = (r.id, r.officer_id, r.score, r.absent)
        db.session.remove()
        return out


def enter_score(client, exam_id, result_id, score):
    url = f"/exams/{exam_id}"
    resp = client.post(f"{url}/results", data={"csrf_token": token(client, url), f"score-{result_id}": score},
                       follow_redirects=True)
    assert "成绩已保存" in resp.get_data(as_text=True)


def print_pass_document(client, exam_id, officer_id):
    resp = follow_job(client, client.get(f"/documents/certificates.pdf?exam={exam_id}&officer={officer_id}"))
    assert resp.mimetype == "application/pdf"


def verify_text(app, result_id):
    with app.test_request_context():
        tok = make_token("exam", result_id)
    return app.test_client().get(f"/verify/{tok}").get_data(as_text=True)


def room_login(cand):
    from flask import current_app

    return current_app.test_client().post("/exam/api/login", json={"id_number": cand["id_number"],
                                                                    "code": cand["code"]})


def sit(app, cand, answer):
    """Log in, answer every question with answer(q), submit: the submit's body."""
    room = app.test_client()
    resp = room.post("/exam/api/login", json={"id_number": cand["id_number"], "code": cand["code"]})
    assert resp.status_code == 200, resp.get_json()
    auth = {"Authorization": f"Bearer {resp.get_json()['token']}"}
    for q in room.get("/exam/api/paper", headers=auth).get_json()["questions"]:
        assert room.put(f"/exam/api/answers/{q['id']}", json={"answer": answer(q)}, headers=auth).status_code == 204
    resp = room.post("/exam/api/submit", headers=auth)
    assert resp.status_code == 200
    return resp.get_json()


def two_points(q):
    """Right on the two true/false questions only (1 + 1 of 10): the single choices' keys are B and
    C, the multiple choice's ABD."""
    return KEY[q["stem"]] if q["type"] == "true_false" else {"single": "A", "multiple": "BC"}[q["type"]]


def recorded_exam(app, runner, client, tmp_path):
    """An exam (max 10, pass 6) for two candidates; the admin entered 7.5 (合格) for the first and
    printed his 考试合格证明; the paper is set, the window not yet open."""
    exam_id, (a, b) = exam_with_bank(app, runner, tmp_path, 2, open_now=False)
    login(client, app, "admin")
    rid, oid, _score, _absent = result_of(app, exam_id, a["id_number"])
    enter_score(client, exam_id, rid, "7.5")
    print_pass_document(client, exam_id, oid)
    assert "文书真实有效" in verify_text(app, rid)
    return exam_id, a, b, rid, oid


def test_recorded_result_keeps_the_candidate_out_of_the_online_sitting(app, runner, client, tmp_path):
    exam_id, a, b, rid, oid = recorded_exam(app, runner, client, tmp_path)
    url = f"/exams/{exam_id}/online"
    html = client.get(url).get_data(as_text=True)
    assert "已有成绩的考生" in html and a["name"] in html and "7.5分（合格）" in html and "考〔2026〕" in html
    resp = client.post(f"{url}/open", data={"csrf_token": token(client, url), "minutes": "60", "show_score": "1"},
                       follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "考试已开放" in html and "以下考生在本考试已有成绩，不参加机考（已有成绩保留）" in html and a["name"] in html
    # the candidate is refused at the door, with the reason
    with app.app_context():
        resp = room_login(a)
    assert resp.status_code == 403
    assert resp.get_json() == {"error": "您在本考试已有成绩（7.5分），不参加机考；如有疑问，请联系监考人员"}
    assert "不参加机考（已有成绩）" in client.get(f"{url}/monitor").get_data(as_text=True)
    # the other candidate sits; closing the exam leaves the recorded result alone
    sit(app, b, two_points)
    resp = client.post(f"{url}/close", data={"csrf_token": token(client, url)}, follow_redirects=True)
    assert "缺考 0 人" in resp.get_data(as_text=True)
    assert result_of(app, exam_id, a["id_number"])[2:] == (7.5, False)
    assert "文书真实有效" in verify_text(app, rid)


def test_admin_lets_the_online_result_replace_it_withdrawing_the_document(app, runner, client, tmp_path):
    exam_id, a, b, rid, oid = recorded_exam(app, runner, client, tmp_path)
    url = f"/exams/{exam_id}/online"
    replace = f"{url}/recorded/{oid}/replace"
    # only an administrator decides; the page offers it to them alone
    clerk = login(app.test_client(), app, "clerk", username="clerk_r")
    assert "recorded/" not in clerk.get(url).get_data(as_text=True)  # no replace form
    assert clerk.post(replace, data={"csrf_token": token(clerk, url), "reason": "x"}).status_code == 403
    page = client.get(url).get_data(as_text=True)
    assert f"recorded/{oid}/replace" in page and 'name="withdraw_document"' in page
    assert "已出具：替换后该证明将被撤回" in page  # the confirmation names the document
    # a reason is required; the issued document must be withdrawn knowingly
    resp = client.post(replace, data={"csrf_token": token(client, url), "reason": " "}, follow_redirects=True)
    assert "请填写允许" in resp.get_data(as_text=True)
    resp = client.post(replace, data={"csrf_token": token(client, url), "reason": "本人申请参加机考"},
                       follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "未更改：" in html and "的考试合格证明（编号 考〔2026〕" in html and "须确认撤回该证明" in html
    assert "文书真实有效" in verify_text(app, rid)
    resp = client.post(replace, data={"csrf_token": token(client, url), "reason": "本人申请参加机考",
                                      "withdraw_document": "1"}, follow_redirects=True)
    assert f"已允许 {a['name']} 参加机考" in resp.get_data(as_text=True)
    text = verify_text(app, rid)
    assert "文书已撤回" in text and "撤回原因：本人申请参加机考" in text
    with app.app_context():
        summaries = [e.summary for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert any(s.startswith("撤回考试合格证明 考〔2026〕") and s.endswith("：本人申请参加机考") for s in summaries)
    assert f"允许 {a['name']} 以机考成绩替换已有成绩（7.5分）：本人申请参加机考" in summaries
    # now he sits, and the online result replaces the recorded one
    resp = client.post(f"{url}/open", data={"csrf_token": token(client, url), "minutes": "60", "show_score": "1"},
                       follow_redirects=True)
    assert "不参加机考（已有成绩保留）" not in resp.get_data(as_text=True)
    assert sit(app, a, two_points)["score"] == 2
    assert result_of(app, exam_id, a["id_number"])[2:] == (2, False)
    # the audit log shows the score it replaced
    audit = client.get("/audit?q=考生交卷").get_data(as_text=True)
    assert "7.5 → 2" in audit and "— → 2" not in audit


def test_online_result_of_a_new_candidate_reads_empty_to_score(app, runner, client, tmp_path):
    exam_id, (a,) = exam_with_bank(app, runner, tmp_path, 1)
    sit(app, a, two_points)
    login(client, app, "admin")
    audit = client.get("/audit?q=考生交卷").get_data(as_text=True)
    assert "— → 2" in audit


def test_cli_enrol_and_open_refuse_by_name_and_replace_with_a_reason(app, runner, client, tmp_path):
    exam_id, a, b, rid, oid = recorded_exam(app, runner, client, tmp_path)
    masked = a["id_number"][:6] + "********" + a["id_number"][-4:]
    res = runner.invoke(args=["exams", "enrol", str(exam_id), "--id-number", a["id_number"]])
    assert res.exit_code == 1
    assert "以下考生在本考试已有成绩，不参加机考" in res.output and a["name"] in res.output and masked in res.output
    assert "--replace 身份证号 --reason 原因" in res.output
    res = runner.invoke(args=["exams", "open", str(exam_id), "--minutes", "60"])
    assert res.exit_code == 1 and a["name"] in res.output and "7.5分" in res.output
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.summary.like("开放考试%"))) is None
    # --replace needs the reason, and for an issued document the withdrawal
    res = runner.invoke(args=["exams", "open", str(exam_id), "--minutes", "60", "--replace", a["id_number"]])
    assert res.exit_code == 1 and "请填写允许" in res.output
    res = runner.invoke(args=["exams", "open", str(exam_id), "--minutes", "60", "--replace", a["id_number"],
                              "--reason", "补考安排"])
    assert res.exit_code == 1 and "须确认撤回该证明" in res.output
    res = runner.invoke(args=["exams", "open", str(exam_id), "--minutes", "60", "--replace", a["id_number"],
                              "--reason", "补考安排", "--withdraw-document"])
    assert res.exit_code == 0, res.output
    assert "将以机考成绩替换" in res.output and "已撤回" in res.output
    assert "撤回原因：补考安排" in verify_text(app, rid)
    with app.app_context():
        assert room_login(a).status_code == 200


def test_cli_open_keep_recorded(app, runner, client, tmp_path):
    exam_id, a, b, rid, oid = recorded_exam(app, runner, client, tmp_path)
    res = runner.invoke(args=["exams", "open", str(exam_id), "--minutes", "60", "--keep-recorded"])
    assert res.exit_code == 0, res.output
    assert "不参加机考（已有成绩保留）" in res.output and a["name"] in res.output
    with app.app_context():
        assert room_login(a).status_code == 403
        resp = room_login(b)
        assert resp.status_code == 200, resp.get_json()


def test_score_grid_audit_reads_whole_scores_without_a_decimal(app, runner, client, tmp_path):
    """Scores entered in the grid show in the audit log as typed: 8 → 9, not 8.0 → 9.0."""
    exam_id, (a, _b) = exam_with_bank(app, runner, tmp_path, 2, open_now=False)
    login(client, app, "admin")
    rid = result_of(app, exam_id, a["id_number"])[0]
    enter_score(client, exam_id, rid, "8")
    enter_score(client, exam_id, rid, "9")
    audit = client.get("/audit?q=登记成绩").get_data(as_text=True)
    assert "— → 8" in audit and "8 → 9" in audit
    assert "8.0" not in audit and "9.0" not in audit
