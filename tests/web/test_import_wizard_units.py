"""The web import: extra columns are left out and named (upload-and-import and the wizard), the
wizard maps 是否在执法岗位 by itself and skips the template's example row, and a unit the import
would create is listed beside the registered units with close names and created only when ticked."""

from __future__ import annotations

import io
import re

import openpyxl
from sqlalchemy import func, select

from app.extensions import db as _db
from app.models.officers import Officer, Unit
from tests.conftest import csrf_from, login, token
from tests.factories import UnitFactory, id_number
from tests.sheets import xlsx
from tests.web.test_import_wizard import mapping_form, start


def count(app, model):
    with app.app_context():
        return _db.session.scalar(select(func.count()).select_from(model))


def direct(client, path, kind="officers"):
    form = {"csrf_token": token(client, "/imports"), "kind": kind,
            "file": (io.BytesIO(path.read_bytes()), path.name)}
    return client.post("/imports", data=form, content_type="multipart/form-data",
                       follow_redirects=True).get_data(as_text=True)


def roster(tmp_path, unit="城市管理科"):
    return xlsx(tmp_path / "名册.xlsx", [
        ["序号", "姓名", "身份证号", "单位", "是否在执法岗位", "备注"],
        [1, "甲", id_number(), unit, "√", "新调入"],
        [2, "乙", id_number(), unit, "否", ""]])


def test_upload_and_import_names_the_columns_left_out(client, app, tmp_path):
    with app.app_context():
        UnitFactory(name="城市管理科")
        _db.session.commit()
    login(client, app, "clerk")
    html = direct(client, roster(tmp_path))
    assert "导入成功：导入执法人员 2 条（新增 2，更新 0）。已忽略的列：备注" in html
    with app.app_context():
        assert dict(_db.session.execute(select(Officer.name, Officer.on_enforcement_post)).all()) == {
            "甲": True, "乙": False}


def test_wizard_maps_the_synonym_and_leaves_out_the_rest(client, app, tmp_path):
    with app.app_context():
        UnitFactory(name="城市管理科")
        _db.session.commit()
    login(client, app, "clerk")
    url = start(client, roster(tmp_path), "officers")
    html = client.get(url).get_data(as_text=True)
    form = mapping_form(html)
    assert form["map:是否在执法岗位"] == "on_enforcement_post"
    assert form["map:序号"] == form["map:备注"] == "__ignore__"
    html = client.post(url + "/check", data=form).get_data(as_text=True)
    assert "检查通过：执法人员 2 条（新增 2，更新 0）" in html
    assert "已忽略的列：备注" in html and "新建" not in html
    client.post(url + "/import", data={"csrf_token": csrf_from(html)})
    assert count(app, Officer) == 2


def test_wizard_skips_the_template_example_row(client, app, tmp_path):
    login(client, app, "clerk")
    wb = openpyxl.load_workbook(io.BytesIO(client.get("/imports/template/officers.xlsx").data))
    for c, value in enumerate(["李四", id_number(), "城市管理科"], start=1):
        wb.active.cell(row=3, column=c, value=value)
    path = tmp_path / "模板.xlsx"
    wb.save(path)
    url = start(client, path, "officers")
    preview = client.get(url).get_data(as_text=True)
    assert re.search(r"<td>2 <span[^>]*>示例行，不导入</span></td><td>张三</td>", preview)
    assert "<td>3</td><td>李四</td>" in preview
    html = client.post(url + "/check", data=mapping_form(preview)).get_data(as_text=True)
    assert "检查通过：执法人员 1 条（新增 1，更新 0）" in html
    assert "已跳过模板示例行 第2行（模板自带的示例，不会导入）" in html
    client.post(url + "/import", data={"csrf_token": csrf_from(html), "create_unit": "城市管理科"})
    with app.app_context():
        assert list(_db.session.scalars(select(Officer.name))) == ["李四"]


def new_unit_rows(html):
    """(unit in the file, the registered units beside it) of the check page's tick list."""
    body = re.search(r'<div class="card mb-3" id="new-units">(.*?)</table>', html, re.S).group(1)
    return [(name, near) for name, near in re.findall(
        r'<label for="unit-\d+">([^<]+)</label></td>\s*<td>([^<]+)</td>', body)]


def test_new_units_are_listed_and_created_only_when_ticked(client, app, tmp_path):
    with app.app_context():
        UnitFactory(name="南岸区城市管理局")
        _db.session.commit()
    path = xlsx(tmp_path / "o.xlsx", [["姓名", "身份证号", "单位"],
                                      ["甲", id_number(), "南岸区城管局"],
                                      ["乙", id_number(), "南岸区城市管理局"],
                                      ["丙", id_number(), "海棠溪街道综合执法大队"]])
    login(client, app, "clerk")
    url = start(client, path, "officers")
    html = client.post(url + "/check", data=mapping_form(client.get(url).get_data(as_text=True))
                       ).get_data(as_text=True)
    assert new_unit_rows(html) == [("南岸区城管局", "南岸区城市管理局"), ("海棠溪街道综合执法大队", "（无）")]
    assert 'name="create_unit" value="南岸区城管局"' in html and "checked" not in html

    # only one ticked: the rows of the other are refused by row and column, nothing written
    html = client.post(url + "/import", data={"csrf_token": csrf_from(html),
                                              "create_unit": "海棠溪街道综合执法大队"}).get_data(as_text=True)
    assert "检查未通过：共 1 个问题，未写入任何数据" in html
    assert re.search(r"<td>2</td><td>单位</td><td>单位“南岸区城管局”尚未登记，本次导入未允许新建"
                     r"（相近的已有单位：南岸区城市管理局）", html)
    assert count(app, Officer) == 0 and count(app, Unit) == 1

    # fixed in the file? here the person ticks both instead: everything is written
    html = client.post(url + "/check", data=mapping_form(client.get(url).get_data(as_text=True))
                       ).get_data(as_text=True)
    resp = client.post(url + "/import", data={"csrf_token": csrf_from(html),
                                              "create_unit": ["南岸区城管局", "海棠溪街道综合执法大队"]},
                       follow_redirects=True)
    assert "导入成功：导入执法人员 3 条（新增 3，更新 0），新建单位 2 个" in resp.get_data(as_text=True)
    assert count(app, Officer) == 3 and count(app, Unit) == 3


def test_nothing_ticked_refuses_every_row_of_a_new_unit(client, app, tmp_path):
    path = xlsx(tmp_path / "o.xlsx", [["姓名", "身份证号", "单位"], ["甲", id_number(), "新科室"],
                                      ["乙", id_number(), "新科室"]])
    login(client, app, "clerk")
    url = start(client, path, "officers")
    html = client.post(url + "/check", data=mapping_form(client.get(url).get_data(as_text=True))
                       ).get_data(as_text=True)
    html = client.post(url + "/import", data={"csrf_token": csrf_from(html)}).get_data(as_text=True)
    assert "检查未通过：共 2 个问题，未写入任何数据" in html
    assert len(re.findall(r"<td>[23]</td><td>单位</td><td>单位“新科室”尚未登记", html)) == 2
    assert count(app, Officer) == 0 and count(app, Unit) == 0
