"""An incomplete POST (fields or the version missing) is refused and changes nothing."""

from __future__ import annotations

import re
from datetime import timedelta

from app.extensions import db as _db
from app.models.auth import User
from app.models.certificates import Certificate
from app.models.officers import Officer
from tests.conftest import TODAY, login, make_user, token
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory


def _officer(app):
    with app.app_context():
        o = OfficerFactory(name="张三", unit=UnitFactory(name="城市管理科"), position="科员")
        c = CertificateFactory(officer=o, number="C-1", issued_on=TODAY - timedelta(100),
                               expires_on=TODAY + timedelta(900))
        _db.session.commit()
        return o.id, o.unit_id, c.id


def _full_officer_form(client, url, unit_id):
    page = client.get(url).get_data(as_text=True)
    return {
        "csrf_token": token(client, url), "name": "张三", "id_number": "", "unit_id": str(unit_id),
        "position": "科长", "establishment": "civil_servant", "education": "",
        "on_enforcement_post": "y", "employment_status": "active", "status_changed_on": "", "post_since": "",
        "retirement_basis": "", "phone": "", "employee_no": "", "notes": "",
        "version": re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1),
    }


def test_csrf_token_alone_changes_nothing(app, client):
    oid, _unit, _c = _officer(app)
    login(client, app, "clerk")
    url = f"/officers/{oid}/edit"
    resp = client.post(url, data={"csrf_token": token(client, url)})
    assert resp.status_code == 200
    assert "表单不完整" in resp.get_data(as_text=True)
    with app.app_context():
        officer = _db.session.get(Officer, oid)
        assert officer.on_enforcement_post is True and officer.version == 1


def test_officer_form_without_version_is_refused(app, client):
    oid, unit_id, _c = _officer(app)
    login(client, app, "clerk")
    url = f"/officers/{oid}/edit"
    data = _full_officer_form(client, url, unit_id)
    del data["version"]
    resp = client.post(url, data=data)
    assert resp.status_code == 200
    assert "表单不完整" in resp.get_data(as_text=True)
    with app.app_context():
        assert _db.session.get(Officer, oid).position == "科员"


def test_a_complete_officer_form_still_saves_and_unchecked_box_means_no(app, client):
    oid, unit_id, _c = _officer(app)
    login(client, app, "clerk")
    url = f"/officers/{oid}/edit"
    data = _full_officer_form(client, url, unit_id)
    del data["on_enforcement_post"]  # an unchecked checkbox is simply not sent
    assert client.post(url, data=data).status_code == 302
    with app.app_context():
        officer = _db.session.get(Officer, oid)
        assert (officer.position, officer.on_enforcement_post) == ("科长", False)


def test_certificate_form_without_version_or_fields_is_refused(app, client):
    _oid, _unit, cid = _officer(app)
    login(client, app, "clerk")
    url = f"/certificates/{cid}/edit"
    data = {"csrf_token": token(client, url), "kind": "enforcement", "number": "C-1",
            "issuing_authority": "别的机关", "issued_on": (TODAY - timedelta(100)).isoformat(),
            "expires_on": (TODAY + timedelta(900)).isoformat(), "categories": "", "area": ""}
    resp = client.post(url, data=data)
    assert "表单不完整" in resp.get_data(as_text=True)
    resp = client.post(url, data={"csrf_token": data["csrf_token"], "version": "1", "number": "C-1"})
    assert "表单不完整" in resp.get_data(as_text=True)
    with app.app_context():
        cert = _db.session.get(Certificate, cid)
        assert (cert.issuing_authority, cert.version) != ("别的机关", 2)
        assert cert.version == 1


def test_user_form_with_only_the_token_does_not_deactivate(app, client):
    uid = make_user(app, "clerk1", "clerk")
    login(client, app, "admin")
    url = f"/users/{uid}/edit"
    resp = client.post(url, data={"csrf_token": token(client, url)})
    assert "表单不完整" in resp.get_data(as_text=True)
    with app.app_context():
        assert _db.session.get(User, uid).active is True


def test_training_and_exam_forms_with_only_the_token_change_nothing(app, client):
    from datetime import date

    from app.models.exams import Exam
    from app.models.training import TrainingSession

    with app.app_context():
        s = TrainingSession(title="法律培训", category="general_law", held_on=date(2026, 5, 1), hours=4)
        e = Exam(title="资格考试", kind="qualification", held_on=date(2026, 5, 2), max_score=100,
                 pass_score=60)
        _db.session.add_all([s, e])
        _db.session.commit()
        sid, eid = s.id, e.id
    login(client, app, "clerk")
    for url in (f"/training/{sid}/edit", f"/exams/{eid}/edit"):
        resp = client.post(url, data={"csrf_token": token(client, url), "title": "改名"})
        assert "表单不完整" in resp.get_data(as_text=True), url
    with app.app_context():
        assert _db.session.get(TrainingSession, sid).title == "法律培训"
        assert _db.session.get(Exam, eid).title == "资格考试"
