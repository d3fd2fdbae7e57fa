"""`flask db upgrade` then `flask db check` is clean on the test database (SQLite or PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]


def _flask(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "x"}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def empty_db_url(tmp_path):
    pg = os.environ.get("TEST_DATABASE_URL")
    if not pg or not pg.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    name = f"migr_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield pg.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_then_check_is_clean(empty_db_url):
    up = _flask(empty_db_url, "db", "upgrade")
    assert up.returncode == 0, up.stderr
    check = _flask(empty_db_url, "db", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr
    seed = _flask(empty_db_url, "demo", "seed", "--officers", "12", "--today", "2026-06-15")
    assert seed.returncode == 0, seed.stderr
    report = _flask(empty_db_url, "settings", "show")
    assert "org_name" in report.stdout


def test_case_verdict_migration_judges_the_cases_already_recorded(empty_db_url):
    """Upgrading a database that already holds cases fills case_verdict with their verdicts."""
    assert _flask(empty_db_url, "db", "upgrade").returncode == 0
    seed = _flask(empty_db_url, "demo", "seed", "--officers", "12", "--today", "2026-06-15")
    assert seed.returncode == 0, seed.stderr
    down = _flask(empty_db_url, "db", "downgrade", "4b227bc8fa1c")  # as before the stored case verdicts
    assert down.returncode == 0, down.stderr
    up = _flask(empty_db_url, "db", "upgrade")
    assert up.returncode == 0, up.stderr
    engine = create_engine(empty_db_url)
    with engine.connect() as conn:
        cases = conn.execute(text("SELECT count(*) FROM penalty_case")).scalar()
        verdicts = conn.execute(text("SELECT count(*), sum(CASE WHEN ok THEN 0 ELSE 1 END) FROM case_verdict")).one()
    engine.dispose()
    assert cases > 0 and verdicts[0] == cases and verdicts[1] > 0  # the demo has failing cases too
    check = _flask(empty_db_url, "check", "cases")
    assert check.returncode == 0 and "一致" in check.stdout, check.stdout + check.stderr


PAGE_CHECK = """
import json, os
from app import create_app
from app.auth.services import create_user
from app.extensions import db
app = create_app()
app.config["WTF_CSRF_ENABLED"] = False
with app.app_context():
    create_user("migr_admin", "admin", "migr-password-123")
    db.session.commit()
client = app.test_client()
client.post("/login", data={"username": "migr_admin", "password": "migr-password-123"})
oid = os.environ["OFFICER_ID"]
page = client.get(f"/officers/{oid}")
photo = client.get(f"/officers/{oid}/photo")
print(json.dumps({"page": page.status_code, "img": f'src="/officers/{oid}/photo"' in page.get_data(as_text=True),
                  "photo": photo.status_code, "mime": photo.mimetype, "hex": photo.data.hex()}))
"""


def _png(color) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (60, 80), color).save(buf, "PNG")
    return buf.getvalue()


def test_photos_move_to_their_own_table_and_back(empty_db_url, tmp_path):
    """Officers' photos survive the move out of the officer row (upgrade) and back (downgrade);
    after the upgrade the officer's page shows the photo and the printed certificate carries it."""
    import json

    from pypdf import PdfReader

    assert _flask(empty_db_url, "db", "upgrade").returncode == 0
    seed = _flask(empty_db_url, "demo", "seed", "--officers", "12", "--today", "2026-06-15")
    assert seed.returncode == 0, seed.stderr
    red, blue = _png((200, 30, 30)), _png((30, 30, 200))
    engine = create_engine(empty_db_url)
    with engine.begin() as conn:
        attendee, session_id = conn.execute(text(
            "SELECT officer_id, session_id FROM attendance WHERE status = 'attended' ORDER BY id")).first()
        other = conn.execute(text("SELECT min(id) FROM officer WHERE id <> :a"), {"a": attendee}).scalar()
        conn.execute(text("INSERT INTO officer_photo (officer_id, mime, data, updated_at) "
                          "VALUES (:o, 'image/png', :d, CURRENT_TIMESTAMP)"), {"o": other, "d": blue})
    engine.dispose()

    down = _flask(empty_db_url, "db", "downgrade", "862f12319ec7")  # photos inline in the officer row
    assert down.returncode == 0, down.stderr
    engine = create_engine(empty_db_url)
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT id, photo, photo_mime FROM officer WHERE photo IS NOT NULL")).all()
        assert [(r.id, bytes(r.photo), r.photo_mime) for r in rows] == [(other, blue, "image/png")]
        conn.execute(text("UPDATE officer SET photo = :d, photo_mime = 'image/png' WHERE id = :o"),
                     {"o": attendee, "d": red})
    engine.dispose()

    up = _flask(empty_db_url, "db", "upgrade")
    assert up.returncode == 0, up.stderr
    engine = create_engine(empty_db_url)
    with engine.connect() as conn:
        photos = {r.officer_id: (bytes(r.data), r.mime) for r in conn.execute(
            text("SELECT officer_id, data, mime FROM officer_photo"))}
    engine.dispose()
    assert photos == {attendee: (red, "image/png"), other: (blue, "image/png")}
    check = _flask(empty_db_url, "db", "check")
    assert check.returncode == 0, check.stdout + check.stderr

    out = tmp_path / "cert.pdf"
    printed = _flask(empty_db_url, "docs", "certificates", "--session", str(session_id),
                     "--officer", str(attendee), "--out", str(out))
    assert printed.returncode == 0, printed.stdout + printed.stderr
    assert len(PdfReader(out).pages[0].images) == 1

    env = {**os.environ, "DATABASE_URL": empty_db_url, "SECRET_KEY": "x", "OFFICER_ID": str(attendee)}
    shown = subprocess.run([sys.executable, "-c", PAGE_CHECK], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    seen = json.loads(shown.stdout.strip().splitlines()[-1])
    assert seen == {"page": 200, "img": True, "photo": 200, "mime": "image/png", "hex": red.hex()}
