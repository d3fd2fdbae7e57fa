"""`flask import KIND FILE.csv` streams: read, checked and written a chunk at a time in one
transaction, not held to the web's row cap; a refusal writes nothing and lists every problem
(the first MAX_LISTED, and how many in all). Small caps and chunks are patched in, so the files
stay a few rows; memory and time are measured by scripts/bench_import.py --csv, not here."""

from __future__ import annotations

import io
import re
from datetime import date

import openpyxl
import pytest
from sqlalchemy import func, select

from app.extensions import db as _db
from app.importing import base, readers
from app.models.officers import Officer, Unit
from app.models.training import Attendance, TrainingHours, TrainingSession
from tests.conftest import login, token
from tests.factories import OfficerFactory, id_number


@pytest.fixture
def small(monkeypatch):
    """The web's row cap at 5 rows and a streamed import's chunk at 3 rows."""
    monkeypatch.setattr(readers, "MAX_ROWS", 5)
    monkeypatch.setattr(base, "STREAM_ROWS", 3)


def write_csv(path, rows, encoding="utf-8-sig"):
    path.write_bytes("\n".join(",".join(str(v) for v in r) for r in rows).encode(encoding))
    return path


def count(app, model):
    with app.app_context():
        return _db.session.scalar(select(func.count()).select_from(model))


def officers_csv(path, n, encoding="utf-8-sig"):
    ids = [id_number() for _ in range(n)]
    rows = [["姓名", "身份证号", "单位", "工号"]] + [[f"人员{i}", ids[i], f"单位{i % 2}", f"E{i}"]
                                                   for i in range(n)]
    return write_csv(path, rows, encoding), rows


def test_csv_over_the_web_row_cap_imports_on_the_command_line(app, runner, client, tmp_path, small):
    path, _rows = officers_csv(tmp_path / "全省名单.csv", 8)
    result = runner.invoke(args=["import", "officers", str(path)])
    assert result.exit_code == 0, result.output
    assert "导入执法人员 8 条（新增 8，更新 0），新建单位 2 个（单位0、单位1）" in result.output
    assert (count(app, Officer), count(app, Unit)) == (8, 2)
    with app.app_context():
        assert _db.session.scalar(select(Officer.name).where(Officer.employee_no == "E7")) == "人员7"

    again = runner.invoke(args=["import", "officers", str(path)])  # every chunk finds its rows stored
    assert "导入执法人员 8 条（新增 0，更新 0，无变化 8）" in again.output, again.output

    # the web keeps its cap: the same file uploaded is refused with the cap in words
    login(client, app, "clerk")
    form = {"csrf_token": token(client, "/imports"), "kind": "officers",
            "file": (io.BytesIO(path.read_bytes()), path.name)}
    html = client.post("/imports", data=form, content_type="multipart/form-data",
                       follow_redirects=True).get_data(as_text=True)
    assert "文件过大：超过 5 行（上限 5 行）" in html


def test_a_problem_in_a_later_chunk_writes_nothing_from_the_earlier_ones(app, runner, tmp_path, small):
    path, rows = officers_csv(tmp_path / "o.csv", 8)
    rows[8][1] = rows[2][1]  # row 9 (third chunk) repeats the ID number of row 3 (first chunk)
    rows[7][3] = "E0"  # row 8 (third chunk) repeats the 工号 of row 2
    write_csv(path, rows)
    result = runner.invoke(args=["import", "officers", str(path)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "第 8 行，列“工号”：工号“E0”与第 2 行重复"
    assert lines[1].startswith("第 9 行，列“身份证号”：身份证号 ") and lines[1].endswith(" 与第 3 行重复")
    assert lines[-1] == "导入被拒绝：共 2 个问题，未写入任何数据"
    assert (count(app, Officer), count(app, Unit)) == (0, 0)


def test_many_problems_are_counted_and_the_first_ones_listed(app, runner, tmp_path, small, monkeypatch):
    monkeypatch.setattr(base, "MAX_LISTED", 4)
    rows = [["姓名", "身份证号", "单位"]] + [[f"人员{i}", "123", "城市管理科"] for i in range(7)]
    result = runner.invoke(args=["import", "officers", str(write_csv(tmp_path / "o.csv", rows))])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert [line.split("，")[0] for line in lines[:4]] == ["第 2 行", "第 3 行", "第 4 行", "第 5 行"]
    assert lines[4] == "……另有 3 个问题未列出"
    assert lines[5] == "导入被拒绝：共 7 个问题，未写入任何数据"
    assert count(app, Officer) == 0


def test_gbk_csv_and_certificates_in_chunks(app, runner, tmp_path, small):
    path, rows = officers_csv(tmp_path / "o.csv", 4, encoding="gb18030")
    assert runner.invoke(args=["import", "officers", str(path)]).exit_code == 0
    certs = [["身份证号", "证件编号", "发证日期", "有效期至"]] + [
        [r[1], f"1101002400000{i}", "2024-03-01", "2029-02-28"] for i, r in enumerate(rows[1:] * 2)]
    result = runner.invoke(args=["import", "certificates", str(write_csv(tmp_path / "c.csv", certs))])
    assert result.exit_code == 0, result.output
    assert "导入证件 8 条（新增 8，更新 0）" in result.output
    certs[7][1] = certs[2][1]  # row 8 repeats row 3's number, two chunks later
    result = runner.invoke(args=["import", "certificates", str(write_csv(tmp_path / "c.csv", certs))])
    assert result.exit_code == 1
    assert f"第 8 行，列“证件编号”：行政执法证编号“{certs[2][1]}”与第 3 行重复" in result.stderr


def test_attendance_in_chunks_counts_each_session_once(app, runner, tmp_path, small, set_today):
    set_today(date(2026, 6, 15))
    with app.app_context():
        numbers = [OfficerFactory().id_number for _ in range(4)]
        _db.session.commit()
    rows = [["培训名称", "培训日期", "学时", "身份证号"]]
    rows += [["宪法讲座", "2026-03-01", 4, n] for n in numbers]
    rows += [["法治培训", "2026-04-01", 2, n] for n in numbers]
    path = write_csv(tmp_path / "a.csv", rows)
    dry = runner.invoke(args=["import", "attendance", str(path), "--dry-run"])
    assert "培训 2 次（新建 2），出勤记录 8 条（新增 8，更新 0）" in dry.output, dry.output
    result = runner.invoke(args=["import", "attendance", str(path)])
    assert result.exit_code == 0, result.output
    assert "培训 2 次（新建 2），出勤记录 8 条（新增 8，更新 0）" in result.output
    assert (count(app, TrainingSession), count(app, Attendance)) == (2, 8)
    with app.app_context():  # the year's hours, refreshed once after the last chunk
        assert sorted(_db.session.scalars(select(TrainingHours.hours).where(
            TrainingHours.year == 2026))) == [6.0] * 4
    assert runner.invoke(args=["check", "hours"]).exit_code == 0
    again = runner.invoke(args=["import", "attendance", str(path)])
    assert "培训 2 次（新建 0），出勤记录 8 条（新增 0，更新 0，无变化 8）" in again.output, again.output

    rows[7] = ["法治培训", "2026-04-01", 3, numbers[1]]  # the session's hours differ from row 6
    rows[8] = ["宪法讲座", "2026-03-01", 4, numbers[0]]  # row 2's officer again, two chunks later
    result = runner.invoke(args=["import", "attendance", str(write_csv(path, rows))])
    assert result.exit_code == 1
    assert "第 8 行，列“学时”：同一培训的学时与第 6 行（2）不一致" in result.stderr
    assert "第 9 行，列“身份证号”：与第 2 行重复" in result.stderr
    assert count(app, Attendance) == 8


def test_csv_over_the_web_size_limit_imports_on_the_command_line(app, runner, client, tmp_path, monkeypatch):
    """The web's byte cap does not apply to a CSV file given on the command line."""
    path, _rows = officers_csv(tmp_path / "全省名单.csv", 6)
    monkeypatch.setattr(readers, "MAX_FILE_BYTES", path.stat().st_size - 1)
    result = runner.invoke(args=["import", "officers", str(path)])
    assert result.exit_code == 0, result.output
    assert "导入执法人员 6 条（新增 6，更新 0）" in result.output
    assert count(app, Officer) == 6

    login(client, app, "clerk")
    form = {"csrf_token": token(client, "/imports"), "kind": "officers",
            "file": (io.BytesIO(path.read_bytes()), path.name)}
    html = client.post("/imports", data=form, content_type="multipart/form-data",
                       follow_redirects=True).get_data(as_text=True)
    assert "文件过大" in html and "请拆分成几个文件分别导入" in html


def xlsx_upload(client, rows, kind="officers"):
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    form = {"csrf_token": token(client, "/imports"), "kind": kind, "file": (io.BytesIO(buf.getvalue()), "名单.xlsx")}
    return client.post("/imports", data=form, content_type="multipart/form-data",
                       follow_redirects=True).get_data(as_text=True)


def test_a_web_upload_is_checked_and_written_in_chunks_all_or_nothing(app, client, tmp_path, monkeypatch):
    """A workbook uploaded on the web streams too (chunks of 3 rows here): a problem in the last
    chunk leaves nothing of the first ones; the whole count of problems is shown."""
    monkeypatch.setattr(base, "STREAM_ROWS", 3)
    login(client, app, "clerk")
    ids = [id_number() for _ in range(8)]
    rows = [["姓名", "身份证号", "单位", "工号"]] + [[f"人员{i}", ids[i], "城市管理科", f"E{i}"] for i in range(8)]
    bad = [list(r) for r in rows]
    bad[8][1] = ids[0]  # row 9 (third chunk) repeats row 2's ID number
    bad[7][3] = "E1"  # row 8 (third chunk) repeats row 3's 工号
    html = xlsx_upload(client, bad)
    assert "导入被拒绝：共 2 个问题，未写入任何数据" in html
    assert "<td>8</td><td>工号</td><td>工号“E1”与第 3 行重复</td>" in html
    assert re.search(r"<td>9</td><td>身份证号</td><td>身份证号 \S+ 与第 2 行重复</td>", html)
    assert (count(app, Officer), count(app, Unit)) == (0, 0)

    html = xlsx_upload(client, rows)
    assert "导入成功：导入执法人员 8 条（新增 8，更新 0），新建单位 1 个（城市管理科）" in html
    assert count(app, Officer) == 8


def test_a_refused_web_upload_counts_every_problem_and_lists_the_first(app, client, monkeypatch):
    monkeypatch.setattr(base, "STREAM_ROWS", 3)
    monkeypatch.setattr(base, "MAX_LISTED", 4)
    login(client, app, "clerk")
    html = xlsx_upload(client, [["姓名", "身份证号", "单位"]] + [[f"人员{i}", "123", "城市管理科"] for i in range(7)])
    assert "导入被拒绝：共 7 个问题，未写入任何数据" in html
    listed = re.findall(r"<tr><td>(\d+)</td><td>身份证号</td><td>身份证号应为18位，实际为3位</td></tr>", html)
    assert listed == ["2", "3", "4", "5"]
    assert count(app, Officer) == 0
