"""Every page an administrator can open, on demo data, read as a person reads it: no raw codes,
English field names, ids-for-names or ISO dates in the visible text."""

from __future__ import annotations

import html as htmllib
import re
from datetime import date

import pytest

from app.extensions import db as _db
from tests.conftest import login

ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
RAW = re.compile(
    r"\b(?:id_number|unit_id|officer_id|on_enforcement_post|employment_status|establishment|education|"
    r"birth_date|employee_no|issued_on|expires_on|held_on|max_score|pass_score|makeup_of_id|credited_hours|"
    r"exam_result|training_session|annual_review|certificate|officer|unit|exam|demo|"
    r"civil_servant|public_institution|contract|temporary|auxiliary|seconded|postgraduate|bachelor|college|"
    r"secondary|active|transferred|retired|resigned|dismissed|enforcement|supervision|"
    r"anonymous|cli:[a-z ]+|True|False|None|registered|attended|absent|excused)\b")
# Attribute values, form inputs and code the person does not read as text.
HIDDEN = re.compile(r"<(script|style|textarea|code)\b.*?</\1>", re.S | re.I)
TAG = re.compile(r"<[^>]+>")


# The import page's help lists the spellings a date column accepts, ISO among them, on purpose.
FORMAT_HELP = "2024-03-01、2024/3/1"


def visible_text(page: str) -> str:
    text = TAG.sub(" ", HIDDEN.sub(" ", page))
    return htmllib.unescape(text).replace(FORMAT_HELP, "")


@pytest.fixture
def demo(app):
    """Demo data plus the kinds of audit rows a week of work leaves (edits by a person, by the
    command line, an anonymous failed login)."""
    from app.demo import seed
    from app.models.officers import Officer
    from app.officers.services import save_officer

    with app.app_context():
        seed(count=30, seed=3, today=date.today())
        _db.session.commit()
        o = _db.session.scalars(_db.select(Officer).order_by(Officer.id)).first()
        other_unit = _db.session.scalars(_db.select(Officer.unit_id).where(Officer.unit_id != o.unit_id)).first()
        data = {f: getattr(o, f) for f in ("name", "id_number", "position", "phone", "employee_no")}
        data.update(unit_id=other_unit, establishment="contract", education="bachelor",
                    on_enforcement_post=not o.on_enforcement_post, employment_status="active")
        save_officer(o, data, today=date.today())
        _db.session.commit()


def _sample_ids(app) -> dict[str, int]:
    from app.models.auth import User
    from app.models.cases import PenaltyCase
    from app.models.certificates import Certificate
    from app.models.exams import Exam
    from app.models.officers import Officer, Unit
    from app.models.training import TrainingSession

    with app.app_context():
        def first(model):
            return _db.session.scalar(_db.select(model.id).order_by(model.id)) or 1

        return {"officer_id": first(Officer), "cert_id": first(Certificate), "session_id": first(TrainingSession),
                "exam_id": first(Exam), "unit_id": first(Unit), "user_id": first(User),
                "case_id": first(PenaltyCase), "action": "suspend"}


def _urls(app, ids) -> list[str]:
    urls = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or "logout" in rule.rule:
            continue
        if rule.arguments - set(ids):
            continue
        urls.add(re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), rule.rule))
    return sorted(urls)


def test_no_raw_codes_or_iso_dates_in_any_page(app, client, demo):
    login(client, app, "admin")
    other = app.test_client()
    other.get("/verify/forged-token")  # an anonymous visitor's failed check is audited
    ids = _sample_ids(app)
    problems = []
    walked = 0
    for url in _urls(app, ids) + ["/officers?sort=name", "/flags?flag=EXPIRING", "/audit?page=2"]:
        resp = client.get(url)
        if resp.status_code in (301, 302, 404) or not resp.mimetype == "text/html":
            continue
        assert resp.status_code in (200, 202), url  # 202: a document handed to a background job (its status page)
        walked += 1
        text = visible_text(resp.get_data(as_text=True))
        for rx in (ISO_DATE, RAW):
            for m in rx.finditer(text):
                problems.append(f"{url}: …{text[max(0, m.start() - 30):m.end() + 30].strip()}…")
    assert walked > 30
    assert not problems, "\n".join(dict.fromkeys(problems))


def test_audit_page_reads_in_chinese(app, client, demo):
    from app.models.officers import Officer, Unit

    login(client, app, "admin")
    other = app.test_client()
    other.get("/verify/forged-token")  # an anonymous visitor's failed check is audited
    with app.app_context():
        o = _db.session.scalars(_db.select(Officer).order_by(Officer.id)).first()
        unit_name = _db.session.get(Unit, o.unit_id).name
    text = re.sub(r"\s*：\s*", "：", visible_text(client.get("/audit").get_data(as_text=True)))
    assert re.search(rf"单位：\S+ → {unit_name}", text)
    assert re.search(r"在执法岗位：(是 → 否|否 → 是)", text)
    assert "编制类型：" in text and "合同制" in text and "学历：" in text and "本科" in text
    assert "执法人员（编号" in text
    assert "匿名" in text and "命令行：" in text
    assert "身份证号：" in text and "性别：" in text


def test_certificate_history_names_the_command_line_in_chinese(app, client, demo):
    login(client, app, "viewer")
    ids = _sample_ids(app)
    text = visible_text(client.get(f"/certificates/{ids['cert_id']}").get_data(as_text=True))
    assert "操作人：命令行：" in text and "cli:" not in text
