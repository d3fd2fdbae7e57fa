"""`flask import KIND FILE` with --ignore-column and --errors-out, and `flask import template`
(docs/domain.md 导入)."""

from __future__ import annotations

from datetime import date

import openpyxl
from sqlalchemy import func, select

from app.extensions import db as _db
from app.models.officers import Officer
from app.models.training import Attendance
from tests.factories import OfficerFactory, id_number
from tests.sheets import xls, xlsx


def count(app, model):
    with app.app_context():
        return _db.session.scalar(select(func.count()).select_from(model))


def test_extra_columns_are_left_out_and_named(app, runner, tmp_path):
    path = xlsx(tmp_path / "o.xlsx", [["序号", "姓名", "身份证号", "单位", "备注"],
                                      [1, "张三", id_number(), "城市管理科", "新调入"]])
    done = runner.invoke(args=["import", "officers", str(path)])
    assert done.exit_code == 0, done.output
    assert "导入执法人员 1 条（新增 1，更新 0），新建单位 1 个（城市管理科）。已忽略的列：备注" in done.output
    assert count(app, Officer) == 1
    path = xlsx(tmp_path / "p.xlsx", [["姓名", "身份证号", "单位", "备注"],
                                      ["李四", id_number(), "城市管理科", "x"]])
    done = runner.invoke(args=["import", "officers", str(path), "--ignore-column", "备注"])
    assert done.exit_code == 0 and "已忽略的列：备注" in done.output  # asked for, still named


def test_errors_out_writes_the_sheet_annotated(app, runner, tmp_path):
    good = id_number()
    path = xlsx(tmp_path / "o.xlsx", [["姓名", "身份证号", "单位", "编制类型"],
                                      ["张三", good, "城市管理科", "行政编制"],
                                      ["李四", "110105194912310020", "城市管理科", "编外"]],
                title="海棠溪街道执法人员名册")
    out = tmp_path / "errors.xlsx"
    result = runner.invoke(args=["import", "officers", str(path), "--errors-out", str(out)])
    assert result.exit_code == 1
    assert "第 4 行，列“身份证号”：身份证号校验位错误" in result.stderr
    assert count(app, Officer) == 0
    ws = openpyxl.load_workbook(out).worksheets[0]
    assert ws["A2"].value == "错误说明" and ws["B1"].value == "海棠溪街道执法人员名册"
    assert [c.value for c in ws[2]][1:] == ["姓名", "身份证号", "单位", "编制类型"]
    assert ws["A3"].value is None and ws["C3"].value == good
    assert "身份证号校验位错误" in ws["A4"].value and "未知的编制类型“编外”" in ws["A4"].value
    for ref, text in (("C4", "身份证号校验位错误"), ("E4", "未知的编制类型“编外”")):
        assert ws[ref].fill.fgColor.rgb.endswith("FF9999")
        assert text in ws[ref].comment.text
    assert ws["B4"].comment is None and ws["B4"].fill.fgColor.rgb in ("00000000", None)

    # fixed in the annotated copy (its 错误说明 column is ignored), it imports
    ws["C4"].value, ws["E4"].value = id_number(), "合同制"
    openpyxl.load_workbook(out)  # still a workbook
    fixed = tmp_path / "fixed.xlsx"
    ws.parent.save(fixed)
    again = runner.invoke(args=["import", "officers", str(fixed)])
    assert again.exit_code == 0, again.output
    assert count(app, Officer) == 2


def test_xls_attendance_with_title_row(app, runner, tmp_path):
    with app.app_context():
        a = OfficerFactory().id_number
        _db.session.commit()
    path = xls(tmp_path / "sign.xls", [["培训名称", "培训日期", "学时", "身份证号", "出勤情况"],
                                       ["宪法讲座", date(2026, 3, 1), 4, a, "出席"]],
               title="2026年3月培训签到表")
    result = runner.invoke(args=["import", "attendance", str(path)])
    assert result.exit_code == 0, result.output
    assert "出勤记录 1 条" in result.output and count(app, Attendance) == 1


def test_template_command_for_every_kind(app, runner, tmp_path):
    for kind in ("units", "officers", "certificates", "attendance", "scores"):
        out = tmp_path / f"{kind}.xlsx"
        result = runner.invoke(args=["import", "template", kind, "--out", str(out)])
        assert result.exit_code == 0, result.output
        wb = openpyxl.load_workbook(out)
        assert wb.sheetnames[1] == "填写说明"
    bad = runner.invoke(args=["import", "template", "nothing", "--out", str(tmp_path / "x.xlsx")])
    assert bad.exit_code == 2 and "未知的导入类型“nothing”" in bad.stderr


def test_help_lists_every_kind(app, runner):
    result = runner.invoke(args=["import", "--help"])
    for kind in ("units", "officers", "certificates", "attendance", "scores", "template"):
        assert kind in result.output
