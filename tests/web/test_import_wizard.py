"""The import wizard for every kind (upload → preview and column mapping → check → import), the
annotated sheet, 导入记录 with the original file, and undo."""

from __future__ import annotations

import io
import re
from datetime import date

import openpyxl
import pytest
from sqlalchemy import func, select

from app.extensions import db as _db
from app.models.audit import AuditEvent
from app.models.officers import Officer
from app.models.training import Attendance, TrainingSession
from tests.conftest import csrf_from, login, token
from tests.factories import OfficerFactory, id_number
from tests.hostile import row_bomb_xlsx
from tests.sheets import xlsx


def count(app, model):
    with app.app_context():
        return _db.session.scalar(select(func.count()).select_from(model))


def mapping_form(html):
    """The preview's form as the browser would send it: each column's selected choice."""
    form = {"csrf_token": csrf_from(html)}
    for name, body in re.findall(r'<select[^>]*name="(map:[^"]+)"[^>]*>(.*?)</select>', html, re.S):
        form[name] = re.search(r'<option value="([^"]+)" selected>', body).group(1)
    return form


def start(client, path, kind):
    form = {"csrf_token": token(client, "/imports"), "kind": kind,
            "file": (io.BytesIO(path.read_bytes()), path.name)}
    resp = client.post("/imports/upload", data=form, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return resp.headers["Location"]


@pytest.fixture
def people(app):
    with app.app_context():
        ids = [OfficerFactory().id_number for _ in range(3)]
        _db.session.commit()
        return ids


def sign_in_sheet(tmp_path, ids, bad=None):
    rows = [["序号", "培训名称", "培训日期", "学时", "身份证号", "出勤情况"]]
    for i, number in enumerate(ids, start=1):
        rows.append([i, "宪法讲座", date(2026, 3, 1), 4, number, "出席"])
    if bad:
        rows[2][5] = bad
    return xlsx(tmp_path / "签到表.xlsx", rows, title="2026年3月宪法讲座签到表")


def test_every_kind_is_offered_with_its_template(client, app):
    login(client, app, "clerk")
    html = client.get("/imports").get_data(as_text=True)
    for kind, noun in [("units", "单位"), ("officers", "执法人员"), ("certificates", "证件"),
                       ("attendance", "出勤记录"), ("scores", "成绩")]:
        assert f'<option value="{kind}"' in html
        assert f"/imports/template/{kind}.xlsx" in html
        resp = client.get(f"/imports/template/{kind}.xlsx")
        assert resp.status_code == 200 and noun in openpyxl.load_workbook(
            io.BytesIO(resp.data)).worksheets[0].title
    assert client.get("/imports/template/nothing.xlsx").status_code == 404


def test_wizard_preview_check_annotated_sheet_import_and_undo(client, app, people, tmp_path):
    login(client, app, "clerk")
    url = start(client, sign_in_sheet(tmp_path, people, bad="迟到"), "attendance")
    html = client.get(url).get_data(as_text=True)
    assert "列名在第 2 行（上方的标题行已忽略）" in html
    assert people[0] not in html and people[0][:6] + "********" + people[0][-4:] in html  # masked
    assert "宪法讲座" in html and "2026-03-01" in html
    # the unknown column 序号 is offered "ignore" (selected) or "map to …"
    assert re.search(r'name="map:序号".*?<option value="__ignore__" selected>', html, re.S)
    assert re.search(r'name="map:身份证号".*?<option value="id_number" selected>', html, re.S)

    check = url + "/check"
    form = {"csrf_token": csrf_from(html), "map:序号": "__ignore__", "map:培训名称": "title",
            "map:培训日期": "date", "map:学时": "hours", "map:身份证号": "id_number",
            "map:出勤情况": "status"}
    html = client.post(check, data=form).get_data(as_text=True)
    assert "检查未通过：共 1 个问题，未写入任何数据" in html
    assert re.search(r"<td>4</td><td>出勤情况</td><td>未知的出勤情况“迟到”", html)
    assert count(app, Attendance) == 0

    sheet = client.get(url + "/errors.xlsx")
    assert sheet.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(sheet.data)).worksheets[0]
    assert ws["A2"].value == "错误说明" and "未知的出勤情况“迟到”" in ws["A4"].value
    assert "未知的出勤情况“迟到”" in ws["G4"].comment.text

    # fixed in the annotated copy, uploaded again, imported
    ws["G4"].value = "请假"
    fixed = tmp_path / "签到表（已改）.xlsx"
    ws.parent.save(fixed)
    url = start(client, fixed, "attendance")
    html = client.get(url).get_data(as_text=True)
    assert "错误说明" not in re.findall(r'name="map:([^"]+)"', html)  # its own column is dropped
    html = client.post(url + "/check", data=mapping_form(html)).get_data(as_text=True)
    assert "检查通过：培训 1 次（新建 1），出勤记录 3 条（新增 3，更新 0）" in html
    resp = client.post(url + "/import", data={"csrf_token": csrf_from(html)}, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "导入成功：导入培训 1 次（新建 1），出勤记录 3 条" in html
    assert (count(app, Attendance), count(app, TrainingSession)) == (3, 1)
    assert "签到表（已改）.xlsx" in html

    with app.app_context():
        from app.models.imports import ImportBatch

        batch = _db.session.scalar(select(ImportBatch).where(ImportBatch.status == "imported"))
        batch_id = batch.id
    detail = client.get(f"/imports/history/{batch_id}").get_data(as_text=True)
    with app.app_context():
        session_id = _db.session.scalar(select(TrainingSession.id))
    assert f'href="/training/{session_id}"' in detail and "出勤记录 3 条" in detail
    assert "可以撤销" in detail
    original = client.get(f"/imports/history/{batch_id}/file")
    assert original.data == fixed.read_bytes()
    # the same file again: nothing new
    again = client.post(url + "/import", data={"csrf_token": csrf_from(html)}, follow_redirects=True)
    assert "这个文件已经导入过了" in again.get_data(as_text=True)

    resp = client.post(f"/imports/history/{batch_id}/undo", data={"csrf_token": csrf_from(html)},
                       follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "撤销导入“签到表（已改）.xlsx”：删除出勤记录 3 条、培训 1 条" in html
    assert "已撤销" in html
    assert (count(app, Attendance), count(app, TrainingSession)) == (0, 0)
    with app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "undo_import")) == 1


def test_undo_refused_once_the_records_changed(client, app, tmp_path):
    login(client, app, "clerk")
    path = xlsx(tmp_path / "o.xlsx", [["姓名", "身份证号", "单位"], ["张三", id_number(), "城市管理科"]])
    url = start(client, path, "officers")
    html = client.get(url).get_data(as_text=True)
    html = client.post(url + "/check", data=mapping_form(html)).get_data(as_text=True)
    client.post(url + "/import", data={"csrf_token": csrf_from(html), "create_unit": "城市管理科"})
    with app.app_context():
        from app.models.certificates import Certificate
        from app.models.imports import ImportBatch
        from tests.factories import CertificateFactory

        officer = _db.session.scalar(select(Officer))
        CertificateFactory(officer=officer)
        _db.session.commit()
        batch_id = _db.session.scalar(select(ImportBatch.id))
    html = client.post(f"/imports/history/{batch_id}/undo", data={"csrf_token": token(client, "/imports/history")},
                       follow_redirects=True).get_data(as_text=True)
    assert "不能撤销这次导入：导入的执法人员之后已有证件（1 条），不能撤销" in html
    assert count(app, Officer) == 1 and count(app, Certificate) == 1


def test_wizard_upload_is_owner_checked(client, app, tmp_path):
    login(client, app, "clerk")
    path = xlsx(tmp_path / "o.xlsx", [["姓名", "身份证号", "单位"], ["张三", id_number(), "城市管理科"]])
    url = start(client, path, "officers")
    other = app.test_client()
    login(other, app, "clerk", username="clerk2")
    assert other.get(url).status_code == 404
    with app.app_context():
        from app.models.imports import ImportBatch

        batch_id = _db.session.scalar(select(ImportBatch.id))
    assert other.get(f"/imports/history/{batch_id}/file").status_code == 403  # full ID numbers
    assert other.post(url + "/import", data={"csrf_token": token(other, "/imports")}).status_code == 404
    assert client.get(url).status_code == 200


def test_hostile_workbook_upload_is_refused_with_a_message(client, app, tmp_path):
    login(client, app, "clerk")
    path = row_bomb_xlsx(tmp_path / "bomb.xlsx", ["姓名", "身份证号", "单位"], ["张三", "x", "y"])
    url = start(client, path, "officers")
    html = client.get(url).get_data(as_text=True)
    assert "文件过大：工作表用到了第 30,000,000 行（上限 300,000 行）" in html


def test_preview_shows_defaults_for_absent_columns(client, app, tmp_path):
    login(client, app, "clerk")
    path = xlsx(tmp_path / "o.xlsx", [["姓名", "身份证号"], ["张三", id_number()]])
    html = client.get(start(client, path, "officers")).get_data(as_text=True)
    absent = re.search(r'<ul class="small" id="absent">(.*?)</ul>', html, re.S).group(1)
    assert "单位 <span class=\"text-danger\">（必填，缺少这一列不能导入）</span>" in absent
    assert "编制类型：默认 行政编制（已登记人员保持原值）" in absent


def test_cases_import_through_the_wizard_and_undo(client, app, tmp_path):
    from app.models.cases import CaseCertificate, PenaltyCase

    login(client, app, "admin")
    path = xlsx(tmp_path / "案件.xlsx", [["案号", "决定日期", "执法证号"],
                                        ["罚1", date(2026, 3, 3), "A1、B2"]], title="2026年处罚案件")
    url = start(client, path, "cases")
    html = client.get(url).get_data(as_text=True)
    html = client.post(url + "/check", data=mapping_form(html)).get_data(as_text=True)
    assert "检查通过：行政处罚案件 1 条（新增 1，更新 0）" in html
    client.post(url + "/import", data={"csrf_token": csrf_from(html)})
    assert (count(app, PenaltyCase), count(app, CaseCertificate)) == (1, 2)
    with app.app_context():
        from app.models.imports import ImportBatch

        batch_id = _db.session.scalar(select(ImportBatch.id))
    html = client.post(f"/imports/history/{batch_id}/undo", data={"csrf_token": token(client, "/imports/history")},
                       follow_redirects=True).get_data(as_text=True)
    assert "删除行政处罚案件 1 条" in html
    assert (count(app, PenaltyCase), count(app, CaseCertificate)) == (0, 0)


def test_import_details_name_the_created_officers(client, app):
    from datetime import datetime

    from app.models.imports import ImportBatch

    with app.app_context():
        a, b = OfficerFactory(name="欧阳明月"), OfficerFactory(name="司马青")
        batch = ImportBatch(token="t-names", kind="officers", filename="人员.xlsx", file_data=b"x",
                            status="imported", created_count=2, summary="新增 2 人",
                            imported_at=datetime(2026, 6, 1, 8, 0))
        batch.created_ids = {"officer": [a.id, b.id, b.id + 1000]}
        _db.session.add(batch)
        _db.session.commit()
        ids, batch_id = (a.id, b.id), batch.id
    login(client, app, "clerk")
    html = client.get(f"/imports/history/{batch_id}").get_data(as_text=True)
    created = html.split('id="created"', 1)[1].split("</ul>", 1)[0]
    assert f'<a href="/officers/{ids[0]}">欧阳明月</a>' in created
    assert f'<a href="/officers/{ids[1]}">司马青</a>' in created
    assert f"已删除（编号 {ids[1] + 1000}）" in created and "#" not in created


def test_undo_refused_when_the_officer_got_an_attachment_since(client, app, tmp_path):
    """Any record pointing at an imported officer (an attachment, an online exam sitting…) stops
    the undo with a message, not a foreign-key error."""
    login(client, app, "clerk")
    path = xlsx(tmp_path / "o.xlsx", [["姓名", "身份证号", "单位"], ["张三", id_number(), "城市管理科"]])
    url = start(client, path, "officers")
    html = client.get(url).get_data(as_text=True)
    html = client.post(url + "/check", data=mapping_form(html)).get_data(as_text=True)
    client.post(url + "/import", data={"csrf_token": csrf_from(html), "create_unit": "城市管理科"})
    with app.app_context():
        from app.models.imports import ImportBatch
        from app.models.officers import OfficerAttachment

        officer = _db.session.scalar(select(Officer))
        _db.session.add(OfficerAttachment(officer_id=officer.id, filename="证.pdf", mime="application/pdf",
                                          size=4, data=b"%PDF"))
        _db.session.commit()
        batch_id = _db.session.scalar(select(ImportBatch.id))
    resp = client.post(f"/imports/history/{batch_id}/undo", data={"csrf_token": token(client, "/imports/history")},
                       follow_redirects=True)
    assert resp.status_code == 200
    assert "不能撤销这次导入：导入的执法人员之后已有附件（1 份），不能撤销" in resp.get_data(as_text=True)
    assert count(app, Officer) == 1


def test_undo_drops_the_derived_training_hours(client, app, tmp_path):
    login(client, app, "clerk")
    path = xlsx(tmp_path / "o.xlsx", [["姓名", "身份证号", "单位"], ["张三", id_number(), "城市管理科"]])
    url = start(client, path, "officers")
    html = client.get(url).get_data(as_text=True)
    html = client.post(url + "/check", data=mapping_form(html)).get_data(as_text=True)
    client.post(url + "/import", data={"csrf_token": csrf_from(html), "create_unit": "城市管理科"})
    with app.app_context():
        from app.models.imports import ImportBatch
        from app.models.training import TrainingHours

        officer = _db.session.scalar(select(Officer))
        _db.session.add(TrainingHours(officer_id=officer.id, year=2026, hours=0.0, attended=0))
        _db.session.commit()
        batch_id = _db.session.scalar(select(ImportBatch.id))
    resp = client.post(f"/imports/history/{batch_id}/undo", data={"csrf_token": token(client, "/imports/history")},
                       follow_redirects=True)
    assert resp.status_code == 200
    assert "撤销导入“o.xlsx”：删除执法人员 1 条" in resp.get_data(as_text=True)
    assert count(app, Officer) == 0 and count(app, TrainingHours) == 0


def test_undo_refused_when_a_user_was_given_the_imported_unit(client, app, tmp_path):
    login(client, app, "admin")
    path = xlsx(tmp_path / "o.xlsx", [["姓名", "身份证号", "单位"], ["张三", id_number(), "城市管理科"]])
    url = start(client, path, "officers")
    html = client.get(url).get_data(as_text=True)
    html = client.post(url + "/check", data=mapping_form(html)).get_data(as_text=True)
    client.post(url + "/import", data={"csrf_token": csrf_from(html), "create_unit": "城市管理科"})
    with app.app_context():
        from app.models.auth import User
        from app.models.imports import ImportBatch
        from app.models.officers import Unit

        user = _db.session.scalar(select(User))
        user.unit_id = _db.session.scalar(select(Unit.id).where(Unit.name == "城市管理科"))
        _db.session.commit()
        batch_id = _db.session.scalar(select(ImportBatch.id))
    resp = client.post(f"/imports/history/{batch_id}/undo", data={"csrf_token": token(client, "/imports/history")},
                       follow_redirects=True)
    assert resp.status_code == 200
    assert "不能撤销这次导入：导入的单位之后已有用户（1 条），不能撤销" in resp.get_data(as_text=True)
    assert count(app, Officer) == 1


def test_undo_refused_when_the_officer_got_a_photo_since(client, app, tmp_path):
    login(client, app, "clerk")
    path = xlsx(tmp_path / "o.xlsx", [["姓名", "身份证号", "单位"], ["张三", id_number(), "城市管理科"]])
    url = start(client, path, "officers")
    html = client.get(url).get_data(as_text=True)
    html = client.post(url + "/check", data=mapping_form(html)).get_data(as_text=True)
    client.post(url + "/import", data={"csrf_token": csrf_from(html), "create_unit": "城市管理科"})
    with app.app_context():
        from app.models.imports import ImportBatch
        from app.models.officers import OfficerPhoto

        officer = _db.session.scalar(select(Officer))
        _db.session.add(OfficerPhoto(officer_id=officer.id, mime="image/png", data=b"\x89PNG"))
        _db.session.commit()
        batch_id = _db.session.scalar(select(ImportBatch.id))
    resp = client.post(f"/imports/history/{batch_id}/undo", data={"csrf_token": token(client, "/imports/history")},
                       follow_redirects=True)
    assert "不能撤销这次导入：导入的执法人员之后已有照片（1 张），不能撤销" in resp.get_data(as_text=True)
    assert count(app, Officer) == 1 and count(app, OfficerPhoto) == 1
