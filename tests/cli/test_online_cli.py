"""`flask exams …`: the bank import's refusals, the paper rule's checks, codes and results."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from app.extensions import db
from app.models.online import Question
from tests.online_data import BANK, HEADERS, csv_bytes, exam_with_bank


def _import(runner, tmp_path, rows, *extra, headers=HEADERS, name="bank.csv"):
    path = tmp_path / name
    path.write_bytes(csv_bytes(rows, headers))
    return runner.invoke(args=["exams", "import-questions", str(path), *extra])


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Question))


def test_import_refuses_every_bad_row_and_writes_nothing(app, runner, tmp_path):
    rows = [
        BANK[0],
        ["单选", "", "甲", "乙", "", "", "A", "", "", ""],                    # row 3: empty stem
        ["单选", "答案没有这个选项", "甲", "乙", "丙", "", "E", "", "", ""],   # row 4: no option E
        ["多选", "多选只答一个", "甲", "乙", "丙", "", "A", "", "", ""],       # row 5: one letter
        ["单选", "单选答两个", "甲", "乙", "丙", "", "AB", "", "", ""],         # row 6: two letters
        ["判断", "判断答案看不懂", "", "", "", "", "也许", "", "", ""],          # row 7
        ["单选", "只有一个选项", "甲", "", "", "", "A", "", "", ""],            # row 8
        ["单选", BANK[0][1], "一名", "两名以上", "", "", "B", "", "", ""],       # row 9: same as row 2
    ]
    res = _import(runner, tmp_path, rows)
    assert res.exit_code == 1
    out = res.output
    assert "第 3 行，列“题干”：题干不能为空" in out
    assert "第 4 行，列“答案”" in out and "E 不存在" in out
    assert "第 5 行，列“答案”：多选题的答案至少要有两个字母" in out
    assert "第 6 行，列“答案”：单选题的答案只能是一个字母" in out
    assert "第 7 行，列“答案”：判断题的答案“也许”无法识别" in out
    assert "第 8 行，列“选项A”：选择题至少要有两个选项" in out
    assert "第 9 行，列“题干”：与第 2 行的题干和题型相同" in out
    assert "未写入任何数据" in out
    assert _count(app) == 0


def test_import_writes_then_updates_same_stem_and_type(app, runner, tmp_path):
    res = _import(runner, tmp_path, BANK, "--dry-run")
    assert res.exit_code == 0 and "将新增 5 道" in res.output
    assert _count(app) == 0
    res = _import(runner, tmp_path, BANK)
    assert res.exit_code == 0 and "新增 5 道" in res.output
    changed = [list(BANK[0]), ["判断", "当事人有权陈述和申辩。", "", "", "", "", "√", "", "", ""],
               ["多选", "新的多选题", "甲", "乙", "丙", "", "c, a", "", "", ""]]
    changed[0][4] = "三名以上"
    res = _import(runner, tmp_path, changed, headers=HEADERS, name="again.csv")
    assert res.exit_code == 0, res.output
    assert "新增 1 道、更新 2 道" in res.output
    with app.app_context():
        q = db.session.scalar(select(Question).where(Question.stem == BANK[0][1]))
        assert q.options["C"] == "三名以上" and q.version == 2
        assert db.session.scalar(select(Question.answer).where(Question.stem == "新的多选题")) == "AC"
    assert _count(app) == 6


def test_import_english_headers_and_true_false_spellings(app, runner, tmp_path):
    rows = [["true_false", f"判断题{i}", "", "", "", "", word, "", "", ""]
            for i, word in enumerate(["对", "错", "正确", "错误", "√", "×", "T", "F"])]
    headers = ["type", "stem", "option_a", "option_b", "option_c", "option_d", "answer", "points",
               "category", "basis"]
    res = _import(runner, tmp_path, rows, headers=headers)
    assert res.exit_code == 0, res.output
    with app.app_context():
        answers = db.session.scalars(select(Question.answer).order_by(Question.id)).all()
    assert answers == ["对", "错"] * 4


def test_paper_rule_sum_must_equal_max_score(app, runner, tmp_path):
    exam_id, _ = exam_with_bank(app, runner, tmp_path, 1, open_now=False)
    res = runner.invoke(args=["exams", "paper", str(exam_id), "--rule", "单选=2x2", "--rule", "多选=1x3"])
    assert res.exit_code == 1
    assert "各规则合计 7 分" in res.output and "与考试满分 10 分不符" in res.output


def test_paper_rule_asking_more_than_the_bank_holds(app, runner, tmp_path):
    exam_id, _ = exam_with_bank(app, runner, tmp_path, 1, open_now=False)
    res = runner.invoke(args=["exams", "paper", str(exam_id), "--rule", "单选=5x2"])
    assert res.exit_code == 1
    assert "单选题要 5 道，但题库中可用的单选题只有 2 道" in res.output
    res = runner.invoke(args=["exams", "paper", str(exam_id), "--rule", "单选:专门法律知识=1x6",
                              "--rule", "多选=1x4"])
    assert res.exit_code == 1
    assert "“专门法律知识”类的单选题只有 0 道" in res.output


def test_codes_are_eight_unambiguous_characters_per_candidate(app, runner, tmp_path):
    exam_id, codes = exam_with_bank(app, runner, tmp_path, 3, open_now=False)
    assert [c["seat"] for c in codes] == [1, 2, 3]
    for c in codes:
        assert set(c) == {"id_number", "name", "seat", "code"}
        assert len(c["code"]) == 8 and not set(c["code"]) & set("0O1IL")
    again = json.loads(runner.invoke(args=["exams", "codes", str(exam_id), "--format", "json"]).output)
    assert again == codes  # stable: printing twice does not change anyone's code
    out = tmp_path / "codes.xlsx"
    res = runner.invoke(args=["exams", "codes", str(exam_id), "--format", "xlsx", "--out", str(out)])
    assert res.exit_code == 0
    from openpyxl import load_workbook

    ws = load_workbook(out).active
    assert [c.value for c in ws[1]] == ["身份证号", "姓名", "座位号", "登录码"]
    assert ws.cell(2, 4).value == codes[0]["code"]


def test_create_prints_id_alone_on_last_line(runner):
    res = runner.invoke(args=["exams", "create", "新任领导干部法治考试", "--date", "2026-06-20"])
    assert res.exit_code == 0
    assert res.output.strip().splitlines()[-1].isdigit()
    bad = runner.invoke(args=["exams", "create", "", "--date", "2026-06-20"])
    assert bad.exit_code == 1 and "考试名称不能为空" in bad.output


def test_open_at_a_beijing_time(app, runner, client, tmp_path):
    from datetime import timedelta

    from app.models_base import utcnow

    exam_id, (a,) = exam_with_bank(app, runner, tmp_path, 1, open_now=False)
    bad = runner.invoke(args=["exams", "open", str(exam_id), "--minutes", "30", "--at", "明天上午"])
    assert bad.exit_code == 2 and "北京时间" in bad.output
    later = utcnow() + timedelta(hours=8) + timedelta(hours=2)  # two hours from now, Beijing time
    at = later.strftime("%Y-%m-%d %H:%M")
    res = runner.invoke(args=["exams", "open", str(exam_id), "--minutes", "30", "--at", at])
    assert res.exit_code == 0
    assert f"{later.year}年{later.month}月{later.day}日 {later:%H:%M}" in res.output
    resp = client.post("/exam/api/login", json={"id_number": a["id_number"], "code": a["code"]})
    assert resp.status_code == 403 and resp.get_json()["error"] == "考试尚未开始"
