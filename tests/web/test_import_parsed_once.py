"""An upload is read from its workbook once: the preview's reloads, the check and the import read
the rows kept at the first preview (the stored workbook is not read again)."""

from __future__ import annotations

from sqlalchemy import func, select, update

from app.extensions import db as _db
from app.models.imports import ImportBatch
from app.models.officers import Officer
from tests.conftest import csrf_from, login
from tests.factories import UnitFactory, id_number
from tests.sheets import xlsx
from tests.web.test_import_wizard import mapping_form, start


def test_preview_reload_check_and_import_do_not_read_the_workbook_again(client, app, tmp_path):
    with app.app_context():
        UnitFactory(name="城市管理科")
        _db.session.commit()
    a, b = id_number(), id_number()
    path = xlsx(tmp_path / "名册.xlsx", [["姓名", "身份证号", "单位"], ["甲", a, "城市管理科"],
                                         ["乙", b, "城市管理科"]])
    login(client, app, "clerk")
    url = start(client, path, "officers")
    assert "<td>甲</td>" in client.get(url).get_data(as_text=True)
    with app.app_context():  # the stored workbook can no longer be read
        _db.session.execute(update(ImportBatch).values(file_data=b"not a workbook any more"))
        _db.session.commit()
    html = client.get(url).get_data(as_text=True)
    assert "<td>甲</td>" in html and "<td>乙</td>" in html
    html = client.post(url + "/check", data=mapping_form(html)).get_data(as_text=True)
    assert "检查通过：执法人员 2 条（新增 2，更新 0）" in html
    client.post(url + "/import", data={"csrf_token": csrf_from(html)})
    with app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(Officer)) == 2
