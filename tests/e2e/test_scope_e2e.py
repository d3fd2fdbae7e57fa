"""The unit tree page in a browser: branches fold, counts show, an admin moves a unit."""

from __future__ import annotations

import pytest

from app.extensions import db as _db

pytestmark = pytest.mark.engine_independent


def test_tree_folds_and_moves_a_unit(app, logged_in, live_server):
    from app.models.officers import Unit
    from tests.factories import OfficerFactory

    with app.app_context():
        top = Unit(name="某街道", kind="department")
        _db.session.add(top)
        _db.session.flush()
        a = Unit(name="城管科", kind="department", parent_id=top.id)
        b = Unit(name="执法队", kind="team", parent_id=top.id)
        _db.session.add_all([a, b])
        _db.session.flush()
        OfficerFactory(name="张三", unit=a)
        OfficerFactory(name="李四", unit=b)
        _db.session.commit()
        a_id, b_id = a.id, b.id
    page = logged_in("admin", "tree_admin")
    page.goto(f"{live_server}/units/tree")
    top_row = page.locator("details > summary").first
    assert "人员 2" in top_row.inner_text()
    assert page.locator(f"#unit-{a_id}").is_visible()
    page.screenshot(path="/tmp/scope_tree.png", full_page=True)
    top_row.locator(".unit-name").click()  # fold the branch
    assert not page.locator(f"#unit-{a_id}").is_visible()
    top_row.locator(".unit-name").click()
    page.on("dialog", lambda d: d.accept())
    page.select_option(f"#move-{b_id}", str(a_id))
    page.locator(f"#unit-{b_id} button[type=submit]").click()
    page.wait_for_selector("text=单位“执法队”已移动")
    with app.app_context():
        assert _db.session.get(Unit, b_id).parent_id == a_id
    page.screenshot(path="/tmp/scope_tree_moved.png", full_page=True)
