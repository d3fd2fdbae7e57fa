"""Small wording faults a person meets every day: the user menu, the reminders page, the date
boxes, the exam enrolment messages."""

from __future__ import annotations

import html as htmllib
import re
from datetime import date
from pathlib import Path

from app.extensions import db as _db
from tests.conftest import login, token
from tests.factories import CertificateFactory, OfficerFactory, id_number

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_user_menu_names_the_role_once_when_the_name_is_the_role(app, client):
    from app.models.auth import User

    login(client, app, "admin", username="root")
    with app.app_context():
        user = _db.session.scalar(_db.select(User).where(User.username == "root"))
        user.display_name = "系统管理员"
        _db.session.commit()
    menu = client.get("/").get_data(as_text=True).split('id="user-menu">', 1)[1].split("</a>", 1)[0]
    assert menu.strip() == "系统管理员"
    with app.app_context():
        user = _db.session.scalar(_db.select(User).where(User.username == "root"))
        user.display_name = "张科长"
        _db.session.commit()
    menu = client.get("/").get_data(as_text=True).split('id="user-menu">', 1)[1].split("</a>", 1)[0]
    assert menu.strip() == "张科长（系统管理员）"


def test_reminders_page_never_asks_for_a_shell_command(app, client):
    for role in ("viewer", "clerk", "admin"):
        c = app.test_client()
        login(c, app, role)
        page = c.get("/reminders").get_data(as_text=True)
        last_run = page.split('id="last-run"', 1)[1].split("</div>", 1)[0]
        assert "flask" not in page and "<code>" not in last_run, role
        assert "定时自动发送" in last_run
    assert "立即发送到期提醒" in last_run and 'href="/jobs"' in last_run  # the admin's button


def test_every_date_box_is_the_same_widget(app, client):
    """No template draws a browser date box of its own; every date box on the pages reads and
    shows 2024年3月1日 the same way (the forms' CnDateField and the filters' date_input)."""
    own = [str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html")
           if re.search(r'type="date"', p.read_text(encoding="utf-8"))]
    assert not own, own
    with app.app_context():
        o = OfficerFactory()
        cert = CertificateFactory(officer=o)
        _db.session.commit()
        oid, cid = o.id, cert.id
    login(client, app, "admin")
    boxes = 0
    for url in ("/certificates", "/audit", "/reminders", "/reviews", "/training/new", "/exams/new",
                "/cases/new", f"/officers/{oid}/edit", f"/certificates/{cid}/edit", f"/officers/{oid}/certificates/new",
                f"/certificates/{cid}/actions/suspend"):
        page = client.get(url).get_data(as_text=True)
        for tag in re.findall(r"<input\b[^>]*>", page):
            name = re.search(r'name="([^"]+)"', tag)
            if name and re.search(r"(_on|^from|^to|^today|_from|_to)$", name.group(1)):
                boxes += 1
                assert 'type="text"' in tag and 'placeholder="如 2024年3月1日"' in tag, (url, tag)
                value = re.search(r'value="([^"]*)"', tag)
                assert not value or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.group(1)), (url, tag)
    assert boxes >= 10


def _flashes(html: str) -> str:
    return htmllib.unescape(" ".join(re.findall(r'<div class="alert[^"]*"[^>]*>(.*?)<button', html, re.S)))


def test_enrolment_names_what_is_wrong_with_each_entry(app, client):
    from app.models.exams import Exam, ExamResult

    with app.app_context():
        exam = Exam(title="2026年度行政执法资格考试", held_on=date(2026, 9, 1))
        enrolled = OfficerFactory(name="已报名")
        fresh = OfficerFactory(name="新考生")
        OfficerFactory(name="老同志", employment_status="retired")
        _db.session.add(exam)
        _db.session.flush()
        _db.session.add(ExamResult(exam=exam, officer_id=enrolled.id, score=None, absent=False))
        _db.session.commit()
        exam_id, numbers = exam.id, (enrolled.id_number, fresh.id_number)
    unknown = id_number(date(1990, 1, 1), "M")
    typo = numbers[1][:-1] + ("0" if numbers[1][-1] != "0" else "1")
    login(client, app, "clerk")
    text = "\n".join([numbers[0], numbers[1], unknown, typo, "5001051990010", "老同志"])
    html = client.post(f"/exams/{exam_id}/candidates", data={
        "csrf_token": token(client, f"/exams/{exam_id}"), "mode": "hand", "officers": text},
        follow_redirects=True).get_data(as_text=True)
    said = _flashes(html)
    assert "已添加 1 名考生" in said
    assert "已在考生名单中，未重复添加：已报名" in said
    assert f"身份证号“{unknown[:6]}" in said and "不在人员名单中" in said
    assert "校验位错误" in said
    assert "“5001051990010”不是有效的身份证号：应为18位，实际为13位" in said
    assert "老同志（退休）不在职，不能报名考试" in said
    with app.app_context():
        names = set(_db.session.scalars(_db.select(ExamResult.officer_id).where(ExamResult.exam_id == exam_id)))
    assert len(names) == 2
