"""`flask import attendance|scores` (all or nothing) and `flask report annual|training`."""

from __future__ import annotations

import json
from datetime import date

import openpyxl
import pytest
from sqlalchemy import func, select

from app.exams.models import Exam, ExamResult
from app.extensions import db as _db
from app.training.models import Attendance, TrainingSession
from tests.factories import OfficerFactory, id_number


@pytest.fixture
def people(app):
    with app.app_context():
        a = OfficerFactory(name="张三")
        b = OfficerFactory(name="李四")
        _db.session.commit()
        return a.id_number, b.id_number


def write_csv(path, rows):
    path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8-sig")
    return str(path)


def counts(app):
    with app.app_context():
        return tuple(_db.session.scalar(select(func.count()).select_from(m))
                     for m in (TrainingSession, Attendance, Exam, ExamResult))


def test_import_attendance_creates_sessions_and_rows(app, runner, people, tmp_path):
    a, b = people
    f = write_csv(tmp_path / "att.csv", [
        ["培训名称", "培训日期", "培训类别", "学时", "身份证号", "出勤情况", "认定学时"],
        ["宪法讲座", "2025/3/1", "法治讲座", "4", a, "", ""],
        ["宪法讲座", "2025年3月1日", "", "4", b, "请假", ""],
        ["旁听庭审", "2025-06-01", "旁听庭审", "3", a, "出席", "2.5"],
    ])
    result = runner.invoke(args=["import", "attendance", f])
    assert result.exit_code == 0, result.output
    assert "培训 2 次（新建 2），出勤记录 3 条" in result.output
    with app.app_context():
        rows = {(at.session.title, at.officer.name): (at.status, at.credited_hours)
                for at in _db.session.scalars(select(Attendance))}
    assert rows == {("宪法讲座", "张三"): ("attended", 4.0), ("宪法讲座", "李四"): ("excused", 0.0),
                    ("旁听庭审", "张三"): ("attended", 2.5)}
    # English headers, same session again: identified by title + date, updated in place
    f2 = write_csv(tmp_path / "att2.csv", [["title", "date", "hours", "id_number", "status"],
                                            ["宪法讲座", "2025-03-01", "4", b, "attended"]])
    result = runner.invoke(args=["import", "attendance", f2])
    assert result.exit_code == 0, result.output
    assert counts(app)[:2] == (2, 3)


@pytest.mark.parametrize(("row", "problem"), [
    (["讲座", "2025-03-01", "法治讲座", "4", "UNKNOWN"], "第 3 行，列“身份证号”"),
    (["讲座", "2025-03-01", "法治讲座", "0", None], "第 3 行，列“学时”：学时必须大于0"),
    (["讲座", "2025-03-01", "法治讲座", "-2", None], "第 3 行，列“学时”：学时必须大于0"),
    (["讲座", "2025-03-01", "喝茶", "4", None], "第 3 行，列“培训类别”：未知的培训类别“喝茶”"),
])
def test_import_attendance_refused_writes_nothing(app, runner, people, tmp_path, row, problem):
    a, b = people
    unknown = id_number(date(1990, 1, 1))
    row = [c if c != "UNKNOWN" else unknown for c in row]
    row[4] = row[4] or b
    f = write_csv(tmp_path / "bad.csv", [["培训名称", "培训日期", "培训类别", "学时", "身份证号"],
                                          ["好讲座", "2025-02-01", "法治讲座", "2", a], row])
    result = runner.invoke(args=["import", "attendance", f])
    assert result.exit_code == 1
    assert problem in result.output
    assert "未写入任何数据" in result.output
    assert counts(app) == (0, 0, 0, 0)


def test_import_scores_with_makeup(app, runner, people, tmp_path):
    a, b = people
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["考试名称", "考试日期", "考试类型", "满分", "合格分数", "身份证号", "成绩", "补考对应考试"])
    ws.append(["资格考试", date(2025, 5, 1), "资格考试", 100, 60, a, 80, None])
    ws.append(["资格考试", date(2025, 5, 1), None, None, None, b, "缺考", None])
    ws.append(["资格考试补考", "2025-06-01", None, None, None, b, 61, "资格考试"])
    wb.save(tmp_path / "s.xlsx")
    result = runner.invoke(args=["import", "scores", str(tmp_path / "s.xlsx")])
    assert result.exit_code == 0, result.output
    assert "考试 2 场（新建 2），成绩 3 条" in result.output
    with app.app_context():
        m = _db.session.scalar(select(Exam).where(Exam.title == "资格考试补考"))
        assert m.makeup_of.title == "资格考试" and m.kind == "qualification"
        res = {(r.exam.title, r.officer.name): (r.score, r.absent, r.passed) for r in _db.session.scalars(select(ExamResult))}
    assert res == {("资格考试", "张三"): (80, False, True), ("资格考试", "李四"): (None, True, False),
                   ("资格考试补考", "李四"): (61, False, True)}


@pytest.mark.parametrize(("row", "problem"), [
    (["考试", "2025-05-01", "100", "MISSING", "90"], "第 3 行，列“身份证号”"),
    (["考试", "2025-05-01", "100", None, "101"], "第 3 行，列“成绩”：成绩应在0到满分100之间"),
    (["考试", "2025-05-01", "50", None, "51"], "列“成绩”：成绩应在0到满分50之间"),
])
def test_import_scores_refused_writes_nothing(app, runner, people, tmp_path, row, problem):
    a, b = people
    row = [id_number(date(1991, 2, 2)) if c == "MISSING" else c for c in row]
    row[3] = row[3] or b
    f = write_csv(tmp_path / "bad.csv", [["考试名称", "考试日期", "满分", "身份证号", "成绩"],
                                          ["考试", "2025-05-01", row[2], a, "80"], row])
    result = runner.invoke(args=["import", "scores", f])
    assert result.exit_code == 1, result.output
    assert problem in result.output
    assert counts(app) == (0, 0, 0, 0)


def test_import_scores_unknown_makeup_and_unknown_column(app, runner, people, tmp_path):
    a, _b = people
    f = write_csv(tmp_path / "m.csv", [["考试名称", "考试日期", "身份证号", "成绩", "补考对应考试"],
                                        ["补考", "2025-06-01", a, "70", "不存在的考试"]])
    result = runner.invoke(args=["import", "scores", f])
    assert result.exit_code == 1 and "没有名为“不存在的考试”且早于本次考试的考试" in result.output
    f = write_csv(tmp_path / "c.csv", [["考试名称", "考试日期", "身份证号", "分数"], ["x", "2025-06-01", a, "70"]])
    result = runner.invoke(args=["import", "scores", f])
    assert result.exit_code == 1 and "未知的列“分数”" in result.output
    assert counts(app) == (0, 0, 0, 0)


def test_report_annual_json_and_training(app, runner, people, tmp_path):
    a, b = people
    f = write_csv(tmp_path / "att.csv", [["培训名称", "培训日期", "培训类别", "学时", "身份证号", "认定学时"],
                                          ["讲座", "2023-03-01", "法治讲座", "40", a, ""],
                                          ["讲座", "2023-03-01", "法治讲座", "40", b, "20"],
                                          ["通用法律", "2023-05-01", "通用法律知识", "20", a, ""]])
    assert runner.invoke(args=["import", "attendance", f]).exit_code == 0
    result = runner.invoke(args=["report", "annual", "--year", "2023", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["year"] == 2023
    assert data["training"] == {"sessions": 2, "participants": 2, "person_times": 3, "hours": 80.0,
                                "by_category": {"general_law": 1, "lecture": 1}}
    assert data["exams"] == {"held": 0, "takers": 0, "passed": 0, "pass_rate": 0}
    assert set(data["certificates"]) >= {"effective_at_year_end", "issued", "suspended", "cancelled", "revoked"}
    assert data["officers"] == {"on_post_at_year_end": 2, "training_shortfall": 1}
    result = runner.invoke(args=["report", "training", "--year", "2023", "--format", "json"])
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["张三"]["hours"] == 60 and rows["张三"]["shortfall"] is False and rows["张三"]["required"] == 60
    assert rows["李四"]["hours"] == 20 and rows["李四"]["shortfall"] is True
    assert set(rows["李四"]) == {"officer_id", "name", "unit", "hours", "required", "shortfall"}
    table = runner.invoke(args=["report", "annual", "--year", "2023"])
    assert table.exit_code == 0 and "参训人次" in table.output and "法治讲座" in table.output
    out = tmp_path / "a.xlsx"
    assert runner.invoke(args=["report", "annual", "--year", "2023", "--format", "xlsx", "--out", str(out)]).exit_code == 0
    ws = openpyxl.load_workbook(out).active
    assert ["参训人次", 3] in [[c.value for c in r] for r in ws.iter_rows()]
    assert runner.invoke(args=["report", "annual", "--year", "2023", "--format", "xlsx"]).exit_code == 2
