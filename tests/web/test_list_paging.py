"""The list pager (app/web/lists.py, templates/macros.html): 上一页 / 下一页 carry a cursor (the
boundary row's sort key), the last page is the end of the list, a cursor that is not one falls back
to page 1, and a total past the counting cap is labelled as an estimate (docs/architecture.md, Cost:
list pages)."""

from __future__ import annotations

import base64
import html as htmllib
import json
import re

import pytest
from sqlalchemy import select

import app.web.lists as lists
from app.extensions import db as _db
from app.models.officers import Officer
from app.officers.lists import OFFICERS
from app.paging import after_clause
from tests.conftest import TODAY, login
from tests.factories import OfficerFactory, UnitFactory

PER = 25  # TestConfig PER_PAGE


@pytest.fixture(autouse=True)
def _today(set_today):
    set_today(TODAY)


@pytest.fixture
def crowd(app):
    """63 officers in three units; whole runs of them share a name (equal sort keys but the id)."""
    with app.app_context():
        units = [UnitFactory(name=f"单位{i}", sort_order=i) for i in (1, 2, 3)]
        for i in range(63):
            OfficerFactory(name=["张伟", "王芳", f"李{i:02d}"][i % 3], unit=units[i % 2 if i < 50 else 2],
                           employee_no=None if i % 4 else f"E{i:03d}")
        _db.session.commit()


def officer_ids(html: str) -> list[int]:
    body = html.split('id="officers"', 1)[1].split("</table>", 1)[0]
    return [int(x) for x in re.findall(r'<a href="/officers/(\d+)">', body)]


def link(html: str, rel: str) -> str | None:
    m = re.search(rf'<a class="page-link" rel="{rel}" href="([^"#]+)"', html)
    return htmllib.unescape(m.group(1)) if m else None


def expected_order(app, sort: str) -> list[int]:
    """Every officer in the list's order, read at once (the reference)."""
    with app.app_context():
        f = OFFICERS.filtered({}, TODAY)
        return [r.Officer.id for r in _db.session.execute(OFFICERS.ordered(f.stmt, sort))]


@pytest.mark.parametrize("sort", ["unit", "name", "-name", "status"])
def test_next_links_walk_every_officer_once_in_order(app, client, crowd, sort):
    login(client, app, "viewer")
    url, seen, pages = f"/officers?sort={sort}", [], 0
    while url:
        html = client.get(url).get_data(as_text=True)
        ids = officer_ids(html)
        assert ids, url
        seen += ids
        pages += 1
        url = link(html, "next")
        if url:
            assert "after=" in url and f"page={pages + 1}" in url
    assert pages == 3
    assert seen == expected_order(app, sort)  # no officer twice, none left out, in the list's order


def test_previous_links_walk_back_from_the_last_page(app, client, crowd):
    login(client, app, "viewer")
    order = expected_order(app, "name")
    html = client.get("/officers?sort=name&page=99").get_data(as_text=True)
    assert officer_ids(html) == order[2 * PER:]  # the last page: the 13 last, not a full page of 25
    assert '<a class="page-link" href="/officers?sort=name&amp;page=3" aria-current="page">3</a>' in html
    assert link(html, "next") is None
    seen = officer_ids(html)
    url = link(html, "prev")
    while url:
        html = client.get(url).get_data(as_text=True)
        seen = officer_ids(html) + seen
        url = link(html, "prev")
    assert seen == order


def test_last_page_by_link_and_by_number_agree(app, client, crowd):
    login(client, app, "viewer")
    by_number = client.get("/officers?page=3").get_data(as_text=True)
    past_end = client.get("/officers?page=100000").get_data(as_text=True)
    by_last = client.get("/officers?last=1").get_data(as_text=True)
    assert officer_ids(by_number) == officer_ids(past_end) == officer_ids(by_last) == expected_order(app, "unit")[50:]


def test_a_shared_cursor_link_shows_the_same_page(app, client, crowd):
    login(client, app, "viewer")
    first = client.get("/officers?sort=name").get_data(as_text=True)
    second_url = link(first, "next")
    other = app.test_client()
    login(other, app, "clerk")
    assert officer_ids(other.get(second_url).get_data(as_text=True)) == expected_order(app, "name")[PER:2 * PER]


def forged(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [
    "garbage", "%%%", "x" * 5000, forged(["name", "a"]), forged(["unit", 1, "a", "b", "c", "d", "x"]),
    forged(["name", 1, 2, 3]), forged(["name", {"d": "2024-13-40"}, "a", "b"]), forged({"a": 1}),
    forged(["name", "a", "b", {"t": "x"}]), base64.urlsafe_b64encode(b"\xff\xfe").decode(),
])
@pytest.mark.parametrize("param", ["after", "before"])
def test_a_forged_cursor_falls_back_to_page_one(app, client, crowd, cursor, param):
    login(client, app, "viewer")
    resp = client.get(f"/officers?sort=name&page=2&{param}={cursor}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert officer_ids(html) == expected_order(app, "name")[:PER]
    assert "翻页链接无效或已过期，已显示第一页" in html
    assert "Traceback" not in html


def test_a_cursor_past_the_end_shows_the_last_page(app, client, crowd):
    login(client, app, "viewer")
    order = expected_order(app, "name")
    html = client.get("/officers?sort=name&page=2").get_data(as_text=True)
    url = link(html, "next")
    with app.app_context():  # everyone after the cursor leaves the list
        _db.session.execute(_db.delete(Officer).where(Officer.id.in_(order[2 * PER:])))
        _db.session.commit()
    html = client.get(url).get_data(as_text=True)
    assert officer_ids(html) == order[PER:2 * PER]  # now the last page
    assert link(html, "next") is None


def test_total_past_the_cap_is_labelled_and_exact_below(app, client, crowd, monkeypatch):
    login(client, app, "viewer")
    with app.app_context():
        unit = _db.session.scalar(select(Officer.unit_id).order_by(Officer.id))
    html = client.get(f"/officers?unit={unit}").get_data(as_text=True)
    assert re.search(r'id="total">共 25 人<', html)  # below the cap: exact
    monkeypatch.setattr(lists, "COUNT_CAP", 10)
    html = client.get(f"/officers?unit={unit}").get_data(as_text=True)
    label = re.search(r'id="total">(.*?)</small>', html, re.S).group(1)
    with app.app_context():
        dialect = _db.engine.dialect.name
    if dialect == "postgresql":
        assert re.match(r"约 [\d,]+ 人（估计）", label), label  # the planner's estimate, said to be one
    else:
        assert label.startswith("超过 10 人"), label
    assert "精确计数" in label
    assert officer_ids(html) == [i for i in expected_order(app, "unit") if i in officer_ids(html)][:PER]
    exact = client.get(f"/officers?unit={unit}&count=exact").get_data(as_text=True)
    assert re.search(r'id="total">共 25 人<', exact)
    # the walk still reaches every officer of the unit, and a page number past the cap counts exactly
    html = client.get(f"/officers?unit={unit}&page=2").get_data(as_text=True)
    assert re.search(r'id="total">共 25 人<', html)


def test_audit_log_walks_newest_first_by_cursor(app, client):
    from app.audit.services import record

    login(client, app, "admin")
    with app.app_context():
        for i in range(120):
            record("update", "officer", i, f"第{i}次修改")
        _db.session.commit()
    seen, url = [], "/audit"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += [int(x) for x in re.findall(r"第(\d+)次修改", html)]
        url = link(html, "next")
    assert seen == list(range(119, -1, -1))


def test_cursor_clause_handles_null_keys(app, crowd):
    """`employee_no` is NULL for three officers in four: walking by cursors over (employee_no, id),
    both directions, gives the database's own order (NULLs first on SQLite, last on PostgreSQL)."""
    with app.app_context():
        for desc in (False, True):
            keys = [(Officer.employee_no, desc), (Officer.id, False)]
            order = [Officer.employee_no.desc() if desc else Officer.employee_no, Officer.id]
            every = list(_db.session.execute(select(Officer.employee_no, Officer.id).order_by(*order)))
            walked, last = [], None
            while True:
                q = select(Officer.employee_no, Officer.id).order_by(*order).limit(7)
                if last is not None:
                    q = q.where(after_clause(keys, list(last)))
                rows = list(_db.session.execute(q))
                if not rows:
                    break
                walked += rows
                last = rows[-1]
            assert walked == every


def test_a_scoped_users_totals_count_their_branch_only(app, client):
    """The certificate list's total counted every certificate of the organisation for a user
    limited to a branch (its count ran on the bare tables, outside the scope); now the branch's."""
    from app.auth.services import create_user
    from tests.conftest import PASSWORD, csrf_from
    from tests.factories import CertificateFactory

    with app.app_context():
        mine, other = UnitFactory(name="甲局"), UnitFactory(name="乙局")
        for i in range(7):
            CertificateFactory(officer=OfficerFactory(unit=mine if i < 3 else other), number=f"C-{i}")
        create_user("jia_paging", "viewer", PASSWORD, unit_id=mine.id)
        _db.session.commit()
    page = client.get("/login")
    client.post("/login", data={"username": "jia_paging", "password": PASSWORD,
                                "csrf_token": csrf_from(page.get_data(as_text=True))})
    html = client.get("/certificates").get_data(as_text=True)
    assert re.search(r'id="total">共 3 个<', html)
    assert len(re.findall(r">C-\d<", html)) == 3


@pytest.mark.parametrize("sort", ["name", "-name"])
def test_pages_by_number_match_the_walk(app, client, crowd, sort):
    """Page 2 of 3 lies nearer the end: read backwards with the OFFSET counted from there; page 1
    forwards; both the same rows as the list read at once."""
    login(client, app, "viewer")
    order = expected_order(app, sort)
    for n in (1, 2, 3):
        html = client.get(f"/officers?sort={sort}&page={n}").get_data(as_text=True)
        assert officer_ids(html) == order[(n - 1) * PER:n * PER], n
