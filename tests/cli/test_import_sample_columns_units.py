"""`flask import`: the template's example row is never imported, extra columns never refuse a
file (they are named), 是否在执法岗位 is 执法岗位, and a unit typed a little differently is shown
beside the registered one — or refused with --no-create-units."""

from __future__ import annotations

import openpyxl
import pytest
from sqlalchemy import func, select

from app.extensions import db as _db
from app.importing.base import importers
from app.models.officers import Officer, Unit
from tests.factories import UnitFactory, id_number
from tests.sheets import xlsx


def count(app, model):
    with app.app_context():
        return _db.session.scalar(select(func.count()).select_from(model))


def template(runner, kind, path):
    res = runner.invoke(args=["import", "template", kind, "--out", str(path)])
    assert res.exit_code == 0, res.output
    return openpyxl.load_workbook(path)


@pytest.mark.parametrize("kind", ["units", "officers", "certificates", "attendance", "scores",
                                  "cases", "questions"])
def test_the_template_as_downloaded_imports_nothing(app, runner, tmp_path, kind):
    if kind not in importers():
        pytest.skip(f"no {kind} importer on this branch")
    path = tmp_path / f"{kind}.xlsx"
    template(runner, kind, path)
    res = runner.invoke(args=["import", kind, str(path), "--dry-run"])
    assert res.exit_code == 1
    assert "文件中只有模板示例行（第 2 行），没有要导入的数据" in res.stderr


def test_example_row_skipped_wherever_it_stands(app, runner, tmp_path):
    path = tmp_path / "officers.xlsx"
    wb = template(runner, "officers", path)
    ws = wb.active
    example = [c.value for c in ws[2]]
    rows = [["李四", id_number(), "城市管理科"], ["王五", id_number(), "城市管理科"],
            example]  # moved: the example again below the data (copied, say)
    for r, values in enumerate(rows, start=3):
        for c, value in enumerate(values, start=1):
            ws.cell(row=r, column=c, value=value)
    wb.save(path)
    res = runner.invoke(args=["import", "officers", str(path), "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "正式导入将导入执法人员 2 条（新增 2，更新 0）" in res.output
    assert "已跳过模板示例行 第2行、第5行" in res.output
    res = runner.invoke(args=["import", "officers", str(path)])
    assert res.exit_code == 0, res.output
    with app.app_context():
        assert sorted(_db.session.scalars(select(Officer.name))) == ["李四", "王五"]


def test_example_row_of_the_notes_sheet_skipped(app, runner, tmp_path):
    """The 填写说明 sheet shows the example row too; copied into the data, it is not imported."""
    path = tmp_path / "officers.xlsx"
    wb = template(runner, "officers", path)
    notes = wb["填写说明"]
    rows = [[c.value for c in r] for r in notes.iter_rows()]
    at = next(i for i, r in enumerate(rows) if r[0] == "姓名" and r[1] == "身份证号")
    sheet = xlsx(tmp_path / "copied.xlsx", [rows[at], ["赵六", id_number(), "城市管理科"], rows[at + 1]])
    res = runner.invoke(args=["import", "officers", str(sheet)])
    assert res.exit_code == 0, res.output
    assert "导入执法人员 1 条（新增 1" in res.output and "已跳过模板示例行 第3行" in res.output
    with app.app_context():
        assert list(_db.session.scalars(select(Officer.name))) == ["赵六"]


def test_a_row_like_the_example_but_filled_in_is_data(app, runner, tmp_path):
    path = tmp_path / "officers.xlsx"
    wb = template(runner, "officers", path)
    wb.active["A2"] = "孙七"  # the person typed over the example's name only
    wb.save(path)
    res = runner.invoke(args=["import", "officers", str(path)])
    assert res.exit_code == 0 and "新增 1" in res.output and "示例" not in res.output
    assert count(app, Officer) == 1


def test_extra_columns_and_post_synonyms(app, runner, tmp_path):
    a, b, c, d = (id_number() for _ in range(4))
    path = xlsx(tmp_path / "o.xlsx", [
        ["序号", "姓名", "身份证号", "单位", "是否在执法岗位", "备注", "籍贯"],
        [1, "甲", a, "城市管理科", "√", "新调入", "重庆"],
        [2, "乙", b, "城市管理科", "×", "", ""],
        [3, "丙", c, "城市管理科", "Y", "", ""],
        [4, "丁", d, "城市管理科", "N", "", ""],
    ])
    res = runner.invoke(args=["import", "officers", str(path)])
    assert res.exit_code == 0, res.output
    assert res.output.strip().endswith("已忽略的列：备注、籍贯")
    assert "序号" not in res.output
    with app.app_context():
        posts = dict(_db.session.execute(select(Officer.name, Officer.on_enforcement_post)).all())
    assert posts == {"甲": True, "乙": False, "丙": True, "丁": False}
    path = xlsx(tmp_path / "p.xlsx", [["姓名", "身份证号", "单位", "是否执法岗位"],
                                      ["乙", b, "城市管理科", "是"]])
    res = runner.invoke(args=["import", "officers", str(path)])
    assert res.exit_code == 0 and "更新 1" in res.output and "已忽略" not in res.output


@pytest.fixture
def bureau(app):
    with app.app_context():
        UnitFactory(name="南岸区城市管理局")
        _db.session.commit()


def unit_sheet(tmp_path):
    return xlsx(tmp_path / "o.xlsx", [["姓名", "身份证号", "单位"],
                                      ["甲", id_number(), "南岸区城管局"],
                                      ["乙", id_number(), "南岸区城市管理局"],
                                      ["丙", id_number(), "南岸区城管局"],
                                      ["丁", id_number(), "南岸区规划和自然资源局"]])


def test_new_units_printed_with_their_near_duplicates(app, runner, tmp_path, bureau):
    res = runner.invoke(args=["import", "officers", str(unit_sheet(tmp_path))])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert "已新建单位“南岸区城管局”（相近的已有单位：南岸区城市管理局，请确认不是同一单位）" in lines
    assert "已新建单位“南岸区规划和自然资源局”" in lines
    assert "请核对新建的单位：南岸区城管局（相近的已有单位：南岸区城市管理局）" in res.output
    assert count(app, Unit) == 3 and count(app, Officer) == 4


def test_no_create_units_refuses_every_row_naming_a_new_unit(app, runner, tmp_path, bureau):
    res = runner.invoke(args=["import", "officers", str(unit_sheet(tmp_path)), "--no-create-units"])
    assert res.exit_code == 1
    problems = [line for line in res.stderr.splitlines() if line.startswith("第 ")]
    assert problems == [
        "第 2 行，列“单位”：单位“南岸区城管局”尚未登记，本次导入未允许新建（相近的已有单位：南岸区城市管理局）；"
        "请改为已登记的单位，或确认新建这个单位",
        "第 4 行，列“单位”：单位“南岸区城管局”尚未登记，本次导入未允许新建（相近的已有单位：南岸区城市管理局）；"
        "请改为已登记的单位，或确认新建这个单位",
        "第 5 行，列“单位”：单位“南岸区规划和自然资源局”尚未登记，本次导入未允许新建；"
        "请改为已登记的单位，或确认新建这个单位",
    ]
    assert "导入被拒绝：共 3 个问题，未写入任何数据" in res.stderr
    assert count(app, Unit) == 1 and count(app, Officer) == 0
    assert "--no-create-units" in runner.invoke(args=["import", "officers", "--help"]).output
