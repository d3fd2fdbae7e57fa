"""The pinyin-key migration computes the keys of the officers and units already stored."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from tests.unit.test_migrations import _flask, empty_db_url  # noqa: F401  (fixture)


def test_upgrade_backfills_pinyin_keys(empty_db_url):  # noqa: F811
    up = _flask(empty_db_url, "db", "upgrade", "63faa94320c1")
    assert up.returncode == 0, up.stderr
    engine = create_engine(empty_db_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO unit (name, kind, sort_order, created_at, updated_at) "
                          "VALUES ('单位甲', 'department', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        unit_id = conn.execute(text("SELECT id FROM unit")).scalar()
        conn.execute(text(
            "INSERT INTO officer (name, id_number, gender, birth_date, unit_id, position, establishment, "
            "on_enforcement_post, employment_status, phone, notes, version, created_at, updated_at) "
            "VALUES ('曾五', '500108199001011234', 'M', '1990-01-01', :u, '', 'civil_servant', "
            ":t, 'active', '', '', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"u": unit_id, "t": True})
    up = _flask(empty_db_url, "db", "upgrade")
    assert up.returncode == 0, up.stderr
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name_pinyin FROM officer")).scalar() == "zeng1wu3"
        assert conn.execute(text("SELECT name_pinyin FROM unit")).scalar() == "dan1wei4jia3"
    engine.dispose()
