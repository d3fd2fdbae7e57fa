"""In a real browser: every button on /documents downloads the document it names (a button's
`formaction` wins over its form's `action`), and the QR prefix shown on the page."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from app.extensions import db as _db
from app.models.exams import Exam, ExamResult
from app.models.training import Attendance, TrainingSession
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory

pytestmark = pytest.mark.engine_independent

# (card heading, button label, the title the PDF must carry, titles it must not carry)
BUTTONS = [
    ("持证人员名册 / 执法人员公示名单", "持证人员名册", "持证人员名册", "执法人员公示名单"),
    ("持证人员名册 / 执法人员公示名单", "公示名单", "执法人员公示名单", "持证人员名册"),
    ("证件到期提醒", "到期提醒", "证件到期提醒", None),
    ("培训签到表 / 培训合格证书", "签到表", "培训签到表", "培训合格证书"),
    ("培训签到表 / 培训合格证书", "合格证书", "培训合格证书", "培训签到表"),
    ("考试成绩登记表 / 考试合格证明", "成绩登记表", "考试成绩登记表", "考试合格证明"),
    ("考试成绩登记表 / 考试合格证明", "合格证明", "考试合格证明", "考试成绩登记表"),
    ("培训台账", "培训台账", "年度培训台账", None),
]


@pytest.fixture
def printable(app):
    with app.app_context():
        unit = UnitFactory(name="城市管理科")
        officer = OfficerFactory(name="曾小单", unit=unit)
        CertificateFactory(officer=officer, expires_on=date.today() + timedelta(days=20))
        session = TrainingSession(title="行政处罚法专题培训", category="general_law",
                                  held_on=date.today() - timedelta(days=10), hours=6)
        exam = Exam(title="行政执法资格考试", kind="qualification", held_on=date.today() - timedelta(days=5),
                    max_score=100, pass_score=60)
        _db.session.add_all([session, exam])
        _db.session.flush()
        _db.session.add(Attendance(session_id=session.id, officer_id=officer.id, status="attended",
                                   credited_hours=6))
        _db.session.add(ExamResult(exam_id=exam.id, officer_id=officer.id, score=88, absent=False))
        _db.session.commit()


def test_each_documents_button_downloads_its_own_pdf(app, live_server, logged_in, printable, tmp_path):
    page = logged_in("clerk")
    page.goto(f"{live_server}/documents")
    page.on("dialog", lambda dialog: dialog.accept())  # the loopback-QR confirmation
    for n, (card, label, title, other) in enumerate(BUTTONS):
        form = page.locator(".card", has=page.locator(f"h2:text-is('{card}')"))
        with page.expect_download() as info:
            form.locator(f"button:text-is('{label}')").click()
        path = tmp_path / f"{n}.pdf"
        info.value.save_as(path)
        text = PdfReader(io.BytesIO(path.read_bytes())).pages[0].extract_text()
        assert title in text, (label, text[:80])
        if other:
            assert other not in text, (label, text[:80])
        assert "曾小单" in text, label
        # the PDF came through its background job's page; back to the buttons for the next one
        assert "/jobs/" in page.url, label
        page.goto(f"{live_server}/documents")


def test_certificate_button_asks_before_printing_loopback_qr_codes(app, live_server, logged_in, printable):
    page = logged_in("clerk")
    page.goto(f"{live_server}/documents")
    # the QR prefix in use is shown, and on loopback the page warns
    assert f"{live_server}/verify/" in page.locator("#qr-prefix").inner_text()
    assert page.locator("#qr-loopback-warning").is_visible()
    seen = []

    def dismiss(dialog):
        seen.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    downloads = []
    page.on("download", lambda d: downloads.append(d))
    form = page.locator(".card", has=page.locator("h2:text-is('培训签到表 / 培训合格证书')"))
    form.locator("button:text-is('合格证书')").click()
    page.wait_for_timeout(500)
    assert seen and "本机地址" in seen[0]
    assert not downloads and page.url == f"{live_server}/documents"
