"""Hostile query strings on every GET route, as every role and anonymous: a page number past any
integer type, NUL bytes (PostgreSQL refuses them in text), and both at once. None answers 500."""

from __future__ import annotations

import time

import pytest

from app.extensions import db
from tests.conftest import login
from tests.web.test_no_500 import _urls, world  # noqa: F401  (world: the fixture)

HUGE = "9223372036854775808"  # 2**63: one past PostgreSQL's bigint
ARGS = ["page", "q", "sort", "year", "unit", "status", "flag", "within", "today", "from", "to",
        "kind", "category", "post", "session", "exam", "result", "per_page", "format", "next", "reason"]
HOSTILE = [
    {"page": HUGE, "q": "\x00"},
    dict.fromkeys(ARGS, "a\x00b"),
    dict.fromkeys(ARGS, HUGE),
]


def _get_all(client, urls, failures):
    for endpoint, methods, url in urls:
        if "GET" not in methods or endpoint in ("jobs.healthz",):
            continue
        for query in HOSTILE:
            try:  # the suite's app re-raises a view's exception: that is a 500 too
                status = client.get(url, query_string=query).status_code
            except Exception as exc:  # noqa: BLE001
                status = f"500 {type(exc).__name__}: {str(exc)[:80]}"
            if not isinstance(status, int) or status >= 500:
                failures.append((endpoint, url, sorted(query)[:3], status))


@pytest.mark.parametrize("role", [None, "viewer", "clerk", "admin"])
def test_no_get_route_answers_500_to_hostile_query_args(app, client, world, public_list, role):  # noqa: F811
    if role:
        login(client, app, role, username=f"fuzz{role}")
    with app.app_context():
        from app.models.auth import User

        world["admin_id"] = db.session.scalar(db.select(User.id).order_by(User.id)) or 1
    failures: list = []
    started = time.monotonic()
    urls = _urls(app, world)
    _get_all(client, urls, failures)
    assert not failures, "\n".join(map(str, failures))
    assert len(urls) > 100
    assert time.monotonic() - started < 600


@pytest.fixture
def public_list(app):
    from app.settings.services import set_value

    with app.app_context():
        set_value("public_list_enabled", "1")
        db.session.commit()


def test_public_officers_with_a_huge_page_number_shows_the_last_page(app, client, world, public_list):  # noqa: F811
    resp = client.get("/public/officers", query_string={"page": HUGE})
    assert resp.status_code == 200
    assert "行政执法人员公示" in resp.get_data(as_text=True) or "公示" in resp.get_data(as_text=True)
