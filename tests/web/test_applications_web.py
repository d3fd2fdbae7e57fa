"""申请审批 on the web: a street clerk submits from the officer page, each step decides on the
detail page (with a return and a resubmission), the card appears on the officer page; 待办 on the
dashboard, notifications, overdue list, export, printed form, batch for an exam's class, calendar."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest

from app.extensions import db as _db
from tests.conftest import PASSWORD, csrf_from
from tests.web.test_applications_api import flow  # noqa: F401  (the same units, people and users)


def signed_in(app, username: str):
    client = app.test_client()
    page = client.get("/login")
    resp = client.post("/login", data={"username": username, "password": PASSWORD,
                                       "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert resp.status_code == 302
    return client


def text(resp) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", resp.get_data(as_text=True)))


def post(client, url, data, page="/"):
    return client.post(url, data={**data, "csrf_token": csrf_from(client.get(page).get_data(as_text=True))})


@pytest.fixture
def users(app, flow):  # noqa: F811
    return {u: signed_in(app, u) for u in ("street_clerk", "street_admin", "legal", "chief", "issuer")}


def test_one_application_through_every_step_on_the_web(app, flow, users):  # noqa: F811
    clerk = users["street_clerk"]
    officer_id = flow.ids["张三"][0]
    page = text(clerk.get(f"/officers/{officer_id}"))
    assert "申请 0 份" in page and "没有申领、换证、补证或注销申请" in page
    resp = post(clerk, "/applications/new", {"officer_id": officer_id, "kind": "new", "reason": "新任执法岗位",
                                             "submitted_on": "2026年6月12日"},
                f"/applications/new?officer_id={officer_id}")
    assert resp.status_code == 302
    detail_url = resp.headers["Location"]
    page = text(clerk.get(detail_url))
    assert "申领申请 SQ2026-00001" in page and "单位初审" in page and "2026年6月12日" in page
    assert "2026年6月29日" in page  # 10 working days after Friday 12 June (Dragon Boat Festival 19 June off)
    assert "这是您提交的申请，由他人审批" in page
    # 单位初审: the street's admin sees it in 待办 and was notified
    admin = users["street_admin"]
    dash = text(admin.get("/"))
    assert "待办 1 份申请" in dash and "SQ2026-00001" in dash
    assert "待单位初审" in text(admin.get("/notifications"))
    assert post(admin, detail_url + "/decision", {"decision": "approve", "reason": "材料齐全"},
                detail_url).status_code == 302
    assert "法制审核" in text(admin.get(detail_url)) and "不由您办理" in text(admin.get(detail_url))
    # 法制审核 returns it; the clerk resubmits; it comes back to 法制审核
    legal = users["legal"]
    resp = post(legal, detail_url + "/decision", {"decision": "return", "reason": ""}, detail_url)
    assert "须写明理由" in text(legal.get(detail_url))
    post(legal, detail_url + "/decision", {"decision": "return", "reason": "照片不清晰"}, detail_url)
    page = text(clerk.get(detail_url))
    assert "退回补正" in page and "照片不清晰" in page and "重新提交到法制审核" in page
    assert "补正后重新提交" in text(clerk.get("/")) and "照片不清晰" in text(clerk.get("/notifications"))
    post(clerk, detail_url + "/resubmit", {"note": "已换照片"}, detail_url)
    post(legal, detail_url + "/decision", {"decision": "approve"}, detail_url)
    post(users["chief"], detail_url + "/decision", {"decision": "approve", "reason": "同意发证"}, detail_url)
    issuer = users["issuer"]
    assert "未设置编号规则，须填写" in text(issuer.get(detail_url))
    post(issuer, detail_url + "/decision", {"decision": "approve", "certificate_number": "ZF-2026-001",
                                            "issued_on": "2026年6月15日", "handed_to": "张三本人"}, detail_url)
    page = text(issuer.get(detail_url))
    assert "办结" in page and "ZF-2026-001" in page and "领证人 张三本人" in page
    steps = re.findall(r"(提交|单位初审|法制审核|审批|制证发证) (提交申请|同意|退回补正|补正后重新提交)", page)
    assert steps == [("提交", "提交申请"), ("单位初审", "同意"), ("法制审核", "退回补正"),
                     ("法制审核", "补正后重新提交"), ("法制审核", "同意"), ("审批", "同意"), ("制证发证", "同意")]
    page = text(clerk.get(f"/officers/{officer_id}"))
    assert "ZF-2026-001" in page and "申请 1 份" in page and "办结" in page
    listed = text(clerk.get("/applications?state=done"))
    assert "SQ2026-00001" in listed and "张三" in listed
    xlsx = clerk.get("/applications.xlsx?state=done")
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    values = [c for row in wb.active.iter_rows(values_only=True) for c in row if c]
    assert "SQ2026-00001" in values and "办结" in values


def test_a_step_not_yours_is_refused_and_rejection_needs_a_reason(app, flow, users):  # noqa: F811
    a = flow.submit(kind="new", id_number=flow.ids["张三"][1]).get_json()
    url = f"/applications/{a['id']}"
    assert post(users["legal"], url + "/decision", {"decision": "approve"}, url).status_code == 403
    post(users["street_admin"], url + "/decision", {"decision": "reject", "reason": ""}, url)
    assert "单位初审" in text(users["street_admin"].get(url))
    post(users["street_admin"], url + "/decision", {"decision": "reject", "reason": "编制信息有误"}, url)
    page = text(users["street_admin"].get(url))
    assert "不予批准" in page and "编制信息有误" in page
    assert 'id="decision"' not in users["street_admin"].get(url).get_data(as_text=True)


def test_refused_submission_says_why_and_creates_nothing(app, flow, users):  # noqa: F811
    officer_id = flow.ids["张三"][0]
    resp = post(users["street_clerk"], "/applications/new", {"officer_id": officer_id, "kind": "cancel"},
                "/applications/new")
    assert resp.status_code == 200
    assert "申请未提交：张三没有有效或暂扣的行政执法证，不能注销" in text(resp)
    resp = post(users["street_clerk"], "/applications/new", {"officer_id": officer_id, "kind": "new",
                                                            "submitted_on": "2026年2月30日"}, "/applications/new")
    assert resp.status_code == 200 and "收件日期" in text(resp)
    assert "还没有申请" in text(users["street_clerk"].get("/applications"))


def test_overdue_paper_application_is_listed_marked_and_counted(app, flow, users, set_today):  # noqa: F811
    set_today(date(2024, 10, 17))
    flow.submit(kind="renew", id_number=flow.ids["赵六"][1], submitted_on="2024-09-27")
    page = users["street_admin"].get("/applications?overdue=1").get_data(as_text=True)
    assert "逾期 1" in text(users["street_admin"].get("/applications"))
    assert "table-danger" in page and "2024年10月16日" in text(users["street_admin"].get("/applications?overdue=1"))
    dash = text(users["street_admin"].get("/"))
    assert "待办 1 份申请" in dash and "其中 1 份逾期" in dash


def test_printed_form_has_the_photo_decisions_and_seal_block(app, flow, users):  # noqa: F811
    a = flow.submit(kind="new", id_number=flow.ids["张三"][1], reason="新任").get_json()
    url = f"/applications/{a['id']}"
    post(users["street_admin"], url + "/decision", {"decision": "approve", "reason": "同意上报"}, url)
    resp = users["street_clerk"].get(url + ".pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    from pypdf import PdfReader

    pdf = "".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.data)).pages)
    for words in ("行政执法证申领审批表", "张三", "甲街道", a["number"], "单位初审", "同意上报", "street_admin",
                  "（盖章）"):
        assert words in pdf, words


def test_batch_submits_one_application_for_each_who_passed(app, flow, users):  # noqa: F811
    from app.models.applications import Application
    from app.models.exams import Exam

    with app.app_context():
        exam_id = _db.session.scalar(_db.select(Exam.id))
    page = text(users["street_clerk"].get(f"/applications/batch?exam_id={exam_id}"))
    assert "合格 1 人" in page and "张三" in page
    url = f"/applications/batch?exam_id={exam_id}"
    resp = post(users["street_clerk"], "/applications/batch", {"exam_id": exam_id, "reason": "考试合格"}, url)
    assert resp.status_code == 302
    with app.app_context():
        assert [a.state for a in _db.session.scalars(_db.select(Application))] == ["unit_review"]
    resp = post(users["street_clerk"], "/applications/batch", {"exam_id": exam_id}, url)
    assert "1 人未提交" in text(resp) and "张三已有一份申领申请正在办理" in text(resp)


def test_calendar_page_saves_a_year_and_refuses_bad_lines(app, flow):  # noqa: F811
    admin = signed_in(app, "chief")
    page = text(admin.get("/applications/calendar?year=2027"))
    assert "2027 年尚无节假日安排" in page
    post(admin, "/applications/calendar", {"year": 2027, "days": "2027-01-01 休 元旦\n2027-02-07 班"},
         "/applications/calendar?year=2027")
    page = text(admin.get("/applications/calendar?year=2027"))
    assert "2027-01-01 休 元旦" in page and "按下面录入的节假日" in page
    resp = post(admin, "/applications/calendar", {"year": 2027, "days": "2027-13-01 休"}, "/applications/calendar")
    assert "日期“2027-13-01”不存在" in text(resp)
    assert signed_in(app, "legal").get("/applications/calendar").status_code == 403


def test_settings_name_the_steps_deadline_and_numbering_and_refuse_bad_ones(app, flow, runner):  # noqa: F811
    page = text(signed_in(app, "chief").get("/settings"))
    for words in ("证件申请审批环节", "每个审批环节办理期限（工作日）", "证号编号规则", "地区码", "工作日历"):
        assert words in page, words
    bad = runner.invoke(args=["settings", "set", "application_steps", "制证发证,审批"])
    assert bad.exit_code == 1 and "最后一个环节应为“制证发证”" in bad.output
    bad = runner.invoke(args=["settings", "set", "certificate_number_pattern", "{地区码}{年份:3}"])
    assert bad.exit_code == 1 and "{序号:位数}" in bad.output
    ok = runner.invoke(args=["settings", "set", "application_steps", "单位初审,审批,制证发证"])
    assert ok.exit_code == 0, ok.output
    a = flow.submit(kind="new", id_number=flow.ids["张三"][1]).get_json()
    assert flow.decide("street_admin", a["id"], "approve").get_json()["state"] == "approval"


def test_list_ignores_bad_filters_with_a_message(app, flow, users):  # noqa: F811
    clerk = users["street_clerk"]
    resp = clerk.get("/applications?from=2024-02-30&unit=abc&sort=zzz&page=x&state=nope&kind=&overdue=2")
    assert resp.status_code == 200 and "收件日起" in text(resp)
    assert clerk.get("/applications/999999").status_code == 404
    assert clerk.get("/applications/999999.pdf").status_code == 404
    assert clerk.get("/notifications/999999").status_code == 404
    a = flow.submit(kind="new", id_number=flow.ids["张三"][1]).get_json()
    url = f"/applications/{a['id']}"
    resp = post(users["street_admin"], url + "/decision", {"decision": "approve", "issued_on": "2026年2月30日"}, url)
    assert resp.status_code == 302 and "单位初审" in text(users["street_admin"].get(url))
