"""In a real browser: the wizard's check lists the units an import would create beside the
registered units with close names; unticked, the import is refused row by row and writes
nothing; ticked (全部勾选), they are created."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.factories import UnitFactory, id_number
from tests.sheets import xlsx


def counts(app):
    from app.extensions import db
    from app.models.officers import Officer, Unit

    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Officer, Unit))


def test_new_units_tick_list(app, live_server, logged_in, tmp_path):
    with app.app_context():
        from app.extensions import db

        UnitFactory(name="南岸区城市管理局")
        db.session.commit()
    sheet = xlsx(tmp_path / "名册.xlsx", [["序号", "姓名", "身份证号", "单位", "是否在执法岗位"],
                                          [1, "甲", id_number(), "南岸区城管局", "√"],
                                          [2, "乙", id_number(), "海棠溪街道综合执法大队", "×"]])
    page = logged_in("clerk")

    def to_check():
        page.goto(f"{live_server}/imports")
        page.select_option("select[name=kind]", "officers")
        page.set_input_files("input[name=file]", str(sheet))
        page.click("#wizard-upload")
        page.wait_for_selector("text=列名在第 1 行")
        assert page.input_value("select[name='map:是否在执法岗位']") == "on_enforcement_post"
        page.click("button:text-is('下一步：检查')")
        page.wait_for_selector("#new-units")

    to_check()
    rows = page.locator("#new-units tbody tr")
    assert rows.count() == 2
    assert re.sub(r"\s+", " ", rows.nth(0).inner_text()).strip() == "南岸区城管局 南岸区城市管理局"
    assert not page.is_checked("#unit-1") and not page.is_checked("#unit-2")
    page.screenshot(path=str(tmp_path / "units.png"), full_page=True)

    page.check("#unit-2")  # only the team: the bureau typed differently is refused
    page.click("button:text-is('确认导入')")
    page.wait_for_selector("text=检查未通过：共 1 个问题，未写入任何数据")
    assert ("单位“南岸区城管局”尚未登记，本次导入未允许新建（相近的已有单位：南岸区城市管理局）"
            in page.inner_text("#problems"))
    assert counts(app) == (0, 1)

    to_check()
    page.click("button:text-is('全部勾选')")
    assert page.is_checked("#unit-1") and page.is_checked("#unit-2")
    page.click("button:text-is('确认导入')")
    page.wait_for_url(re.compile(r".*/imports/history/\d+$"))
    assert "导入成功" in page.inner_text("body") and "新建单位 2 个" in page.inner_text("body")
    assert counts(app) == (2, 3)
