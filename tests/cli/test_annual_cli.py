"""`flask import attendance|scores` (all or nothing) and `flask report annual|training`."""

from __future__ import annotations

import json
from datetime import date

import openpyxl
import pytest
from sqlalchemy import func, select

from app.extensions import db as _db
from app.models.exams import Exam, ExamResult
from app.models.training import Attendance, TrainingSession
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


def test_import_attendance_with_only_the_required_columns(app, runner, people, tmp_path):
    """培训类别 and 出勤情况 are optional: a new session gets 通用法律知识, rows count as 出席."""
    a, b = people
    f = write_csv(tmp_path / "min.csv", [["培训名称", "培训日期", "学时", "身份证号"],
                                          ["依法行政", "2025-04-01", "3", a], ["依法行政", "2025-04-01", "3", b]])
    result = runner.invoke(args=["import", "attendance", f])
    assert result.exit_code == 0, result.output
    with app.app_context():
        s = _db.session.scalar(select(TrainingSession))
        assert (s.title, s.category, s.hours) == ("依法行政", "general_law", 3.0)
        assert sorted((at.status, at.credited_hours) for at in s.attendances) == [("attended", 3.0)] * 2


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
        res = {(r.exam.title, r.officer.name): (r.score, r.absent, r.passed)
               for r in _db.session.scalars(select(ExamResult))}
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
    assert counts(app) == (0, 0, 0, 0)
    # 分数 is another name of 成绩; a column no importer knows is left out and named
    f = write_csv(tmp_path / "c.csv", [["考试名称", "考试日期", "身份证号", "分数", "监考"],
                                        ["x", "2025-06-01", a, "70", "王老师"]])
    result = runner.invoke(args=["import", "scores", f])
    assert result.exit_code == 0, result.output
    assert "已忽略的列：监考" in result.output
    with app.app_context():
        assert _db.session.scalar(select(ExamResult.score)) == 70


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
                                "by_category": {"general_law": 1, "lecture": 1}, "counted_hours": 80.0,
                                "online_dropped": 0.0, "average_hours": 40.0, "by_group": {"公共法律知识": 80}}
    assert data["exams"] == {"held": 0, "takers": 0, "passed": 0, "pass_rate": 0, "by_exam": []}
    assert set(data["certificates"]) >= {"effective_at_year_end", "issued", "suspended", "cancelled", "revoked"}
    assert data["officers"] == {"on_post_at_year_end": 2, "training_shortfall": 1}
    result = runner.invoke(args=["report", "training", "--year", "2023", "--format", "json"])
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["张三"]["hours"] == 60 and rows["张三"]["shortfall"] == 0 and rows["张三"]["required"] == 60
    assert rows["李四"]["hours"] == 20 and rows["李四"]["shortfall"] == 40
    assert set(rows["李四"]) == {"officer_id", "name", "unit", "hours", "required", "judged", "shortfall", "counted",
                                "by_group", "online_counted", "online_dropped", "meets", "missing", "total_gap"}
    table = runner.invoke(args=["report", "annual", "--year", "2023"])
    assert table.exit_code == 0 and "参训人次" in table.output and "法治讲座" in table.output
    out = tmp_path / "a.xlsx"
    assert runner.invoke(args=["report", "annual", "--year", "2023", "--format", "xlsx",
                               "--out", str(out)]).exit_code == 0
    ws = openpyxl.load_workbook(out).active
    assert ["参训人次", 3] in [[c.value for c in r] for r in ws.iter_rows()]
    assert runner.invoke(args=["report", "annual", "--year", "2023", "--format", "xlsx"]).exit_code == 2


def test_annual_training_report_and_flags_on_a_hand_built_year(app, runner, tmp_path):
    """Everything through the CLI imports; every figure worked out by hand below."""
    ids = {n: id_number(date(1980 + i, 3, 4)) for i, n in enumerate(["张一", "王二", "李三", "赵四", "钱五", "孙六"])}
    i1, i2, i3, i4, i5, i6 = ids.values()
    files = {
        "officers": [["姓名", "身份证号", "单位", "编制类型", "执法岗位", "在职状态"],
                     ["张一", i1, "执法一队", "行政编制", "是", "在职"],
                     ["王二", i2, "执法一队", "行政编制", "是", "在职"],
                     ["李三", i3, "执法二队", "事业编制", "是", "在职"],
                     ["赵四", i4, "执法二队", "行政编制", "否", "在职"],
                     ["钱五", i5, "执法一队", "行政编制", "是", "退休"],
                     ["孙六", i6, "执法二队", "合同制", "是", "在职"]],
        "certificates": [["身份证号", "证件类型", "证件编号", "发证日期", "有效期至", "状态", "状态日期"],
                         [i1, "行政执法证", "C1", "2020-01-01", "2025-06-30", "有效", ""],
                         [i2, "行政执法证", "C2", "2019-01-01", "2024-06-30", "有效", ""],  # expired mid-year
                         [i2, "行政执法证", "C2b", "2024-07-01", "2029-06-30", "有效", ""],  # issued 2024
                         [i3, "行政执法证", "C3", "2022-01-01", "2027-01-01", "暂扣", "2024-11-01"],
                         [i4, "行政执法证", "C4", "2021-05-01", "2026-05-01", "注销", "2024-03-15"],
                         [i5, "行政执法证", "C5", "2023-02-01", "2028-02-01", "吊销", "2025-01-10"],  # valid 12-31
                         [i6, "行政执法证", "C6", "2024-03-01", "2029-03-01", "申领中", ""],  # no issue event
                         [i1, "行政执法监督证", "C7", "2024-02-01", "2029-02-01", "有效", ""],  # not enforcement
                         [i6, "行政执法证", "C8", "2018-01-01", "2023-12-31", "吊销", "2024-02-02"]],
        "attendance": [["培训名称", "培训日期", "培训类别", "学时", "身份证号", "出勤情况", "认定学时"],
                       ["宪法讲座", "2024-03-01", "法治讲座", "4", i1, "出席", ""],
                       ["宪法讲座", "2024-03-01", "法治讲座", "4", i2, "出席", "3"],
                       ["宪法讲座", "2024-03-01", "法治讲座", "4", i3, "缺席", ""],
                       ["宪法讲座", "2024-03-01", "法治讲座", "4", i4, "", ""],
                       ["行政处罚法", "2024-05-10", "通用法律知识", "30", i1, "出席", ""],
                       ["行政处罚法", "2024-05-10", "通用法律知识", "30", i2, "出席", ""],
                       ["行政处罚法", "2024-05-10", "通用法律知识", "30", i3, "请假", ""],
                       ["旁听庭审", "2024-09-09", "旁听庭审", "26", i1, "出席", ""],
                       ["旁听庭审", "2024-09-09", "旁听庭审", "26", i3, "出席", ""],
                       ["旁听庭审", "2024-09-09", "旁听庭审", "26", i5, "出席", ""],
                       ["年末讲座", "2023-12-30", "法治讲座", "8", i2, "出席", ""],
                       ["政治学习", "2024-10-01", "政治理论", "2", i6, "缺席", ""]],
        "scores": [["考试名称", "考试日期", "考试类型", "满分", "合格分数", "身份证号", "成绩", "补考对应考试"],
                   ["资格考试", "2024-04-01", "资格考试", "100", "60", i1, "80", ""],
                   ["资格考试", "2024-04-01", "资格考试", "100", "60", i2, "59.5", ""],
                   ["资格考试", "2024-04-01", "资格考试", "100", "60", i3, "缺考", ""],
                   ["资格考试", "2024-04-01", "资格考试", "100", "60", i6, "60", ""],
                   ["资格考试补考", "2024-05-01", "", "", "", i2, "70", "资格考试"],
                   ["资格考试补考", "2024-05-01", "", "", "", i3, "50", "资格考试"],
                   ["年度考试", "2024-11-01", "年度法治理论考试", "50", "30", i1, "45", ""],
                   ["年度考试", "2024-11-01", "年度法治理论考试", "50", "30", i4, "29", ""],
                   ["2025考试", "2025-01-05", "资格考试", "", "", i5, "90", ""]],
    }
    for kind, rows in files.items():
        result = runner.invoke(args=["import", kind, write_csv(tmp_path / f"{kind}.csv", rows),
                                     "--today", "2026-06-15"])
        assert result.exit_code == 0, result.output

    data = json.loads(runner.invoke(args=["report", "annual", "--year", "2024", "--format", "json"]).output)
    # sessions: 4 in 2024 (年末讲座 is 2023); attended rows 3 + 2 + 3 = 8 by 5 people (张一 王二 赵四 李三 钱五);
    # person-hours (4 + 3 + 4) + (30 + 30) + (26 * 3) = 149
    # average 149 / 5 = 29.8; every category is 公共法律知识 (the default groups)
    assert data["training"] == {"sessions": 4, "participants": 5, "person_times": 8, "hours": 149.0,
                                "by_category": {"general_law": 1, "lecture": 1, "court_observation": 1,
                                                "political": 1}, "counted_hours": 149.0, "online_dropped": 0.0,
                                "average_hours": 29.8, "by_group": {"公共法律知识": 149}}
    # takers: 张一 王二 孙六 李三 (make-up 50) 赵四; passed: 张一, 孙六 (exactly 60), 王二 (make-up)
    exams = data["exams"]
    assert {k: exams[k] for k in ("held", "takers", "passed", "pass_rate")} == {
        "held": 3, "takers": 5, "passed": 3, "pass_rate": 0.6}
    # each exam: 资格考试 张一 王二 孙六 took (李三 absent), 张一 孙六 passed; the make-up 王二 passed,
    # 李三 failed; 年度考试 张一 passed, 赵四 failed (29 of pass 30)
    assert [(x["title"], x["takers"], x["passed"], x["pass_rate"]) for x in exams["by_exam"]] == [
        ("资格考试", 3, 2, 0.6667), ("资格考试补考", 2, 1, 0.5), ("年度考试", 2, 1, 0.5)]
    # effective 12-31 by history: 张一 C1, 王二 C2b, 钱五 C5 (revoked only in 2025)
    assert data["certificates"] == {"effective_at_year_end": 3, "issued": 1, "suspended": 1, "cancelled": 1,
                                    "revoked": 1}
    # on post: 张一 王二 李三 孙六; below 60 hours: 王二 33, 李三 26, 孙六 0
    assert data["officers"] == {"on_post_at_year_end": 4, "training_shortfall": 3}

    rows = json.loads(runner.invoke(args=["report", "training", "--year", "2024", "--format", "json"]).output)
    assert all(set(r) == {"officer_id", "name", "unit", "hours", "required", "judged", "shortfall", "counted",
                          "by_group", "online_counted", "online_dropped", "meets", "missing", "total_gap"}
               for r in rows)
    assert {r["name"]: (r["unit"], r["hours"], r["required"], r["shortfall"]) for r in rows} == {
        "张一": ("执法一队", 60.0, 60, 0), "王二": ("执法一队", 33.0, 60, 27.0),
        "李三": ("执法二队", 26.0, 60, 34.0), "孙六": ("执法二队", 0.0, 60, 60.0)}

    flags = json.loads(runner.invoke(args=["report", "flags", "--format", "json", "--today", "2025-03-01"]).output)
    short = {f["name"]: (f["reason"], f["year"]) for f in flags if f["flag"] == "TRAINING_SHORTFALL"}
    # 2024 below 60: shortfall; 张一 met 2024 but has 0 of the ~9.9 hours due by 1 March 2025
    assert short == {"王二": ("shortfall", 2024), "李三": ("shortfall", 2024), "孙六": ("shortfall", 2024),
                     "张一": ("at_risk", 2025)}
