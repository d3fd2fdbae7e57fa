"""Screenshots of the main pages for the README (docs/*.png), with demo data in a temp database.

Usage: .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGES = {
    "dashboard": "/",
    "flags": "/flags",
}


def main() -> None:
    tmp = tempfile.mkdtemp()
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/shots.db"
    os.environ.setdefault("SECRET_KEY", "screenshots")
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, check=True, capture_output=True)
    subprocess.run([*flask, "demo", "seed"], cwd=ROOT, check=True, capture_output=True)
    subprocess.run([*flask, "users", "create", "shots", "--role", "admin", "--password-stdin"],
                   input="screenshots-pass\n", text=True, cwd=ROOT, check=True, capture_output=True)

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from app import create_app

    app = create_app()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    out = ROOT / "docs"
    out.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                     args=["--headless", "--no-sandbox", "--disable-gpu",
                                           "--disable-background-networking", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "shots")
        page.fill("input[name=password]", "screenshots-pass")
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        for name, path in PAGES.items():
            page.goto(base + path)
            time.sleep(0.3)
            page.screenshot(path=str(out / f"{name}.png"), full_page=False)
            print(out / f"{name}.png")
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
