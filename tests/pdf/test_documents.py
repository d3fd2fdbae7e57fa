"""Every printed document: a PDF, the right names and numbers, no whole ID number, page numbers;
the roster in 拼音 order; QR verification end to end (pdftoppm + zbarimg)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.extensions import db as _db
from app.models.audit import AuditEvent
from app.models.exams import Exam, ExamResult
from app.models.officers import Officer
from app.models.training import Attendance, TrainingSession
from tests.conftest import TODAY, follow_job, login
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory

# Surnames chosen so that the everyday reading sorts differently: 曾 céng/zēng, 单 dān/shàn.
NAMES = ["张伟", "曾小明", "单田芳", "陈静", "孙丽"]
PINYIN_ORDER = ["陈静", "单田芳", "孙丽", "曾小明", "张伟"]


def pdf_text(data: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]


def assert_pdf(data: bytes, *, ids: list[str]) -> list[str]:
    """A PDF whose every page says 第 x / N 页 and which holds no whole ID number."""
    assert data[:5] == b"%PDF-"
    pages = pdf_text(data)
    n = len(pages)
    for i, text in enumerate(pages, 1):
        assert re.search(rf"第\s*{i}\s*/\s*{n}\s*页", text), (i, n, text[-200:])
    whole = "".join(pages)
    for id_number in ids:
        assert id_number not in whole
    return pages


@pytest.fixture
def data(app):
    """Two units, officers with certificates, a session and an exam. Returns plain ids."""
    with app.app_context():
        town = UnitFactory(name="城市管理科", sort_order=1)
        community = UnitFactory(name="海棠溪社区", sort_order=2)
        officers = [OfficerFactory(name=n, unit=town) for n in NAMES]
        officers.append(OfficerFactory(name="李四", unit=community))
        off_post = OfficerFactory(name="王离岗", unit=community, on_enforcement_post=False)
        expired = OfficerFactory(name="赵过期", unit=community)
        certs = [CertificateFactory(officer=o, issued_on=date(2024, 1, 1), expires_on=date(2028, 12, 31),
                                    categories="市容环境", area="南岸区") for o in officers]
        soon = officers[-1]
        certs[-1].expires_on = TODAY + timedelta(days=20)
        CertificateFactory(officer=off_post)
        CertificateFactory(officer=expired, issued_on=date(2020, 1, 1), expires_on=TODAY - timedelta(days=5))
        session = TrainingSession(title="行政处罚法专题培训", category="general_law", held_on=date(2026, 5, 20),
                                  hours=6, location="三楼会议室", organiser="司法所", lecturer="王律师")
        exam = Exam(title="2026年行政执法资格考试", kind="qualification", held_on=date(2026, 6, 1),
                    max_score=100, pass_score=60)
        _db.session.add_all([session, exam])
        _db.session.flush()
        for i, o in enumerate(officers):
            _db.session.add(Attendance(session_id=session.id, officer_id=o.id,
                                       status="attended" if i != 1 else "absent",
                                       credited_hours=6 if i != 1 else 0))
            _db.session.add(ExamResult(exam_id=exam.id, officer_id=o.id, score=90 - i * 10, absent=False))
        _db.session.commit()
        return {
            "session": session.id, "exam": exam.id,
            "officers": {o.name: o.id for o in officers + [off_post, expired]},
            "ids": [o.id_number for o in officers + [off_post, expired]],
            "numbers": {o.name: c.number for o, c in zip(officers, certs, strict=True)},
            "soon": soon.name, "cert_ids": {o.name: c.id for o, c in zip(officers, certs, strict=True)},
        }


def get_pdf(client, url: str) -> bytes:
    resp = follow_job(client, client.get(url))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == "application/pdf"
    return resp.data


def test_roster_lists_certified_officers_in_pinyin_order(app, client, data):
    login(client, app, "viewer")
    pages = assert_pdf(get_pdf(client, "/documents/roster.pdf?today=2026-06-15"), ids=data["ids"])
    text = "".join(pages)
    assert "持证人员名册" in text and "示例街道办事处" in text and "截至2026年6月15日" in text
    for name, number in data["numbers"].items():
        assert name in text and number in text
    assert "王离岗" not in text and "赵过期" not in text  # off post / expired certificate
    positions = [text.index(n) for n in PINYIN_ORDER]
    assert positions == sorted(positions), [text[p:p + 3] for p in sorted(positions)]
    assert text.index("城市管理科（5 人）") < text.index("海棠溪社区（1 人）")
    for label in ("制表人", "审核人", "单位（盖章）", "2024年1月1日", "2028年12月31日"):
        assert label in text
    with app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.action == "print")) == 1


def test_roster_for_one_unit_and_unknown_unit(app, client, data):
    login(client, app, "viewer")
    text = "".join(assert_pdf(get_pdf(client, "/documents/roster.pdf?unit=海棠溪社区&today=2026-06-15"),
                              ids=data["ids"]))
    assert "李四" in text and "张伟" not in text
    resp = client.get("/documents/roster.pdf?unit=不存在的科室", follow_redirects=True)
    assert "单位“不存在的科室”不存在" in resp.get_data(as_text=True)


def test_public_list_never_shows_id_numbers(app, client, data):
    login(client, app, "viewer")
    text = "".join(assert_pdf(get_pdf(client, "/documents/public-list.pdf"), ids=data["ids"]))
    assert "执法人员公示名单" in text and "张伟" in text and data["numbers"]["张伟"] in text
    assert "身份证" not in text and "********" not in text


def test_sign_in_sheet_and_scores_and_ledger(app, client, data):
    login(client, app, "viewer")
    text = "".join(assert_pdf(get_pdf(client, f"/documents/sign-in.pdf?session={data['session']}"),
                              ids=data["ids"]))
    assert "培训签到表" in text and "行政处罚法专题培训" in text and "签名" in text
    assert all(n in text for n in NAMES)

    text = "".join(assert_pdf(get_pdf(client, f"/documents/scores.pdf?exam={data['exam']}"), ids=data["ids"]))
    assert "考试成绩登记表" in text and "不合格" in text
    assert "应考 6 人，实考 6 人，缺考 0 人，合格 4 人" in text

    text = "".join(assert_pdf(get_pdf(client, "/documents/ledger.pdf?year=2026&today=2026-06-15"),
                              ids=data["ids"]))
    assert "2026年度培训台账" in text and "行政处罚法专题培训" in text
    assert "在岗执法人员 7 人，达标 0 人" in text  # 6 certified + 赵过期, all below 60 hours


def test_reminder_groups_by_unit(app, client, data):
    login(client, app, "viewer")
    data_pdf = get_pdf(client, "/documents/reminder.pdf?within=30&today=2026-06-15")
    pages = assert_pdf(data_pdf, ids=data["ids"])
    text = "".join(pages)
    assert "证件到期提醒" in text and "海棠溪社区" in text
    assert data["soon"] in text and "剩余20天" in text and "赵过期" in text and "已过期5天" in text
    assert "张伟" not in text
    assert len(pages) == 1  # one unit, one notice


def test_reminder_has_a_seal_block_on_every_units_notice(app, client, data):
    with app.app_context():
        town_officer = _db.session.get(Officer, data["officers"]["张伟"])
        town_officer.certificates[0].expires_on = TODAY + timedelta(days=10)
        _db.session.commit()
    login(client, app, "viewer")
    pages = assert_pdf(get_pdf(client, "/documents/reminder.pdf?within=30&today=2026-06-15"), ids=data["ids"])
    assert len(pages) == 2  # one notice per unit, each on its own page
    for page, unit in zip(pages, ("城市管理科", "海棠溪社区"), strict=True):
        assert f"{unit}：" in page
        assert page.count("单位（盖章）") == 1 and "审核人" in page, (unit, page[-200:])


def test_bad_input_gets_a_message_not_a_500(app, client, data):
    login(client, app, "clerk")
    for url, message in [
        ("/documents/sign-in.pdf?session=abc", "培训班“abc”无效"),
        ("/documents/sign-in.pdf?session=99999", "培训班（ID 99999）不存在"),
        ("/documents/scores.pdf", "请选择考试"),
        ("/documents/certificates.pdf", "二选一"),
        ("/documents/roster.pdf?today=2026-13-01", "日期“2026-13-01”无效"),
    ]:
        resp = client.get(url, follow_redirects=True)
        # refused at once (200 after the redirect), or by the background job (its page, 202)
        assert resp.status_code in (200, 202) and message in resp.get_data(as_text=True), url


def test_documents_page_lists_every_document(app, client, data):
    login(client, app, "clerk")
    html = client.get("/documents").get_data(as_text=True)
    for label in ("持证人员名册", "公示名单", "到期提醒", "签到表", "合格证书", "成绩登记表", "合格证明", "培训台账"):
        assert label in html
    assert "行政处罚法专题培训" in html and "2026年行政执法资格考试" in html


def test_viewer_cannot_print_certificates(app, client, data):
    login(client, app, "viewer")
    assert client.get(f"/documents/certificates.pdf?session={data['session']}").status_code == 403


def qr_urls(pdf: bytes, tmp_path) -> list[str]:
    (tmp_path / "c.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(tmp_path / "c.pdf"), str(tmp_path / "p")], check=True)
    urls = []
    for png in sorted(tmp_path.glob("p-*.png")):
        out = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True)
        urls.append(out.stdout.strip())
    return urls


@pytest.mark.skipif(not shutil.which("zbarimg") or not shutil.which("pdftoppm"), reason="zbar/poppler")
def test_certificate_qr_code_verifies_then_fails_after_suspension(app, client, data, tmp_path):
    login(client, app, "clerk")
    officer = data["officers"]["张伟"]
    pdf = get_pdf(client, f"/documents/certificates.pdf?session={data['session']}&officer={officer}")
    pages = assert_pdf(pdf, ids=data["ids"])
    assert len(pages) == 1 and "培训合格证书" in pages[0] and "张伟" in pages[0]
    (url,) = qr_urls(pdf, tmp_path)
    assert url.startswith("http://localhost/verify/")  # the test client's host: nothing configured

    anonymous = app.test_client()
    page = anonymous.get(urlsplit(url).path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "文书真实有效" in html and "行政执法证有效" in html and data["numbers"]["张伟"] in html
    assert "张伟" in html and "城市管理科" in html and "2028年12月31日" in html
    assert not any(i in html for i in data["ids"])

    with app.app_context():
        from app.models.certificates import Certificate

        _db.session.get(Certificate, data["cert_ids"]["张伟"]).status = "suspended"
        _db.session.commit()
    html = anonymous.get(urlsplit(url).path).get_data(as_text=True)
    assert "行政执法证当前无效" in html and "暂扣" in html

    with app.app_context():
        verified = _db.session.scalar(select(func.count()).select_from(AuditEvent)
                                      .where(AuditEvent.action == "verify"))
    assert verified == 1  # the first lookup of the token today; later ones are only counted


def test_batch_certificates_one_page_each_for_those_who_attended_or_passed(app, client, data):
    login(client, app, "clerk")
    pages = assert_pdf(get_pdf(client, f"/documents/certificates.pdf?session={data['session']}"),
                       ids=data["ids"])
    assert len(pages) == 5  # six registered, one absent
    assert not any("曾小明" in p for p in pages)
    pages = assert_pdf(get_pdf(client, f"/documents/certificates.pdf?exam={data['exam']}"), ids=data["ids"])
    assert len(pages) == 4 and "考试合格证明" in pages[0]  # scores 90, 80, 70, 60 pass; 50, 40 do not
    resp = client.get(f"/documents/certificates.pdf?exam={data['exam']}&officer={data['officers']['孙丽']}",
                      follow_redirects=True)
    assert "该人员未通过此考试" in resp.get_data(as_text=True)


def test_tampered_forged_and_unknown_tokens_are_refused(app, client, data):
    from app.web.tokens import make_token

    with app.test_request_context():
        good = make_token("training", 1)
        unknown = make_token("exam", 999999)
    tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    forged = "eyJ0IjoidHJhaW5pbmciLCJpZCI6MX0.forgedsignature"
    for token in (tampered, forged, unknown, "x" * 600, "%00"):
        resp = client.get(f"/verify/{token}")
        assert resp.status_code == 404
        assert "无法验证" in resp.get_data(as_text=True)
    with app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.action == "verify")) == 2  # bad signature, unknown row


@pytest.mark.parametrize("args", [
    ["roster"], ["public-list"], ["sign-in", "--session", "{session}"], ["ledger", "--year", "2026"],
    ["scores", "--exam", "{exam}"], ["certificates", "--session", "{session}"],
    ["certificates", "--exam", "{exam}"], ["reminder", "--within", "30"],
])
def test_every_docs_command_takes_out_and_today(app, runner, data, tmp_path, args):
    out = tmp_path / "doc.pdf"
    args = [a.format(**data) for a in args]
    result = runner.invoke(args=["docs", *args, "--out", str(out), "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert_pdf(out.read_bytes(), ids=data["ids"])


def login_at(app, client, host: str, role: str, username: str | None = None):
    """Log in, then send the session cookie to `host` too (requests there carry a Host header)."""
    login(client, app, role, username)
    name = app.config["SESSION_COOKIE_NAME"]
    client.set_cookie(name, client.get_cookie(name).value, domain=host.split(":")[0])


@pytest.mark.skipif(not shutil.which("zbarimg") or not shutil.which("pdftoppm"), reason="zbar/poppler")
def test_qr_code_points_at_the_host_the_app_is_served_on(app, client, data, tmp_path):
    host = {"Host": "certs.example.gov.cn:8443"}
    login_at(app, client, host["Host"], "clerk")
    officer = data["officers"]["张伟"]
    resp = follow_job(client, client.get(f"/documents/certificates.pdf?session={data['session']}&officer={officer}",
                                         headers=host))
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    (url,) = qr_urls(resp.data, tmp_path)
    assert url.startswith("http://certs.example.gov.cn:8443/verify/"), url
    page = app.test_client().get(urlsplit(url).path, headers={"Host": "certs.example.gov.cn:8443"})
    assert page.status_code == 200 and "文书真实有效" in page.get_data(as_text=True)

    # a configured prefix wins over the request's host
    with app.app_context():
        from app.settings.services import set_value

        set_value("public_base_url", "https://zfz.example.gov.cn/")
        _db.session.commit()
    resp = follow_job(client, client.get(f"/documents/certificates.pdf?exam={data['exam']}&officer={officer}",
                                         headers=host))
    second = tmp_path / "second"
    second.mkdir()
    (url,) = qr_urls(resp.data, second)
    assert url.startswith("https://zfz.example.gov.cn/verify/"), url


def test_documents_page_shows_the_qr_prefix_and_warns_on_loopback(app, data):
    def page_via(host: str) -> str:
        client = app.test_client()
        login_at(app, client, host, "clerk", username=f"clerk_{len(host)}")
        return client.get("/documents", headers={"Host": host}).get_data(as_text=True)

    html = page_via("certs.example.gov.cn")
    assert "http://certs.example.gov.cn/verify/" in html
    assert "qr-loopback-warning" not in html and "data-confirm" not in html
    html = page_via("127.0.0.1:5000")
    assert "http://127.0.0.1:5000/verify/" in html
    assert 'id="qr-loopback-warning"' in html and "他人用手机扫码将无法打开" in html
    assert html.count("data-confirm=") == 2  # both certificate buttons ask first


def test_docs_cli_warns_when_qr_codes_point_at_this_machine(app, runner, data, tmp_path):
    out = tmp_path / "c.pdf"
    result = runner.invoke(args=["docs", "certificates", "--session", str(data["session"]), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "警告：未设置二维码验证网址前缀" in result.stderr and "http://127.0.0.1:5000/verify/" in result.stderr
    result = runner.invoke(args=["docs", "roster", "--out", str(out)])
    assert result.exit_code == 0 and "警告" not in result.stderr


def test_ledger_pdf_follows_the_years_rule(app, client, data):
    """The year's rule decides 达标 on the PDF too: its total, and its group minimums."""
    from app.rules.training import set_rule

    login(client, app, "viewer")
    url = "/documents/ledger.pdf?year=2026&today=2026-06-15"
    with app.app_context():
        set_rule(2026, 1, {}, None)
        _db.session.commit()
        attended = _db.session.scalar(select(func.count(func.distinct(Attendance.officer_id))).where(
            Attendance.status == "attended"))
    assert attended
    text = "".join(assert_pdf(get_pdf(client, url), ids=data["ids"]))
    assert f"在岗执法人员 7 人，达标 {attended} 人" in text
    with app.app_context():
        set_rule(2026, 1, {"执法技能": 1}, None)
        _db.session.commit()
    text = "".join(assert_pdf(get_pdf(client, url), ids=data["ids"]))
    assert "在岗执法人员 7 人，达标 0 人" in text and re.search(r"执\s*法\s*技\s*能\s*差\s*1", text)
