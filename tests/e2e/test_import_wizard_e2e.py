"""In a real browser: an attendance sign-in sheet with a title row and one wrong row goes
through the import wizard — the annotated sheet is downloaded, fixed, uploaded again and imported
— and the import is then undone from 导入记录."""

from __future__ import annotations

import re
from datetime import date

import openpyxl
from sqlalchemy import func, select

from tests.factories import OfficerFactory
from tests.sheets import xlsx


def counts(app):
    from app.extensions import db
    from app.models.training import Attendance, TrainingSession

    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(m))
                     for m in (TrainingSession, Attendance))


def upload(page, live_server, path):
    page.goto(f"{live_server}/imports")
    page.select_option("select[name=kind]", "attendance")
    page.set_input_files("input[name=file]", str(path))
    page.click("#wizard-upload")
    page.wait_for_selector("text=列名在第 2 行（上方的标题行已忽略）")
    page.click("button:text-is('下一步：检查')")


def test_wizard_annotated_sheet_fix_import_undo(app, live_server, logged_in, tmp_path):
    with app.app_context():
        from app.extensions import db

        ids = [OfficerFactory().id_number for _ in range(3)]
        db.session.commit()
    rows = [["序号", "培训名称", "培训日期", "学时", "身份证号", "出勤情况"]]
    rows += [[i, "依法行政专题", date(2026, 4, 2), 3, n, "出席"] for i, n in enumerate(ids, start=1)]
    rows[2][5] = "迟到"
    sheet = xlsx(tmp_path / "签到表.xlsx", rows, title="2026年4月依法行政专题培训签到表")

    page = logged_in("clerk")
    upload(page, live_server, sheet)
    page.wait_for_selector("text=检查未通过：共 1 个问题，未写入任何数据")
    assert "未知的出勤情况“迟到”" in page.inner_text("#problems")
    with page.expect_download() as info:
        page.click("#errors-download")
    annotated = tmp_path / info.value.suggested_filename
    info.value.save_as(annotated)
    assert annotated.name == "签到表（问题标注）.xlsx"
    assert counts(app) == (0, 0)

    wb = openpyxl.load_workbook(annotated)
    ws = wb.worksheets[0]
    assert "未知的出勤情况“迟到”" in ws["G4"].comment.text
    ws["G4"].value = "请假"
    fixed = tmp_path / "签到表（已改）.xlsx"
    wb.save(fixed)

    upload(page, live_server, fixed)
    page.wait_for_selector("text=检查通过：培训 1 次（新建 1），出勤记录 3 条（新增 3，更新 0）")
    page.click("button:text-is('确认导入')")
    page.wait_for_url(re.compile(r".*/imports/history/\d+$"))
    assert "导入成功" in page.inner_text("body")
    assert counts(app) == (1, 3)
    assert "出勤记录 3 条" in page.inner_text("#created")  # with a link to the new session
    assert page.locator("#created a").count() == 1

    page.goto(f"{live_server}/imports/history")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#batches button:text-is('撤销')")
    page.wait_for_selector("text=撤销导入“签到表（已改）.xlsx”")
    assert "已撤销" in page.inner_text("#batches")
    assert counts(app) == (0, 0)
