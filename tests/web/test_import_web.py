"""The import page: upload, the problem table, the success message, templates, roles."""

from __future__ import annotations

import io
import re

import openpyxl
from sqlalchemy import func, select

from app.extensions import db as _db
from app.models.officers import Officer, Unit
from tests.conftest import login, token
from tests.factories import id_number


def xlsx_bytes(rows):
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(client, data: bytes, filename="名单.xlsx", kind="officers", dry_run=False):
    form = {"csrf_token": token(client, "/imports"), "kind": kind, "file": (io.BytesIO(data), filename)}
    if dry_run:
        form["dry_run"] = "y"
    return client.post("/imports", data=form, content_type="multipart/form-data", follow_redirects=True)


def officer_count(app):
    with app.app_context():
        return _db.session.scalar(select(func.count()).select_from(Officer))


def test_page_has_form_and_template_links(client, app):
    login(client, app, "clerk")
    html = client.get("/imports").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html
    assert "仅校验（不写入）" in html
    assert "/imports/template/officers.xlsx" in html and "/imports/template/certificates.xlsx" in html
    assert 'href="/imports"' in html  # the navbar link


def test_viewer_may_not_import(client, app):
    login(client, app, "viewer")
    assert client.get("/imports").status_code == 403
    assert client.get("/imports/template/officers.xlsx").status_code == 403


def test_refused_upload_shows_the_problem_table(client, app):
    login(client, app, "clerk")
    good = id_number()
    data = xlsx_bytes([["姓名", "身份证号", "爱好"], ["张三", good, "钓鱼"]])
    html = upload(client, data).get_data(as_text=True)
    assert "导入被拒绝：共 1 个问题，未写入任何数据" in html
    assert re.search(r"<td>1</td><td></td><td>缺少必填的列“单位”（或 unit）；文件中未识别的列：爱好", html)
    data = xlsx_bytes([["姓名", "身份证号", "单位"], ["张三", good, "新单位"],
                       ["李四", good[:17] + ("1" if good[17] == "0" else "0"), "新单位"]])
    html = upload(client, data).get_data(as_text=True)
    assert re.search(r"<td>3</td><td>身份证号</td><td>身份证号校验位错误", html)
    assert officer_count(app) == 0
    with app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(Unit)) == 0


def test_successful_upload_flashes_the_summary(client, app):
    login(client, app, "clerk")
    data = xlsx_bytes([["姓名", "身份证号", "单位"], ["张三", id_number(), "城市管理科"]])
    resp = upload(client, data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "导入成功：导入执法人员 1 条（新增 1，更新 0）" in html
    assert officer_count(app) == 1


def test_dry_run_upload_writes_nothing(client, app):
    login(client, app, "clerk")
    data = xlsx_bytes([["姓名", "身份证号", "单位"], ["张三", id_number(), "城市管理科"]])
    html = upload(client, data, dry_run=True).get_data(as_text=True)
    assert "校验通过，未写入任何数据" in html
    assert officer_count(app) == 0


def test_csv_upload_and_bad_files(client, app):
    login(client, app, "clerk")
    csv_data = f"姓名,身份证号,单位\n张三,{id_number()},城市管理科\n".encode("utf-8-sig")
    assert "新增 1" in upload(client, csv_data, filename="a.csv").get_data(as_text=True)
    html = upload(client, b"hello", filename="fake.xlsx").get_data(as_text=True)
    assert "文件不是有效的 Excel (.xlsx) 文件" in html
    html = upload(client, b"hello", filename="a.doc").get_data(as_text=True)
    assert "不支持的文件类型“.doc”" in html
    form = {"csrf_token": token(client, "/imports"), "kind": "officers"}
    html = client.post("/imports", data=form, content_type="multipart/form-data").get_data(as_text=True)
    assert "请选择要导入的文件" in html


def test_template_download_round_trip(client, app):
    login(client, app, "clerk")
    resp = client.get("/imports/template/officers.xlsx")
    assert resp.status_code == 200
    assert "attachment" in resp.headers["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(resp.data))
    assert [c.value for c in wb.active[1]][:3] == ["姓名", "身份证号", "单位"]
    html = upload(client, resp.data).get_data(as_text=True)  # the example row is not data
    assert "文件中只有模板示例行（第 2 行），没有要导入的数据" in html and officer_count(app) == 0
    wb.active.append(["李四", id_number(), "城市管理科"])
    buf = io.BytesIO()
    wb.save(buf)
    assert ("导入执法人员 1 条（新增 1，更新 0），新建单位 1 个（城市管理科）。已跳过模板示例行 第2行"
            in upload(client, buf.getvalue()).get_data(as_text=True))
    assert officer_count(app) == 1


def test_upload_over_the_size_limit_is_refused_cleanly(client, app):
    login(client, app, "clerk")
    old = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 1000
    try:
        resp = upload(client, b"x" * 5000, filename="big.csv")
    finally:
        app.config["MAX_CONTENT_LENGTH"] = old
    assert resp.status_code == 413
    assert "上传的文件太大" in resp.get_data(as_text=True)
