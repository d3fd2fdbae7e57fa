"""A live server on loopback and Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


ON_POSTGRESQL = (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql")


def pytest_runtest_setup(item):
    """Browser checks of layout and page scripts (marked engine_independent) run on the SQLite pass
    only: the rows they save are saved the same way by tests/web, which run on both databases."""
    if ON_POSTGRESQL and item.get_closest_marker("engine_independent"):
        pytest.skip("engine_independent: the browser check runs on the SQLite pass")


@pytest.fixture(scope="session")
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


@pytest.fixture
def logged_in(app, page, live_server):
    """A browser page logged in as a fresh clerk, through the login form."""
    from tests.conftest import PASSWORD, make_user

    def _login(role: str = "clerk", username: str = "e2e_user"):
        make_user(app, username, role)
        page.goto(f"{live_server}/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/")
        return page

    return _login
