"""Who sees the question bank's answer key: viewers never; clerks not for questions on the paper of
an exam in progress; administrators always. Every route that shows answers, as each role."""

from __future__ import annotations

import io

import lxml.html
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models.online import Question, Sitting
from tests.conftest import follow_job, login, token
from tests.online_data import BANK, exam_with_bank

SPARE_STEM = "不在试卷上的备用题：行政复议期限为多少日？"


def pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def bank_answers(client) -> dict[str, str] | None:
    """The bank page's 答案 column by stem (None when the page has no such column)."""
    resp = client.get("/exams/bank?status=all")
    assert resp.status_code == 200
    tree = lxml.html.fromstring(resp.get_data(as_text=True))
    heads = [th.text_content().strip() for th in tree.xpath('//table[@id="bank"]/thead/tr/th')]
    if "答案" not in heads:
        return None
    col, stem_col = heads.index("答案"), heads.index("题干")
    out = {}
    for tr in tree.xpath('//table[@id="bank"]/tbody/tr'):
        cells = tr.xpath("./td")
        stem = cells[stem_col].text.strip()
        out[stem] = cells[col].text_content().strip()
    return out


def setup_exam(app, runner, tmp_path, *, open_now=True):
    """The five BANK questions on the open exam's fixed paper, and one spare question (answer D)."""
    exam_id, codes = exam_with_bank(app, runner, tmp_path, 1, open_now=open_now)
    with app.app_context():
        spare = Question(type="single", stem=SPARE_STEM, options={"A": "15", "B": "30", "C": "45", "D": "60"},
                         answer="D", category="公共法律知识", basis="", retired=False, version=1)
        db.session.add(spare)
        db.session.commit()
        ids = {q.stem: q.id for q in db.session.scalars(select(Question))}
    return exam_id, codes, ids


def clients(app):
    return {role: login(app.test_client(), app, role, username=f"{role}_k") for role in ("viewer", "clerk", "admin")}


def close(app, client, exam_id):
    url = f"/exams/{exam_id}/online"
    resp = client.post(f"{url}/close", data={"csrf_token": token(client, url)}, follow_redirects=True)
    assert "考试已结束" in resp.get_data(as_text=True)


def test_bank_page_and_question_form_by_role_while_an_exam_is_in_progress(app, runner, tmp_path):
    exam_id, _codes, ids = setup_exam(app, runner, tmp_path)
    c = clients(app)
    on_paper = {row[1]: row[6] for row in BANK}

    # viewer: no 答案 column at all, no answer anywhere on the page, no form
    assert bank_answers(c["viewer"]) is None
    assert "ABD" not in c["viewer"].get("/exams/bank?status=all").get_data(as_text=True)
    assert c["viewer"].get(f"/exams/bank/{ids[SPARE_STEM]}/edit").status_code == 403

    # clerk: the spare question's answer; those on the paper being answered withheld
    shown = bank_answers(c["clerk"])
    assert shown[SPARE_STEM] == "D"
    for stem in on_paper:
        assert shown[stem] == "考试进行中，不显示"
    assert "ABD" not in c["clerk"].get("/exams/bank?status=all").get_data(as_text=True)
    resp = c["clerk"].get(f"/exams/bank/{ids[BANK[2][1]]}/edit", follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "考试结束前，只有管理员可以查看或修改它" in html and 'value="ABD"' not in html
    page = c["clerk"].get(f"/exams/bank/{ids[SPARE_STEM]}/edit").get_data(as_text=True)
    assert 'value="D"' in page  # a question on no open paper: the form as ever

    # admin: every answer
    shown = bank_answers(c["admin"])
    assert shown == {**{stem: key for stem, key in on_paper.items()}, SPARE_STEM: "D"}
    assert 'value="ABD"' in c["admin"].get(f"/exams/bank/{ids[BANK[2][1]]}/edit").get_data(as_text=True)

    # once the exam is closed the clerk sees them again; the viewer still does not
    close(app, c["admin"], exam_id)
    assert bank_answers(c["clerk"]) == {**on_paper, SPARE_STEM: "D"}
    assert bank_answers(c["viewer"]) is None


def test_paper_with_key_pdf_by_role(app, runner, tmp_path):
    exam_id, _codes, _ids = setup_exam(app, runner, tmp_path)
    c = clients(app)
    url = f"/exams/{exam_id}/online/paper.pdf"
    assert c["viewer"].get(url).status_code == 403
    page = c["viewer"].get(f"/exams/{exam_id}/online").get_data(as_text=True)
    assert "paper.pdf" not in page
    # the clerk, while the exam is in progress: refused, no file
    resp = c["clerk"].get(url, follow_redirects=True)
    assert resp.mimetype == "text/html" and "考试进行中：含答案的试卷只有管理员可以打印" in resp.get_data(as_text=True)
    assert "paper.pdf" not in c["clerk"].get(f"/exams/{exam_id}/online").get_data(as_text=True)
    # the admin may
    resp = follow_job(c["admin"], c["admin"].get(url))
    assert resp.mimetype == "application/pdf" and "ABD" in pdf_text(resp.data)
    close(app, c["admin"], exam_id)
    resp = follow_job(c["clerk"], c["clerk"].get(url))
    assert resp.mimetype == "application/pdf" and "ABD" in pdf_text(resp.data)
    assert c["viewer"].get(url).status_code == 403


def test_paper_pdf_before_the_exam_opens_is_for_clerks(app, runner, tmp_path):
    exam_id, _codes, _ids = setup_exam(app, runner, tmp_path, open_now=False)
    c = clients(app)
    resp = follow_job(c["clerk"], c["clerk"].get(f"/exams/{exam_id}/online/paper.pdf"))
    assert resp.mimetype == "application/pdf" and "ABD" in pdf_text(resp.data)


def test_answer_sheet_pdf_by_role(app, runner, tmp_path):
    exam_id, (cand,), _ids = setup_exam(app, runner, tmp_path)
    room = app.test_client()
    tok = room.post("/exam/api/login", json={"id_number": cand["id_number"], "code": cand["code"]}).get_json()["token"]
    assert room.post("/exam/api/submit", headers={"Authorization": f"Bearer {tok}"}).status_code == 200
    c = clients(app)
    close(app, c["admin"], exam_id)
    with app.app_context():
        sid = db.session.scalar(select(Sitting.id).where(Sitting.exam_id == exam_id))
    url = f"/exams/{exam_id}/online/sittings/{sid}/sheet.pdf"
    assert c["viewer"].get(url).status_code == 403
    assert "sheet.pdf" not in c["viewer"].get(f"/exams/{exam_id}/online").get_data(as_text=True)
    for role in ("clerk", "admin"):
        assert "sheet.pdf" in c[role].get(f"/exams/{exam_id}/online").get_data(as_text=True)
        resp = follow_job(c[role], c[role].get(url))
        assert resp.mimetype == "application/pdf"
        text = pdf_text(resp.data)
        assert "答案" in text and "ABD" in text


def test_bank_export_by_role(app, runner, tmp_path):
    setup_exam(app, runner, tmp_path)
    c = clients(app)
    url = "/imports/export/questions.xlsx"
    assert c["viewer"].get(url).status_code == 403
    assert c["clerk"].get(url).status_code == 403
    resp = c["admin"].get(url)
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = list(ws.iter_rows(values_only=True))
    col = rows[0].index("答案")
    assert "ABD" in [r[col] for r in rows[1:]]
