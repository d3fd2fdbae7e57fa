"""In a real browser: a PDF from the 打印 menu is made by a background job — the page follows the
202 to the job's page, which then downloads the file with its Chinese name; a small export arrives
directly, with the "正在生成" panel shown while it is made."""

from __future__ import annotations

import pytest

from tests.factories import CertificateFactory, OfficerFactory, UnitFactory

pytestmark = pytest.mark.engine_independent


def test_print_menu_downloads_roster_pdf(app, live_server, logged_in, tmp_path):
    with app.app_context():
        from app.extensions import db

        unit = UnitFactory(name="城市管理科")
        CertificateFactory(officer=OfficerFactory(name="曾小单", unit=unit))
        db.session.commit()
    page = logged_in("viewer")
    page.click("nav a.dropdown-toggle:text-is('打印')")
    with page.expect_download() as info:
        page.click("text=持证人员名册")
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    assert "名册" in download.suggested_filename
    path = tmp_path / "roster.pdf"
    download.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
    # the browser is on the job's page, which offers the file again
    page.wait_for_selector("[data-job-download]:not(.d-none)")
    assert "/jobs/" in page.url and "已生成" in page.inner_text("#job")


def test_flags_export_downloads_xlsx(app, live_server, logged_in, tmp_path):
    with app.app_context():
        from app.extensions import db

        OfficerFactory(name="无证人员")
        db.session.commit()
    page = logged_in("clerk")
    page.goto(f"{live_server}/flags")
    with page.expect_download() as info:
        page.click("#export-xlsx")
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    path = tmp_path / "flags.xlsx"
    download.save_as(path)
    import openpyxl

    ws = openpyxl.load_workbook(path).active
    assert "无证人员" in [c.value for c in ws["C"]]
