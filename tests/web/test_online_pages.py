"""The staff side of online exams: the bank (search, filter, edit, retire, upload), the exam page
(paper rules, open, monitor, extend, force-submit, close, statistics) and the PDFs."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditEvent
from app.models.online import PaperItem, Question, Sitting
from tests.conftest import follow_job, login, token
from tests.online_data import BANK, KEY, csv_bytes, exam_with_bank


def pdf_text(data: bytes) -> str:
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def test_bank_upload_refusal_then_import_search_filter(app, client):
    login(client, app, "clerk")
    bad = csv_bytes([BANK[0], ["单选", "", "甲", "乙", "", "", "A", "", "", ""]])
    resp = client.post("/exams/bank/import", data={"csrf_token": token(client, "/exams/bank/import"),
                                                  "file": (io.BytesIO(bad), "bank.csv")},
                       content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert "第 3 行，列“题干”：题干不能为空" in html and "未写入任何数据" in html
    with app.app_context():
        assert db.session.scalar(select(Question.id)) is None
    resp = client.post("/exams/bank/import", data={"csrf_token": token(client, "/exams/bank/import"),
                                                  "file": (io.BytesIO(csv_bytes(BANK)), "bank.csv")},
                       content_type="multipart/form-data", follow_redirects=True)
    assert "新增 5 道" in resp.get_data(as_text=True)
    page = client.get("/exams/bank?type=true_false").get_data(as_text=True)
    assert "执法人员可以不出示证件。" in page and "下列哪些属于行政处罚？" not in page
    page = client.get("/exams/bank?category=专门法律知识").get_data(as_text=True)
    assert "下列哪些属于行政处罚？" in page and "执法人员可以不出示证件。" not in page
    page = client.get("/exams/bank?q=有效期").get_data(as_text=True)
    assert "执法证件的有效期一般为几年？" in page and "行政处罚由几名" not in page


def test_edit_keeps_the_held_exams_copy_and_retire(app, runner, client, tmp_path):
    exam_id, (a,) = exam_with_bank(app, runner, tmp_path, 1)
    login(client, app, "admin")  # the question is on the open exam's paper: a clerk may not open it
    with app.app_context():
        q = db.session.scalar(select(Question).where(Question.stem == BANK[0][1]))
        qid = q.id
    form_url = f"/exams/bank/{qid}/edit"
    data = {"csrf_token": token(client, form_url), "type": "single", "stem": BANK[0][1], "option_a": "一名",
            "option_b": "两名以上", "option_c": "三名", "option_d": "不限", "option_e": "", "option_f": "",
            "answer": "A", "points": "2", "category": "公共法律知识", "basis": ""}
    resp = client.post(form_url, data=data, follow_redirects=True)
    assert "试题已保存" in resp.get_data(as_text=True)
    with app.app_context():
        q = db.session.get(Question, qid)
        assert (q.answer, q.version) == ("A", 2)
        item = db.session.scalar(select(PaperItem).where(PaperItem.question_id == qid))
        assert (item.key, item.question_version) == ("B", 1)  # the exam's paper keeps its key
    # a wrong answer letter is refused with the reason, nothing saved
    resp = client.post(form_url, data=data | {"answer": "F", "csrf_token": token(client, form_url)})
    assert "答案中的选项 F 不存在" in resp.get_data(as_text=True)
    resp = client.post(f"/exams/bank/{qid}/retire", data={"csrf_token": token(client, "/exams/bank")},
                       follow_redirects=True)
    assert "试题已停用" in resp.get_data(as_text=True)
    assert BANK[0][1] not in client.get("/exams/bank").get_data(as_text=True)
    assert BANK[0][1] in client.get("/exams/bank?status=retired").get_data(as_text=True)


def test_exam_page_monitor_extend_force_submit_close_stats(app, runner, client, tmp_path):
    exam_id, (a, b, c) = exam_with_bank(app, runner, tmp_path, 3)
    room = app.test_client()
    ta = room.post("/exam/api/login", json={"id_number": a["id_number"], "code": a["code"]}).get_json()["token"]
    tb = room.post("/exam/api/login", json={"id_number": b["id_number"], "code": b["code"]}).get_json()["token"]
    qs = room.get("/exam/api/paper", headers={"Authorization": f"Bearer {ta}"}).get_json()["questions"]
    single = next(q for q in qs if q["type"] == "single")
    wrong = "A" if KEY[single["stem"]] != "A" else "C"
    for t in (ta, tb):  # each candidate's paper has its own item ids
        mine = room.get("/exam/api/paper", headers={"Authorization": f"Bearer {t}"}).get_json()["questions"]
        qid = next(q["id"] for q in mine if q["stem"] == single["stem"])
        assert room.put(f"/exam/api/answers/{qid}", json={"answer": wrong},
                        headers={"Authorization": f"Bearer {t}"}).status_code == 204
    login(client, app, "clerk")
    url = f"/exams/{exam_id}/online"
    html = client.get(url).get_data(as_text=True)
    assert "考试中" in html and "作答中" in html and "1 / 5" in html and "未登录" in html
    with app.app_context():
        sa = db.session.scalar(select(Sitting).join(Sitting.officer).where(Sitting.code == a["code"]))
        sid = sa.id
    resp = client.post(f"{url}/sittings/{sid}/extend", data={"csrf_token": token(client, url), "minutes": "10",
                                                             "reason": "电脑故障换机"}, follow_redirects=True)
    assert f"已为 {a['name']} 延长 10 分钟" in resp.get_data(as_text=True)
    resp = client.post(f"{url}/sittings/{sid}/extend", data={"csrf_token": token(client, url), "minutes": "5",
                                                             "reason": ""}, follow_redirects=True)
    assert "请填写延时原因" in resp.get_data(as_text=True)
    resp = client.post(f"{url}/sittings/{sid}/submit", data={"csrf_token": token(client, url)}, follow_redirects=True)
    assert f"已为 {a['name']} 强制交卷，得分 0" in resp.get_data(as_text=True)
    assert room.put(f"/exam/api/answers/{single['id']}", json={"answer": KEY[single["stem"]]},
                    headers={"Authorization": f"Bearer {ta}"}).status_code == 409
    # the answer sheet waits for the close: the key stays on the server till then
    resp = client.get(f"{url}/sittings/{sid}/sheet.pdf", follow_redirects=True)
    assert "考试结束后才能查看答题卡" in resp.get_data(as_text=True)
    resp = client.post(f"{url}/close", data={"csrf_token": token(client, url)}, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "自动交卷 1 人，缺考 1 人" in html and "逐题统计" in html
    assert f"{wrong}（2 人）" in html  # the most chosen wrong option of that question
    with app.app_context():
        actions = [e.summary for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert any("延长 10 分钟：电脑故障换机" in s for s in actions)
    assert any(s.startswith("监考强制交卷") for s in actions)
    resp = follow_job(client, client.get(f"{url}/sittings/{sid}/sheet.pdf"))
    assert resp.mimetype == "application/pdf"
    text = pdf_text(resp.data)
    assert "答题卡" in text and a["name"] in text and "监考强制交卷" in text
    assert a["id_number"] not in text


def test_tickets_and_paper_pdfs(app, runner, client, tmp_path):
    exam_id, codes = exam_with_bank(app, runner, tmp_path, 2)
    out = tmp_path / "tickets.pdf"
    res = runner.invoke(args=["exams", "tickets", str(exam_id), "--out", str(out)])
    assert res.exit_code == 0, res.output
    text = pdf_text(out.read_bytes())
    for c in codes:
        assert c["code"] in text and c["name"] in text and c["id_number"] not in text
        assert c["id_number"][:6] + "********" + c["id_number"][-4:] in text
    assert "准考证" in text
    login(client, app, "admin")  # the exam is open: the paper with its key is for administrators
    resp = follow_job(client, client.get(f"/exams/{exam_id}/online/paper.pdf"))
    assert resp.mimetype == "application/pdf"
    text = pdf_text(resp.data)
    assert BANK[2][1] in text and "答案" in text and "ABD" in text
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(client.get(f"/exams/{exam_id}/online/codes.xlsx").data)).active
    assert sorted(ws.cell(r, 4).value for r in (2, 3)) == sorted(c["code"] for c in codes)
    viewer = login(app.test_client(), app, "viewer", username="viewer_user")
    assert viewer.get(f"/exams/{exam_id}/online/paper.pdf").status_code == 403


def test_scores_are_on_the_exam_page_once_the_time_is_up(app, runner, client, tmp_path):
    from datetime import timedelta

    from app.models.online import OnlineExam
    from app.models_base import utcnow

    exam_id, (a, b) = exam_with_bank(app, runner, tmp_path, 2)
    room = app.test_client()
    ta = room.post("/exam/api/login", json={"id_number": a["id_number"], "code": a["code"]}).get_json()["token"]
    q = room.get("/exam/api/paper", headers={"Authorization": f"Bearer {ta}"}).get_json()["questions"][0]
    assert room.put(f"/exam/api/answers/{q['id']}", json={"answer": KEY[q["stem"]]},
                    headers={"Authorization": f"Bearer {ta}"}).status_code == 204
    with app.app_context():
        online = db.session.scalar(select(OnlineExam).where(OnlineExam.exam_id == exam_id))
        online.ends_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    login(client, app, "viewer")
    html = client.get(f"/exams/{exam_id}").get_data(as_text=True)
    assert "参考 1 人，缺考 1 人" in html  # a's paper was submitted with what it held, b is absent
    with app.app_context():
        s = db.session.scalar(select(Sitting).where(Sitting.code == a["code"]))
        assert (s.submitted_by, s.score) == ("timeout", q["points"])
