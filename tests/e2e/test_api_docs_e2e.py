"""/api/v1/docs in chromium: Swagger UI from local files, no request leaves the server, no CSP
violation, and every path of the API is shown."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.engine_independent


def test_api_docs_page_renders_locally_and_lists_every_path(app, live_server, page):
    requests, violations, errors = [], [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server}/api/v1/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=20000)
    shown = {el.get_attribute("data-path") or el.inner_text().strip()
             for el in page.query_selector_all(".opblock-summary-path")}
    with app.test_client() as c:
        paths = set(c.get("/api/v1/openapi.json").get_json()["paths"])
    assert paths and paths <= {s.replace("\u200b", "") for s in shown}, shown
    assert "行政执法人员资格管理系统 API" in page.inner_text("body")
    own = urlsplit(live_server).netloc
    outside = [u for u in requests if urlsplit(u).scheme in ("http", "https") and urlsplit(u).netloc != own]
    assert outside == []
    assert violations == [] and errors == []
    page.screenshot(path="/tmp/api-docs.png", full_page=False)
