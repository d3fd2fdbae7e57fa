"""The question bank on the import framework (app/importing/base.py):
`flask import questions`, its template, a title row above the headers, 导入记录 and undo."""

from __future__ import annotations

import io
import re

import openpyxl
from sqlalchemy import func, select

from app.extensions import db
from app.models.imports import ImportBatch
from app.models.online import Question
from tests.conftest import csrf_from, login, token
from tests.online_data import BANK, HEADERS, csv_bytes, exam_with_bank
from tests.sheets import xlsx


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Question))


def _titled(tmp_path, rows, name="题库.xlsx"):
    return xlsx(tmp_path / name, [HEADERS, *rows], title="2026年法治理论考试题库")


def test_title_row_above_the_headers_is_skipped_by_both_commands(app, runner, tmp_path):
    bad = _titled(tmp_path, [BANK[0], ["单选", "", "甲", "乙", "", "", "A", "", "", ""],
                             ["多选", "多选只答一个", "甲", "乙", "丙", "", "A", "", "", ""]], "bad.xlsx")
    for args in (["import", "questions"], ["exams", "import-questions"]):
        res = runner.invoke(args=[*args, str(bad)])
        assert res.exit_code == 1, res.output
        # rows as Excel shows them: title on row 1, headers on row 2, the first question on row 3
        assert "第 4 行，列“题干”：题干不能为空" in res.output
        assert "第 5 行，列“答案”：多选题的答案至少要有两个字母" in res.output
        assert "未知的列" not in res.output
    assert _count(app) == 0
    good = _titled(tmp_path, BANK)
    res = runner.invoke(args=["exams", "import-questions", str(good), "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "校验通过（未写入）：将新增 5 道、更新 0 道试题" in res.output
    res = runner.invoke(args=["import", "questions", str(good)])
    assert res.exit_code == 0, res.output
    assert "导入试题 5 条（新增 5，更新 0）" in res.output
    assert _count(app) == 5


def test_flask_import_questions_dry_run_ignore_column_and_errors_out(app, runner, tmp_path):
    path = tmp_path / "bank.csv"
    path.write_bytes(csv_bytes([row + ["x"] for row in BANK], HEADERS + ["备注"]))
    res = runner.invoke(args=["import", "questions", str(path), "--dry-run"])
    assert res.exit_code == 0 and "已忽略的列：备注" in res.output
    res = runner.invoke(args=["import", "questions", str(path), "--dry-run", "--ignore-column", "备注"])
    assert res.exit_code == 0, res.output
    assert "仅校验" in res.output and "新增 5" in res.output
    assert _count(app) == 0
    res = runner.invoke(args=["exams", "import-questions", str(path), "--ignore-column", "备注"])
    assert res.exit_code == 0 and "已导入：新增 5 道、更新 0 道试题" in res.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([["单选", "答案没有这个选项", "甲", "乙", "丙", "", "E", "", "", ""]]))
    out = tmp_path / "问题.xlsx"
    res = runner.invoke(args=["exams", "import-questions", str(bad), "--errors-out", str(out)])
    assert res.exit_code == 1
    ws = openpyxl.load_workbook(out).worksheets[0]
    assert ws["A1"].value == "错误说明" and "E 不存在" in ws["A2"].value
    assert _count(app) == 5


def test_template_has_type_drop_down_notes_and_a_valid_example(app, runner, tmp_path):
    out = tmp_path / "试题模板.xlsx"
    res = runner.invoke(args=["import", "template", "questions", "--out", str(out)])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(out)
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]][:3] == ["题型", "题干", "选项A"]
    lists = {str(dv.sqref).split(":")[0]: dv for dv in ws.data_validations.dataValidation}
    assert lists["A2"].type == "list" and lists["A2"].formula1 == '"单选,多选,判断"'
    assert ws["A1"].font.color.rgb.endswith("C00000")  # required
    notes = "\n".join(str(c.value) for row in wb["填写说明"].iter_rows() for c in row if c.value)
    assert "判断：对/错" in notes and "题干和题型与题库中已有试题相同" in notes
    res = runner.invoke(args=["import", "questions", str(out)])  # the example row is never imported
    assert res.exit_code == 1 and "文件中只有模板示例行（第 2 行），没有要导入的数据" in res.output
    ws["B2"] = "行政执法人员应当主动出示什么证件？"  # filled in: the row is valid data
    wb.save(out)
    res = runner.invoke(args=["import", "questions", str(out)])
    assert res.exit_code == 0, res.output
    assert _count(app) == 1


def mapping_form(html):
    """The preview's form as the browser would send it: each column's selected choice."""
    form = {"csrf_token": csrf_from(html)}
    for name, body in re.findall(r'<select[^>]*name="(map:[^"]+)"[^>]*>(.*?)</select>', html, re.S):
        form[name] = re.search(r'<option value="([^"]+)" selected>', body).group(1)
    return form


def _undo(client, batch_id):
    return client.post(f"/imports/history/{batch_id}/undo", data={"csrf_token": token(client, "/imports/history")},
                       follow_redirects=True).get_data(as_text=True)


def _batches(app):
    with app.app_context():
        return db.session.scalars(select(ImportBatch.id).where(ImportBatch.kind == "questions")
                                  .order_by(ImportBatch.id)).all()


def test_history_and_undo_until_a_question_is_used_or_edited(app, runner, client, tmp_path):
    path = tmp_path / "bank.csv"
    path.write_bytes(csv_bytes(BANK))
    assert runner.invoke(args=["exams", "import-questions", str(path)]).exit_code == 0
    login(client, app, "admin")
    (first,) = _batches(app)
    page = client.get("/imports/history").get_data(as_text=True)
    assert "bank.csv" in page and "试题" in page
    assert "试题 5 条" in client.get(f"/imports/history/{first}").get_data(as_text=True)
    html = _undo(client, first)
    assert "删除试题 5 条" in html and _count(app) == 0

    # edited since the import: refused
    assert runner.invoke(args=["import", "questions", str(path)]).exit_code == 0
    second = _batches(app)[-1]
    with app.app_context():
        qid = db.session.scalar(select(Question.id).where(Question.stem == BANK[0][1]))
    url = f"/exams/bank/{qid}/edit"
    form = {"csrf_token": token(client, url), "type": "single", "stem": BANK[0][1], "option_a": "一名",
            "option_b": "两名以上", "option_c": "三名", "option_d": "不限", "option_e": "", "option_f": "",
            "answer": "B", "points": "2", "category": "公共法律知识", "basis": "改过了"}
    assert "试题已保存" in client.post(url, data=form, follow_redirects=True).get_data(as_text=True)
    html = _undo(client, second)
    assert "不能撤销这次导入：导入后已有 1 条试题被修改，不能撤销" in html
    assert _count(app) == 5


def test_undo_refused_once_a_question_is_on_a_paper(app, runner, client, tmp_path):
    exam_id, _codes = exam_with_bank(app, runner, tmp_path, 1, open_now=False)
    login(client, app, "admin")
    (batch_id,) = _batches(app)
    html = _undo(client, batch_id)
    assert "不能撤销这次导入：导入的试题中已有 5 道用于考试的试卷，不能撤销" in html
    assert _count(app) == 5


def test_reimport_with_changes_cannot_be_undone(app, runner, client, tmp_path):
    path = tmp_path / "bank.csv"
    path.write_bytes(csv_bytes(BANK))
    assert runner.invoke(args=["exams", "import-questions", str(path)]).exit_code == 0
    changed = [list(BANK[0])]
    changed[0][4] = "三名以上"
    path.write_bytes(csv_bytes(changed + [list(BANK[1])]))
    res = runner.invoke(args=["exams", "import-questions", str(path)])
    assert res.exit_code == 0
    assert "已导入：新增 0 道、更新 2 道试题（其中 1 道内容无变化）" in res.output
    login(client, app, "admin")
    html = _undo(client, _batches(app)[-1])
    assert "本次导入更新了 1 条已有记录" in html
    assert _count(app) == 5


def test_wizard_offers_questions_and_the_bank_page_links_to_it(app, client, tmp_path):
    login(client, app, "clerk")
    html = client.get("/imports?kind=questions").get_data(as_text=True)
    assert '<option selected value="questions">试题</option>' in html
    assert "/imports/template/questions.xlsx" in html
    page = client.get("/exams/bank/import").get_data(as_text=True)
    assert "/imports?kind=questions" in page and "/imports/template/questions.xlsx" in page
    path = _titled(tmp_path, BANK)
    form = {"csrf_token": token(client, "/imports"), "kind": "questions",
            "file": (io.BytesIO(path.read_bytes()), path.name)}
    resp = client.post("/imports/upload", data=form, content_type="multipart/form-data")
    url = resp.headers["Location"]
    preview = client.get(url).get_data(as_text=True)
    assert "行政处罚由几名执法人员实施？" in preview
    html = client.post(url + "/check", data=mapping_form(preview)).get_data(as_text=True)
    assert "检查通过：试题 5 条（新增 5，更新 0）" in html
    client.post(url + "/import", data={"csrf_token": token(client, url)})
    assert _count(app) == 5
