"""`flask import officers|certificates FILE [--dry-run]`: exit 0 / 1 / 2, every problem listed."""

from __future__ import annotations

import openpyxl
from sqlalchemy import func, select

from app.extensions import db as _db
from app.models.certificates import Certificate, CertificateEvent
from app.models.officers import Officer, Unit
from tests.factories import OfficerFactory, id_number


def xlsx(path, rows):
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return path


def count(app, model):
    with app.app_context():
        return _db.session.scalar(select(func.count()).select_from(model))


def test_officers_imported(app, runner, tmp_path):
    path = xlsx(tmp_path / "o.xlsx", [["姓名", "身份证号", "单位"], ["张三", id_number(), "城市管理科"],
                                      ["李四", id_number(), "城市管理科"]])
    result = runner.invoke(args=["import", "officers", str(path)])
    assert result.exit_code == 0, result.output
    assert "导入执法人员 2 条（新增 2，更新 0）" in result.output
    assert count(app, Officer) == 2


def test_refused_lists_every_problem_and_writes_nothing(app, runner, tmp_path):
    good = id_number()
    path = xlsx(tmp_path / "o.xlsx", [
        ["姓名", "身份证号", "单位", "编制类型"],
        ["张三", good, "新单位", "行政编制"],
        ["李四", good[:17] + ("1" if good[17] == "0" else "0"), "新单位", "编外"],
        ["王五", good, "新单位", ""],
    ])
    result = runner.invoke(args=["import", "officers", str(path)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("第 3 行，列“身份证号”：身份证号校验位错误")
    assert lines[1].startswith("第 3 行，列“编制类型”：未知的编制类型“编外”")
    assert lines[2] == "第 4 行，列“身份证号”：身份证号 " + good[:6] + "********" + good[-4:] + " 与第 2 行重复"
    assert lines[-1] == "导入被拒绝：共 3 个问题，未写入任何数据"
    assert "Traceback" not in result.output
    assert (count(app, Officer), count(app, Unit)) == (0, 0)


def test_dry_run_writes_nothing(app, runner, tmp_path):
    path = xlsx(tmp_path / "o.xlsx", [["姓名", "身份证号", "单位"], ["张三", id_number(), "城市管理科"]])
    result = runner.invoke(args=["import", "officers", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "未写入" in result.output and "新增 1" in result.output
    assert (count(app, Officer), count(app, Unit)) == (0, 0)


def test_usage_errors_exit_2(app, runner, tmp_path):
    result = runner.invoke(args=["import", "officers", str(tmp_path / "missing.xlsx")])
    assert result.exit_code == 2
    assert "文件不存在" in result.stderr
    odd = tmp_path / "list.txt"
    odd.write_text("x")
    result = runner.invoke(args=["import", "certificates", str(odd)])
    assert result.exit_code == 2
    assert "不支持的文件类型“.txt”" in result.stderr
    assert runner.invoke(args=["import", "officers"]).exit_code == 2


def test_text_file_named_xlsx_is_refused_with_exit_1(app, runner, tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_text("not a workbook")
    result = runner.invoke(args=["import", "officers", str(path)])
    assert result.exit_code == 1
    assert "文件不是有效的 Excel (.xlsx) 文件" in result.stderr
    assert "Traceback" not in result.output


def test_certificates_imported_with_status_event(app, runner, tmp_path):
    with app.app_context():
        officer = OfficerFactory()
        _db.session.commit()
        number = officer.id_number
    path = xlsx(tmp_path / "c.xlsx", [
        ["身份证号", "证件编号", "发证日期", "有效期至", "状态", "状态日期"],
        [number, "C-1", "2024-01-01", "2029-12-31", "暂扣", "2025-05-01"],
    ])
    result = runner.invoke(args=["import", "certificates", str(path), "--today", "2026-06-15"])
    assert result.exit_code == 0, result.output
    assert "导入证件 1 条（新增 1，更新 0）" in result.output
    assert (count(app, Certificate), count(app, CertificateEvent)) == (1, 2)
    with app.app_context():
        actors = set(_db.session.scalars(select(CertificateEvent.actor)))
    assert len(actors) == 1 and actors.pop().endswith("import certificates")
    again = runner.invoke(args=["import", "certificates", str(path)])
    assert again.exit_code == 0 and "无变化 1" in again.output
