"""The list pager in the browser: 下一页 / 上一页 follow cursors, the numbers and the last page show,
and a total past the counting cap reads as an estimate."""

from __future__ import annotations

import pytest

import app.web.lists as lists
from app.extensions import db as _db
from tests.factories import OfficerFactory, UnitFactory

pytestmark = pytest.mark.engine_independent


@pytest.fixture
def crowd(app):
    with app.app_context():
        unit = UnitFactory(name="城市管理科", sort_order=1)
        for i in range(130):
            OfficerFactory(name=["张伟", "王芳"][i % 2] if i < 60 else f"李{i:03d}", unit=unit)
        _db.session.commit()
    yield
    with app.app_context():
        _db.session.rollback()


def test_pager_walks_forward_and_back(app, crowd, logged_in, live_server, tmp_path, monkeypatch):
    page = logged_in("viewer", "pager_viewer")
    page.goto(f"{live_server}/officers?sort=name")
    first = page.locator("#officers tbody a").all_inner_texts()
    page.get_by_role("link", name="下一页").click()
    page.wait_for_url("**after=**")
    assert page.locator(".pagination .active").inner_text().strip() == "2"
    second = page.locator("#officers tbody a").all_inner_texts()
    assert len(first) == len(second) == 25
    page.get_by_role("link", name="下一页").click()
    page.wait_for_url("**page=3**")
    page.get_by_role("link", name="上一页").click()
    page.wait_for_url("**before=**")
    assert page.locator("#officers tbody a").all_inner_texts() == second
    page.locator(".pagination").get_by_role("link", name="6", exact=True).click()
    assert page.locator(".pagination .active").inner_text().strip() == "6"
    assert page.locator("#officers tbody a").count() == 130 - 5 * 25
    assert page.get_by_text("共 130 人").count() == 1
    page.goto(f"{live_server}/officers?sort=name&page=3")
    page.screenshot(path=str(tmp_path / "pager.png"), full_page=True)
    monkeypatch.setattr(lists, "COUNT_CAP", 100)
    page.goto(f"{live_server}/officers?sort=name&status=active")
    total = page.locator("#total").inner_text()
    assert total.startswith(("超过 100 人", "约 ")), total
    page.screenshot(path=str(tmp_path / "over.png"), full_page=True)
    page.locator("#pager-last").click()  # the end of the list, read backwards
    assert page.locator("#officers tbody a").all_inner_texts()[-1] == "张伟"  # zhang: last by pinyin
    page.go_back()
    page.get_by_role("link", name="精确计数").click()
    assert page.locator("#total").inner_text().startswith("共 130 人")
    page.screenshot(path=str(tmp_path / "estimate.png"))
