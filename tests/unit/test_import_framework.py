"""The import framework (docs/domain.md 导入): spreadsheets as offices send them — a title row above the
headers, .xls and .ods, a trailing 合计 row — every kind on one registry, templates that prevent
mistakes, and hostile workbooks refused within seconds and bounded memory."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from app.importing.base import importers
from app.importing.readers import ImportRefused
from app.imports.services import import_officers, template_workbook
from app.models.officers import Officer, Unit
from app.models.training import Attendance, TrainingSession
from tests.conftest import TODAY
from tests.factories import OfficerFactory, UnitFactory, id_number
from tests.hostile import row_bomb_xlsx, zip_bomb_xlsx
from tests.sheets import ods, xls, xlsx

ROOT = Path(__file__).resolve().parents[2]
TITLE = "海棠溪街道执法人员名册"


def officer_rows(n=2):
    return [["序号", "姓名", "身份证号", "单位", "编制类型"]] + [
        [i + 1, f"人员{i}", id_number(), "城市管理科", "行政编制"] for i in range(n)]


@pytest.mark.parametrize("maker", [xlsx, xls, ods], ids=["xlsx", "xls", "ods"])
def test_title_row_sheet_imports_in_every_format(db, tmp_path, maker):
    rows = officer_rows()
    rows[0][0] = "姓名"  # no 序号 column here: every header is known
    rows = [r[1:] + [None] for r in rows]
    rows[0][-1] = None
    rows = [[r for r in row if r is not None] for row in rows]
    path = maker(tmp_path / f"o.{maker.__name__}", rows, title=TITLE)
    result = import_officers(path, path.name, today=TODAY)
    db.session.commit()
    assert (result.created, result.updated) == (2, 0)
    assert sorted(db.session.scalars(select(Officer.name))) == ["人员0", "人员1"]


def test_header_found_below_notes_and_blank_rows_trailing_total_skipped(db, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([TITLE])
    ws.append(["填表单位：海棠溪街道", None, "填表日期：2024年3月1日"])
    ws.append([])
    ws.append(["姓名", "身份证号", "单位"])
    ws.append(["张三", id_number(), "城市管理科"])
    ws.append([])
    ws.append(["李四", id_number(), "城市管理科"])
    ws.append(["合计", "2 人"])
    wb.save(tmp_path / "t.xlsx")
    result = import_officers(tmp_path / "t.xlsx", "t.xlsx", today=TODAY)
    assert result.created == 2


def test_problem_rows_are_the_sheet_rows_under_a_title(db, tmp_path):
    path = xlsx(tmp_path / "o.xlsx", [["姓名", "身份证号", "单位"], ["张三", "123", "城市管理科"]],
                title=TITLE)
    with pytest.raises(ImportRefused) as info:
        import_officers(path, path.name, today=TODAY)
    assert [(p.row, p.column) for p in info.value.problems] == [(3, "身份证号")]


def test_every_kind_is_registered_and_a_template_round_trips(db):
    kinds = importers()
    assert list(kinds)[:5] == ["units", "officers", "certificates", "attendance", "scores"]
    for kind, importer in kinds.items():
        wb = openpyxl.load_workbook(io.BytesIO(template_workbook(kind)))
        ws = wb.worksheets[0]
        assert [c.value for c in ws[1]] == [c.zh for c in importer.columns]
        assert "填写说明" in wb.sheetnames


@pytest.mark.parametrize("kind", ["officers", "certificates", "attendance", "units"])
def test_templates_have_drop_downs_and_text_format(db, kind):
    importer = importers()[kind]
    ws = openpyxl.load_workbook(io.BytesIO(template_workbook(kind))).worksheets[0]
    letters = {c.field: openpyxl.utils.get_column_letter(i)
               for i, c in enumerate(importer.columns, start=1)}
    validations = {str(dv.sqref).split(":")[0]: dv for dv in ws.data_validations.dataValidation}
    for col in importer.columns:
        letter = letters[col.field]
        if col.choices:
            dv = validations[f"{letter}2"]
            assert dv.type == "list" and dv.formula1 == '"' + ",".join(col.choices) + '"'
        else:
            assert f"{letter}2" not in validations
        if col.kind == "id" or col.as_text:
            assert ws[f"{letter}2"].number_format == "@" and ws[f"{letter}500"].number_format == "@"
        if col.kind == "date":
            assert ws[f"{letter}500"].number_format == "yyyy-mm-dd"
        if col.required:
            assert ws[f"{letter}1"].font.color.rgb.endswith("C00000")


def test_officer_template_marks_establishment_and_id(db):
    ws = openpyxl.load_workbook(io.BytesIO(template_workbook("officers"))).worksheets[0]
    lists = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    assert any("合同制" in f and "行政编制" in f for f in lists.values())  # 编制类型
    assert any(f == '"是,否"' for f in lists.values())  # 执法岗位
    assert ws["B2"].value == "11010519491231002X" and ws["B2"].number_format == "@"


def test_units_importer_builds_the_tree(db, tmp_path):
    UnitFactory(name="海棠溪街道办事处", kind="office")
    db.session.commit()
    path = xlsx(tmp_path / "u.xlsx", [
        ["单位名称", "上级单位", "单位类型", "排序号"],
        ["第一社区", "综合执法队", "社区", 2],
        ["综合执法队", "海棠溪街道办事处", "执法队", 1],
    ])
    result = importers()["units"].run(path, path.name, today=TODAY)
    db.session.commit()
    assert (result.created, result.updated) == (2, 0)
    first = db.session.scalar(select(Unit).where(Unit.name == "第一社区"))
    assert (first.parent.name, first.parent.parent.name, first.kind, first.sort_order) == (
        "综合执法队", "海棠溪街道办事处", "community", 2)
    again = importers()["units"].run(path, path.name, today=TODAY)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_units_importer_refuses_unknown_parent_and_cycles(db, tmp_path):
    path = xlsx(tmp_path / "u.xlsx", [
        ["单位名称", "上级单位"], ["甲", "乙"], ["乙", "甲"], ["丙", "不存在的单位"]])
    with pytest.raises(ImportRefused) as info:
        importers()["units"].run(path, path.name, today=TODAY)
    messages = [str(p) for p in info.value.problems]
    assert any(m.startswith("第 2 行，列“上级单位”") and "循环" in m for m in messages)
    assert any(m.startswith("第 4 行，列“上级单位”：上级单位“不存在的单位”未登记") for m in messages)
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 0


def test_attendance_reimport_is_zero_new_zero_updated(db, tmp_path):
    a, b = OfficerFactory(), OfficerFactory()
    db.session.commit()
    path = xlsx(tmp_path / "a.xlsx", [
        ["培训名称", "培训日期", "学时", "身份证号", "出勤情况"],
        ["宪法讲座", date(2026, 3, 1), 4, a.id_number, "出席"],
        ["宪法讲座", date(2026, 3, 1), 4, b.id_number, "缺席"],
    ], title="2026年培训签到表")
    first = importers()["attendance"].run(path, path.name, today=TODAY)
    db.session.commit()
    assert "出勤记录 2 条（新增 2，更新 0）" in first.summary()
    again = importers()["attendance"].run(path, path.name, today=TODAY)
    assert "（新增 0，更新 0，无变化 2）" in again.summary()
    assert db.session.scalar(select(func.count()).select_from(Attendance)) == 2
    assert db.session.scalar(select(func.count()).select_from(TrainingSession)) == 1


# --- hostile workbooks -------------------------------------------------------------------------

_MEASURE = """
import json, sys, time

def peak_mb():
    # VmHWM: this process image's peak RSS. (ru_maxrss would carry the parent's peak across
    # fork + exec on Linux, so a child of a big pytest process would report the parent's.)
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
from app.importing.readers import ImportRefused, read_table
t = time.perf_counter()
try:
    table = read_table(sys.argv[1], sys.argv[1])
    n = sum(1 for _ in table.rows)
    outcome = f"read {n} rows"
except ImportRefused as exc:
    outcome = exc.problems[0].message
print(json.dumps({"outcome": outcome, "seconds": time.perf_counter() - t,
                  "peak_mb": peak_mb()}))
"""


def _measure(path: Path) -> dict:
    """Read the file in a fresh process (so its peak memory is the reader's alone)."""
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_row_bomb_is_refused_within_seconds_and_bounded_memory(tmp_path):
    path = row_bomb_xlsx(tmp_path / "rows.xlsx", ["姓名", "身份证号", "单位"], ["张三", "x", "y"])
    assert path.stat().st_size < 10_000
    seen = _measure(path)
    assert "文件过大：工作表用到了第 30,000,000 行" in seen["outcome"], seen
    assert seen["seconds"] < 10 and seen["peak_mb"] < 300, seen


def test_zip_bomb_is_refused_within_seconds_and_bounded_memory(tmp_path):
    path = zip_bomb_xlsx(tmp_path / "zip.xlsx", ["姓名", "身份证号", "单位"])
    assert path.stat().st_size < 2_000_000
    seen = _measure(path)
    assert "文件过大：解压后 301 MB（上限 250 MB）" in seen["outcome"], seen
    assert seen["seconds"] < 10 and seen["peak_mb"] < 300, seen


def test_sparse_xls_is_refused_within_seconds_and_bounded_memory(tmp_path):
    from tests.hostile import sparse_xls

    path = sparse_xls(tmp_path / "sparse.xls", ["姓名", "身份证号", "单位"])
    assert path.stat().st_size < 10_000
    seen = _measure(path)
    assert "文件过大：工作表有 65,536 行 × 151 列（上限 4,000,000 个单元格）" in seen["outcome"], seen
    assert seen["seconds"] < 10 and seen["peak_mb"] < 300, seen


def test_csv_with_too_many_columns_is_refused(db, tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("姓名,身份证号,单位\n" + ",".join(["x"] * 5000) + "\n", encoding="utf-8")
    with pytest.raises(ImportRefused) as info:
        import_officers(path, path.name, today=TODAY)
    assert info.value.problems[0].message.startswith("文件过大：第 2 行有 5,000 列（上限 200 列）")
