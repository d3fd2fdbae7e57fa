"""A candidate takes a short exam in the browser, reloads mid-exam without losing answers, submits."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.online_data import KEY, exam_with_bank

pytestmark = pytest.mark.engine_independent


def answer_current(page):
    """Answer the question on screen with its right answer; returns the stem."""
    stem = page.locator("#questions .stem").inner_text()
    for choice in KEY[stem]:
        page.locator(f'#questions input[value="{choice}"]').check()
    expect(page.locator("#save-state")).to_have_text("答案已保存")
    return stem


def test_take_exam_reload_and_submit(app, runner, page, live_server, tmp_path):
    exam_id, (cand,) = exam_with_bank(app, runner, tmp_path, 1)
    page.goto(f"{live_server}/exam")
    page.fill("#id_number", cand["id_number"])
    page.fill("#code", cand["code"])
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#paper-view:not([hidden])")
    assert page.locator("#exam-title").inner_text() == "法治理论考试"
    assert page.locator("#countdown").inner_text().startswith("剩余 ")
    first = answer_current(page)
    page.click("#next-btn")
    answer_current(page)
    page.locator("#questions .mark-review").check()  # mark question 2 for review
    assert page.locator("#progress").inner_text() == "已答 2 / 5"

    page.reload()  # mid-exam: the answers come back from the server
    page.wait_for_selector("#paper-view:not([hidden])")
    assert page.locator("#progress").inner_text() == "已答 2 / 5"
    page.locator("#question-nav button").nth(0).click()
    assert page.locator("#questions .stem").inner_text() == first
    for choice in KEY[first]:
        assert page.locator(f'#questions input[value="{choice}"]').is_checked()
    assert "marked" in (page.locator("#question-nav button").nth(1).get_attribute("class") or "")

    page.click("#mode-all")  # the whole paper at once, answer the rest
    for box in page.locator("#questions .question").all():
        stem = box.locator(".stem").inner_text()
        for choice in KEY[stem]:
            box.locator(f'input[value="{choice}"]').check()
    expect(page.locator("#save-state")).to_have_text("答案已保存")
    assert page.locator("#progress").inner_text() == "已答 5 / 5"

    page.click("#submit-btn")
    assert "1 题标记了复查" in page.locator("#confirm-text").inner_text()
    page.click("#confirm-no")  # back to check, then submit for real
    page.click("#submit-btn")
    page.click("#confirm-yes")
    page.wait_for_selector("#done-view:not([hidden])")
    assert "得分 10 / 10，合格" in page.locator("#done-text").inner_text()

    res = runner.invoke(args=["exams", "results", str(exam_id), "--format", "json"])
    (row,) = json.loads(res.output)
    assert (row["score"], row["passed"], row["absent"]) == (10, True, False)
    page.reload()  # after submission the page does not offer the paper again
    page.wait_for_selector("#login-view:not([hidden])")


def test_time_out_submits_automatically(app, runner, page, live_server, tmp_path):
    from datetime import timedelta

    from sqlalchemy import select

    from app.extensions import db
    from app.models.online import OnlineExam
    from app.models_base import utcnow

    exam_id, (cand,) = exam_with_bank(app, runner, tmp_path, 1)
    page.goto(f"{live_server}/exam")
    page.fill("#id_number", cand["id_number"])
    page.fill("#code", cand["code"])
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#paper-view:not([hidden])")
    answer_current(page)
    with app.app_context():  # the invigilator's clock: four seconds left
        online = db.session.scalar(select(OnlineExam).where(OnlineExam.exam_id == exam_id))
        online.ends_at = utcnow() + timedelta(seconds=4)
        db.session.commit()
    page.reload()
    expect(page.locator("#done-view")).to_be_visible(timeout=15000)
    assert "考试时间到" in page.locator("#done-text").inner_text()
    res = runner.invoke(args=["exams", "results", str(exam_id), "--format", "json"])
    (row,) = json.loads(res.output)
    assert row["absent"] is False and row["score"] > 0
