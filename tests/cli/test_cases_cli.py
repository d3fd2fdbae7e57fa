"""`flask import cases FILE` and `flask report cases` (docs/domain.md 案件核查)."""

from __future__ import annotations

import json
from datetime import date

import openpyxl
from sqlalchemy import func, select

from app.certificates.services import create_certificate, transition
from app.extensions import db as _db
from app.models.cases import CaseCertificate, PenaltyCase
from tests.conftest import TODAY
from tests.factories import OfficerFactory, UnitFactory

HEAD = ["案号", "案件名称", "立案日期", "决定日期", "执法证号", "承办单位", "执法人员", "处罚结果"]


def xlsx(path, rows):
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return path


def count(app, model):
    with app.app_context():
        return _db.session.scalar(select(func.count()).select_from(model))


def registry(app):
    """张三 A1 and 李四 B1 valid; 王五 C1 suspended from 2023-07-01."""
    with app.app_context():
        unit = UnitFactory(name="城市管理科")
        for name, number in (("张三", "A1"), ("李四", "B1"), ("王五", "C1")):
            cert = create_certificate(OfficerFactory(name=name, unit=unit), {
                "number": number, "issued_on": date(2020, 1, 1), "expires_on": date(2030, 1, 1)},
                today=TODAY)
            if number == "C1":
                transition(cert, "suspend", effective_on=date(2023, 7, 1), reason="违纪", today=TODAY)
        _db.session.commit()


def test_import_cases_with_every_separator_and_unknown_numbers(app, runner, tmp_path):
    registry(app)
    path = xlsx(tmp_path / "c.xlsx", [
        HEAD,
        ["南岸海街罚〔2023〕8号", "占道经营案", "2023-06-20", "2023-07-01", "A1、C1", "城市管理科", "张三、王五",
         "罚款500元"],
        ["南岸海街罚〔2023〕9号", "", "", "2023/7/2", "A1，B1", "城市管理科", "", ""],
        ["南岸海街罚〔2023〕10号", "", None, "2023年7月3日", "A1,B1；C1;X9/ Y9  Z9", "", "", ""],
        ["南岸海街罚〔2023〕11号", "", None, date(2023, 7, 4), "B1", "", "", ""],
    ])
    result = runner.invoke(args=["import", "cases", str(path)])
    assert result.exit_code == 0, result.output
    assert "导入行政处罚案件 4 条（新增 4，更新 0）" in result.output
    with app.app_context():
        numbers = {c.case_no: c.numbers for c in _db.session.scalars(select(PenaltyCase))}
    assert numbers["南岸海街罚〔2023〕10号"] == ["A1", "B1", "C1", "X9", "Y9", "Z9"]
    assert numbers["南岸海街罚〔2023〕9号"] == ["A1", "B1"]
    assert numbers["南岸海街罚〔2023〕11号"] == ["B1"]  # one number: stored, judged not ok

    out = runner.invoke(args=["report", "cases", "--year", "2023", "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert [c["case_no"] for c in data] == ["南岸海街罚〔2023〕11号", "南岸海街罚〔2023〕10号",
                                            "南岸海街罚〔2023〕9号", "南岸海街罚〔2023〕8号"]
    eight = data[-1]
    assert eight == {
        "case_no": "南岸海街罚〔2023〕8号", "title": "占道经营案", "opened_on": "2023-06-20",
        "decided_on": "2023-07-01", "certificate_numbers": ["A1", "C1"], "ok": False,
        "problems": [{"certificate_number": "C1", "date": "2023-07-01", "reason": "suspended"},
                     {"certificate_number": None, "date": None, "reason": "fewer_than_two"}]}
    assert data[-2]["ok"] is True and data[-2]["opened_on"] is None and data[-2]["problems"] == []
    ten = data[1]
    assert ten["ok"] is True
    assert [(p["certificate_number"], p["date"], p["reason"]) for p in ten["problems"]] == [
        ("C1", "2023-07-03", "suspended"), ("X9", None, "unknown"), ("Y9", None, "unknown"),
        ("Z9", None, "unknown")]
    assert data[0]["ok"] is False


def test_existing_case_no_updates_the_case(app, runner, tmp_path):
    registry(app)
    path = xlsx(tmp_path / "c.xlsx", [HEAD, ["罚1", "旧名", "", "2023-07-01", "A1 C1", "", "", ""]])
    assert runner.invoke(args=["import", "cases", str(path)]).exit_code == 0
    path = xlsx(tmp_path / "c2.xlsx", [HEAD, ["罚1", "新名", "", "2023-07-01", "A1 B1", "", "", ""]])
    result = runner.invoke(args=["import", "cases", str(path)])
    assert result.exit_code == 0, result.output
    assert "新增 0，更新 1" in result.output
    assert count(app, PenaltyCase) == 1
    with app.app_context():
        c = _db.session.scalar(select(PenaltyCase))
        assert (c.title, c.numbers) == ("新名", ["A1", "B1"])
    assert count(app, CaseCertificate) == 2


def test_refused_import_lists_every_problem_and_writes_nothing(app, runner, tmp_path):
    registry(app)
    path = xlsx(tmp_path / "c.xlsx", [
        HEAD,
        ["罚1", "", "", "2023-07-01", "A1 B1", "", "", ""],
        ["罚2", "", "2023-02-30", "2023-07-01", "A1 B1", "", "", ""],   # impossible date
        ["罚3", "", "", "", "A1 B1", "", "", ""],                       # missing 决定日期
        ["罚4", "", "2023-08-01", "2023-07-01", "A1 B1", "", "", ""],   # 立案 after 决定
        ["罚1", "", "", "2023-07-02", "A1 B1", "", "", ""],             # duplicate 案号
        ["罚6", "", "", "2023-07-02", " 、 ", "", "", ""],               # empty 执法证号
        ["罚7", "", "", "tomorrow", "A1 B1", "", "", ""],               # not a date
    ])
    result = runner.invoke(args=["import", "cases", str(path)])
    assert result.exit_code == 1
    out = result.output
    assert "第 3 行，列“立案日期”：日期“2023-02-30”不存在" in out
    assert "第 4 行，列“决定日期”：决定日期不能为空" in out
    assert "第 5 行，列“立案日期”：立案日期（2023年8月1日）晚于决定日期（2023年7月1日）" in out
    assert "第 6 行，列“案号”：案号“罚1”与第 2 行重复" in out
    assert "第 7 行，列“执法证号”：执法证号不能为空" in out
    assert "第 8 行，列“决定日期”：“tomorrow”不是有效日期" in out
    assert "导入被拒绝：共 6 个问题，未写入任何数据" in out
    assert count(app, PenaltyCase) == 0 and count(app, CaseCertificate) == 0


def test_missing_required_column_refused(app, runner, tmp_path):
    path = xlsx(tmp_path / "c.xlsx", [["案号", "决定日期"], ["罚1", "2023-07-01"]])
    result = runner.invoke(args=["import", "cases", str(path)])
    assert result.exit_code == 1
    assert "缺少必填的列“执法证号”" in result.output
    assert count(app, PenaltyCase) == 0


def test_dry_run_writes_nothing(app, runner, tmp_path):
    path = xlsx(tmp_path / "c.xlsx", [HEAD, ["罚1", "", "", "2023-07-01", "A1 B1", "", "", ""]])
    result = runner.invoke(args=["import", "cases", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "校验通过" in result.output
    assert count(app, PenaltyCase) == 0


def test_csv_import_in_english_headers(app, runner, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("case_no,decided_on,certificate_numbers\n罚1,2023-07-01,A1;B1\n", encoding="utf-8-sig")
    result = runner.invoke(args=["import", "cases", str(path)])
    assert result.exit_code == 0, result.output
    assert count(app, CaseCertificate) == 2


def test_report_cases_filters_and_formats(app, runner, tmp_path):
    registry(app)
    path = xlsx(tmp_path / "c.xlsx", [
        HEAD,
        ["罚1", "", "", "2023-07-01", "A1 C1", "城市管理科", "", ""],
        ["罚2", "", "", "2024-07-01", "A1 B1", "南坪社区", "", ""],
    ])
    assert runner.invoke(args=["import", "cases", str(path)]).exit_code == 0
    j = json.loads(runner.invoke(args=["report", "cases", "--unit", "南坪社区", "--format", "json"]).output)
    assert [c["case_no"] for c in j] == ["罚2"]
    assert json.loads(runner.invoke(args=["report", "cases", "--year", "2022", "--format", "json"]).output) == []
    table = runner.invoke(args=["report", "cases"])
    assert table.exit_code == 0
    assert "共 2 件，不符合 1 件" in table.output and "暂扣期间（C1 2023年7月1日）" in table.output
    csv_out = runner.invoke(args=["report", "cases", "--format", "csv"]).output
    assert csv_out.splitlines()[0] == "案号,案件名称,立案日期,决定日期,承办单位,执法证号,核查结果,问题"
    assert runner.invoke(args=["report", "cases", "--format", "xlsx"]).exit_code == 2
    out = tmp_path / "r.xlsx"
    result = runner.invoke(args=["report", "cases", "--format", "xlsx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    ws = openpyxl.load_workbook(out).active
    assert ws.cell(row=2, column=1).value == "案号"
    assert {ws.cell(row=r, column=7).value for r in (3, 4)} == {"符合", "不符合"}


def test_annual_figures_count_the_years_cases(app, runner, tmp_path):
    registry(app)
    path = xlsx(tmp_path / "c.xlsx", [
        HEAD,
        ["罚1", "", "", "2023-06-30", "A1 C1", "", "", ""],  # the day before C1's suspension: ok
        ["罚2", "", "", "2023-07-01", "A1 C1", "", "", ""],  # suspended that day: not ok
        ["罚3", "", "", "2023-12-31", "A1 B1", "", "", ""],
        ["罚4", "", "", "2024-01-01", "A1 B1", "", "", ""],  # another year
    ])
    assert runner.invoke(args=["import", "cases", str(path)]).exit_code == 0
    data = json.loads(runner.invoke(args=["report", "annual", "--year", "2023", "--format", "json"]).output)
    assert data["cases"] == {"total": 3, "ok": 2, "not_ok": 1}
    data = json.loads(runner.invoke(args=["report", "annual", "--year", "2022", "--format", "json"]).output)
    assert data["cases"] == {"total": 0, "ok": 0, "not_ok": 0}
    table = runner.invoke(args=["report", "annual", "--year", "2023"]).output
    assert "执法人员资格不符合的案件" in table


def test_annual_page_and_review_note(app, client, runner, tmp_path, set_today):
    from tests.conftest import login

    registry(app)
    with app.app_context():
        create_certificate(OfficerFactory(name="赵六"), {
            "number": "D1", "issued_on": date(2020, 1, 1), "expires_on": date(2030, 1, 1)}, today=TODAY)
        _db.session.commit()
    path = xlsx(tmp_path / "c.xlsx", [HEAD, ["罚1", "", "", "2025-03-01", "A1 B1", "", "", ""],
                                      ["罚2", "", "", "2025-03-02", "A1 X9", "", "", ""]])
    assert runner.invoke(args=["import", "cases", str(path)]).exit_code == 0
    login(client, app, "viewer")
    html = client.get("/training/annual?year=2025").get_data(as_text=True)
    section = html.split('id="stats-cases"', 1)[1].split("</table>", 1)[0]
    assert "<td>2</td>" in section and ">1</td>" in section and ">1</a>" in section
    set_today(date(2026, 1, 15))
    page = client.get("/reviews?year=2025").get_data(as_text=True)
    rows = {r.split('data-officer="', 1)[1].split('"', 1)[0]: r for r in page.split("<tr")[1:]
            if 'data-officer="' in r}
    assert "近两年无执法办案记录" in rows["赵六"]  # on post, certificate in no case
    assert "近两年无执法办案记录" not in rows["张三"] and "近两年无执法办案记录" not in rows["李四"]
    # a note, not a failed pre-check: 赵六 fails exactly what 张三 fails (hours, none recorded)
    assert rows["赵六"].count("text-danger") == rows["张三"].count("text-danger") == 1


def test_demo_seed_has_cases_with_both_verdicts(app, runner):
    result = runner.invoke(args=["demo", "seed", "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    data = json.loads(runner.invoke(args=["report", "cases", "--format", "json"]).output)
    assert len(data) >= 100
    assert {c["ok"] for c in data} == {True, False}
