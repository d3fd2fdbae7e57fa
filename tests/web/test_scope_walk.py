"""Every GET route of the url_map, opened by three users scoped to branches of the unit tree (two
sibling branches and their parent), on demo data: no page, export, PDF or JSON answer names an
officer, or prints a certificate number, from outside the user's branch; and an id from outside
answers 404 (or shows nothing of that record)."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest

from app.extensions import db as _db
from tests.conftest import PASSWORD, csrf_from

BRANCH_A, BRANCH_A1, BRANCH_B, PARENT = "城市管理科", "海棠溪社区", "综合行政执法队", "片区"


@pytest.fixture
def scoped_demo(app):
    """Demo data; 片区 → 城市管理科 → 海棠溪社区 and 片区 → 综合行政执法队; every other unit outside."""
    from app.demo import seed
    from app.models.officers import Unit

    with app.app_context():
        seed(count=40, seed=5, today=date.today())
        top = Unit(name=PARENT, kind="department")
        _db.session.add(top)
        _db.session.flush()
        units = {u.name: u for u in _db.session.scalars(_db.select(Unit))}
        units[BRANCH_A].parent_id = top.id
        units[BRANCH_B].parent_id = top.id
        units[BRANCH_A1].parent_id = units[BRANCH_A].id
        # a session and an exam organised by each of the two sibling branches (the rest: by nobody)
        from app.models.exams import Exam
        from app.models.training import TrainingSession

        for model, word in ((TrainingSession, "培训"), (Exam, "考试")):
            last = list(_db.session.scalars(_db.select(model).order_by(model.id.desc()).limit(2)))
            for thing, branch in zip(last, (BRANCH_A, BRANCH_B), strict=True):
                thing.unit_id, thing.title = units[branch].id, f"{branch}主办的{word}"
        # an application for an officer of every unit (申请审批 pages, the officer page's 申请 section)
        from app.applications.services import submit
        from app.models.officers import Officer

        for unit in units.values():
            officer = _db.session.scalar(_db.select(Officer).where(Officer.unit_id == unit.id,
                                                                   Officer.employment_status == "active"))
            if officer is not None:
                submit(officer, "cancel" if officer.certificates else "new", reason=f"{officer.name}的申请")
        _db.session.commit()


def _people(app, unit_names: set[str]):
    """(names, certificate numbers, officer ids, certificate ids) inside and outside the units."""
    from app.models.certificates import Certificate
    from app.models.officers import Officer, Unit

    with app.app_context():
        rows = _db.session.execute(_db.select(Officer.id, Officer.name, Unit.name).join(Unit)).all()
        certs = _db.session.execute(_db.select(Certificate.id, Certificate.number, Certificate.officer_id)).all()
    inside = {oid for oid, _n, u in rows if u in unit_names}
    own_names = {n for oid, n, _u in rows if oid in inside}
    foreign_names = {n for oid, n, _u in rows if oid not in inside} - own_names
    foreign_numbers = {num for _cid, num, oid in certs if oid not in inside and num}
    return {
        "foreign_names": foreign_names, "foreign_numbers": foreign_numbers,
        "own_officer": min(inside), "foreign_officer": min(set(o for o, _n, _u in rows) - inside),
        "own_cert": min(c for c, _n, o in certs if o in inside),
        "foreign_cert": min(c for c, _n, o in certs if o not in inside),
    }


def _organised_by(app, model, branch: str) -> int:
    from app.models.officers import Unit

    with app.app_context():
        return _db.session.scalar(_db.select(model.id).join(Unit, Unit.id == model.unit_id).where(Unit.name == branch))


def _ids(app, people, own: bool, sibling: str | None = None) -> dict:
    from app.models.applications import Application
    from app.models.auth import User
    from app.models.cases import PenaltyCase
    from app.models.exams import Exam
    from app.models.officers import Unit
    from app.models.training import TrainingSession

    with app.app_context():
        def first(model):
            return _db.session.scalar(_db.select(model.id).order_by(model.id)) or 1

        key = "own" if own else "foreign"
        sessions = (first(TrainingSession), first(Exam)) if sibling is None else (
            _organised_by(app, TrainingSession, sibling), _organised_by(app, Exam, sibling))
        return {"officer_id": people[f"{key}_officer"], "cert_id": people[f"{key}_cert"],
                "session_id": sessions[0], "exam_id": sessions[1], "unit_id": first(Unit),
                "user_id": first(User), "case_id": first(PenaltyCase), "action": "suspend",
                "application_id": _db.session.scalar(_db.select(Application.id).where(
                    Application.officer_id == people[f"{key}_officer"])) or first(Application),
                "note_id": 1}


def _urls(app, ids) -> list[str]:
    """Every GET route but the public ones (the published roster is the same for everyone)."""
    from app.auth.access import PUBLIC_ENDPOINTS

    urls = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in PUBLIC_ENDPOINTS or "logout" in rule.rule:
            continue
        if rule.arguments - set(ids):
            continue
        urls.add(re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), rule.rule))
    return sorted(urls)


def _text(resp) -> str:
    data = resp.get_data()
    if resp.mimetype == "application/pdf":
        from pypdf import PdfReader

        return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)
    if "spreadsheetml" in (resp.mimetype or ""):
        import openpyxl

        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        return "\n".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True)
                         for v in row if v is not None)
    return data.decode("utf-8", "replace")


def _follow(client, resp):
    """A job-backed download's file (None when the job failed: e.g. an exam without a paper)."""
    if resp.status_code != 202:
        return resp
    status = client.get(resp.headers["Location"], headers={"Accept": "application/json"}).get_json()
    return client.get(status["download_url"]) if status["state"] == "done" else None


def _login(app, client, username, role, unit):
    from app.auth.services import create_user, unit_named

    with app.app_context():
        create_user(username, role, PASSWORD, unit_id=unit_named(unit).id)
        _db.session.commit()
    page = client.get("/login")
    assert client.post("/login", data={"username": username, "password": PASSWORD,
                                       "csrf_token": csrf_from(page.get_data(as_text=True))}).status_code == 302


@pytest.mark.parametrize(("role", "unit", "branch"), [
    ("admin", BRANCH_A, {BRANCH_A, BRANCH_A1}),
    ("clerk", BRANCH_B, {BRANCH_B}),
    ("viewer", PARENT, {PARENT, BRANCH_A, BRANCH_A1, BRANCH_B}),
])
def test_no_foreign_officer_in_any_answer(app, client, scoped_demo, role, unit, branch):
    people = _people(app, branch)
    assert people["foreign_names"] and people["foreign_numbers"]
    _login(app, client, f"scoped_{role}", role, unit)
    leaks, walked = [], 0
    # searches for a foreign person by name, and by certificate number, in every list and export
    name, number = sorted(people["foreign_names"])[0], sorted(people["foreign_numbers"])[0]
    searches = [f"{base}?q={q}" for base in ("/officers", "/officers.xlsx", "/flags", "/flags.xlsx",
                                             "/certificates", "/certificates.xlsx", "/cases", "/cases.xlsx",
                                             "/training/ledger", "/reviews", "/audit", "/reminders",
                                             "/applications", "/applications.xlsx")
                for q in (name, number)]
    for url in _urls(app, _ids(app, people, own=True)) + searches:
        resp = _follow(client, client.get(url))
        if resp is None or resp.status_code in (301, 302, 404) or resp.status_code >= 400 and resp.status_code != 500:
            continue
        assert resp.status_code != 500, url
        walked += 1
        text = _text(resp)
        if url in searches:
            if resp.mimetype == "text/html":  # the visible text: the search box and links repeat the search
                text = re.sub(r"<[^>]+>", " ", text)
            for term in (name, number):  # an export's title and the audit of one's own searches repeat it
                text = text.replace(f"搜索：{term}", "").replace(f"q={term}", "")
        found = [n for n in people["foreign_names"] | people["foreign_numbers"] if n in text]
        if found:
            i = text.index(sorted(found)[0])
            leaks.append(f"{url}: {sorted(found)[:5]} …{text[max(0, i - 60):i + 40]!r}")
    assert walked > 30
    assert not leaks, "\n".join(leaks)


@pytest.mark.parametrize(("role", "unit", "branch", "sibling"), [
    ("admin", BRANCH_A, {BRANCH_A, BRANCH_A1}, BRANCH_B),
    ("clerk", BRANCH_B, {BRANCH_B}, BRANCH_A),
])
def test_foreign_ids_answer_404(app, client, scoped_demo, role, unit, branch, sibling):
    people = _people(app, branch)
    _login(app, client, f"scoped_{role}", role, unit)
    ids = _ids(app, people, own=False, sibling=sibling)
    checked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments - set(ids):
            continue
        if not rule.arguments & {"officer_id", "cert_id", "session_id", "exam_id", "application_id"}:
            continue
        if getattr(app.view_functions[rule.endpoint], "_min_role", "viewer") == "admin" and role != "admin":
            continue  # refused (403) whatever the id: it tells nothing about the record
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), rule.rule)
        status = client.get(url).status_code
        assert status == 404, url
        checked += 1
    assert checked > 5


@pytest.mark.parametrize(("role", "unit", "sibling"), [("admin", BRANCH_A, BRANCH_B), ("clerk", BRANCH_B, BRANCH_A)])
def test_a_sibling_branchs_sessions_and_exams_are_not_listed(app, client, scoped_demo, role, unit, sibling):
    _login(app, client, f"scoped_{role}", role, unit)
    for url in ("/training", "/training.xlsx", "/exams", "/exams.xlsx", "/training?q=主办", "/exams?q=主办"):
        resp = _follow(client, client.get(url))
        assert resp is not None and resp.status_code == 200, url
        text = _text(resp)
        assert f"{sibling}主办的" not in text, url
    html = client.get("/training?q=主办").get_data(as_text=True) + client.get("/exams?q=主办").get_data(as_text=True)
    assert f"{unit}主办的培训" in html and f"{unit}主办的考试" in html


def test_an_officer_account_sees_no_colleague(app, client, scoped_demo):
    """An officer of a branch, signed in with their own account: every GET route either answers
    404 or (their /me pages) names no other officer and prints no other certificate number."""
    from app.me.accounts import activate, invite
    from app.models.certificates import Certificate
    from app.models.officers import Officer

    with app.app_context():
        officer = _db.session.scalar(_db.select(Officer).join(Certificate, Certificate.officer_id == Officer.id)
                                     .where(Officer.employment_status == "active").order_by(Officer.id).limit(1))
        (_o, code), = invite([officer])
        activate(officer.id_number, code, PASSWORD, PASSWORD)
        _db.session.commit()
        me, idn = officer.id, officer.id_number
        names = {n for i, n in _db.session.execute(_db.select(Officer.id, Officer.name)) if i != me}
        mine = set(_db.session.scalars(_db.select(Certificate.number).where(Certificate.officer_id == me)))
        numbers = {n for n in _db.session.scalars(_db.select(Certificate.number)) if n and n not in mine}
        own_name = officer.name
    names.discard(own_name)
    page = client.get("/login")
    client.post("/login", data={"username": idn, "password": PASSWORD,
                                "csrf_token": csrf_from(page.get_data(as_text=True))})
    people = _people(app, {BRANCH_B})  # ids of other officers and cards: every staff route 404s
    ids = _ids(app, people, own=False)
    shown, leaks = 0, []
    for url in _urls(app, ids):
        resp = client.get(url)
        if resp.status_code == 404:
            continue
        assert url.startswith("/me") and resp.status_code in (200, 302), (url, resp.status_code)
        shown += 1
        text = _text(resp)
        found = [n for n in names | numbers if n in text]
        if found:
            leaks.append(f"{url}: {sorted(found)[:5]}")
    assert shown >= 6
    assert not leaks, "\n".join(leaks)
