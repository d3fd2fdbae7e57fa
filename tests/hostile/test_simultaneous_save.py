"""Two clerks save the same officer at the same moment: both forms carry the same version, both
pass the service's version check, and the database's version counter lets only one UPDATE
through. The other clerk gets the 已被他人修改 message (their form kept), not a 500. Real threads,
real transactions, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import event, select

from app.extensions import db
from app.models.officers import Officer
from tests.conftest import login, token
from tests.factories import OfficerFactory, UnitFactory

ROUNDS = 4


@pytest.fixture
def both_at_the_flush():
    """Hold each request at its officer UPDATE until both requests have got there."""
    barrier = threading.Barrier(2, timeout=20)
    armed = {"on": True}

    def wait(_mapper, _conn, _target):
        if armed["on"] and threading.current_thread().name.startswith("saver-"):
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass

    event.listen(Officer, "before_update", wait)
    yield barrier
    armed["on"] = False
    event.remove(Officer, "before_update", wait)


def _form(client, url: str, name: str) -> dict:
    page = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    unit = re.search(r'<option selected value="(\d+)"|<option value="(\d+)" selected', page)
    return {"csrf_token": token(client, url), "name": name, "id_number": "", "version": version,
            "unit_id": next(g for g in unit.groups() if g), "position": "科员",
            "establishment": "civil_servant", "education": "bachelor", "on_enforcement_post": "y",
            "employment_status": "active", "status_changed_on": "", "phone": "", "employee_no": "",
            "notes": "", "post_since": "", "retirement_basis": ""}


def test_the_loser_of_two_simultaneous_saves_is_told_why(app, both_at_the_flush):
    with app.app_context():
        officer = OfficerFactory(name="张三", unit=UnitFactory(name="城市管理科"))
        db.session.commit()
        oid = officer.id
    clients = [app.test_client(), app.test_client()]
    login(clients[0], app, "clerk", username="clerk_a")
    login(clients[1], app, "clerk", username="clerk_b")
    url = f"/officers/{oid}/edit"
    for round_no in range(ROUNDS):
        forms = [_form(c, url, f"张三{round_no}{who}") for c, who in zip(clients, "AB", strict=True)]
        assert forms[0]["version"] == forms[1]["version"]
        results: list = [None, None]

        def save(i, results=results, forms=forms):
            try:
                results[i] = clients[i].post(url, data=forms[i])
            except Exception as exc:  # noqa: BLE001  (the suite's app re-raises: a 500)
                results[i] = exc

        threads = [threading.Thread(target=save, args=(i,), name=f"saver-{i}") for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not any(isinstance(r, Exception) for r in results), results
        codes = sorted(r.status_code for r in results)
        assert codes == [200, 302], codes  # one saved (redirect), one shown the form again
        loser = next(r for r in results if r.status_code == 200)
        html = loser.get_data(as_text=True)
        assert "已被他人修改" in html
        with app.app_context():
            saved = db.session.scalar(select(Officer.name).where(Officer.id == oid))
        winner = forms[[r.status_code for r in results].index(302)]["name"]
        assert saved == winner
        assert loser.get_data(as_text=True).count(forms[[r.status_code for r in results].index(200)]["name"]) >= 1
