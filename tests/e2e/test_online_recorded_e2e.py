"""In the browser: the exam page lists a candidate whose result is already recorded; the admin's
replace asks first, naming the issued 考试合格证明, and then records the choice."""

from __future__ import annotations

import os

import pytest

from tests.conftest import TODAY
from tests.online_data import exam_with_bank
from tests.web.test_online_vs_recorded import enter_score, print_pass_document, result_of


@pytest.fixture(autouse=True)
def _today(set_today):
    set_today(TODAY)


def test_replace_confirmation_names_the_document(app, runner, client, tmp_path, logged_in, live_server):
    from tests.conftest import login

    exam_id, (a, _b) = exam_with_bank(app, runner, tmp_path, 2, open_now=False)
    login(client, app, "admin", username="admin_setup")
    rid, oid, _s, _ab = result_of(app, exam_id, a["id_number"])
    enter_score(client, exam_id, rid, "7.5")
    print_pass_document(client, exam_id, oid)

    page = logged_in("admin", username="e2e_admin")
    page.goto(f"{live_server}/exams/{exam_id}/online")
    row = page.locator(f"#recorded tr[data-name='{a['name']}']")
    assert "7.5分（合格）" in row.inner_text() and "不参加" in row.inner_text()
    if os.environ.get("SHOT_DIR"):
        page.screenshot(path=f"{os.environ['SHOT_DIR']}/recorded-before.png", full_page=True)
    row.locator("input[name=reason]").fill("本人申请参加机考")
    row.locator("input[name=withdraw_document]").check()
    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    row.locator("button").click()
    page.wait_for_load_state()
    page.locator(".alert-success").wait_for()
    assert asked and "考试合格证明（编号 考〔2026〕" in asked[0] and "将被撤回" in asked[0]
    row = page.locator(f"#recorded tr[data-name='{a['name']}']")
    assert "机考成绩替换已有成绩（原因：本人申请参加机考）" in row.inner_text()
    assert "已撤回：本人申请参加机考" in row.inner_text()
    if os.environ.get("SHOT_DIR"):
        page.screenshot(path=f"{os.environ['SHOT_DIR']}/recorded-after.png", full_page=True)
