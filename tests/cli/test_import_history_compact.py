"""导入记录 keeps a large import compactly: the ids it created as sorted [first, last] ranges and
a file that compresses (a CSV file) compressed. Undo and the download read both these forms and
the ones earlier imports stored (a plain list of ids, the file as it was)."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import func, select

from app.extensions import db as _db
from app.imports import history
from app.models.imports import PACKED, ImportBatch, expand, pack, ranges, unpack
from app.models.training import Attendance, TrainingSession
from tests.conftest import login
from tests.factories import OfficerFactory


def test_ranges_and_expand():
    assert ranges([]) == []
    assert ranges([7, 3, 4, 5, 10, 11, 4]) == [[3, 5], [7, 7], [10, 11]]
    assert expand(ranges([9, 1, 2, 3, 5])) == [1, 2, 3, 5, 9]
    assert expand([4, 2, 8]) == [4, 2, 8]  # the list earlier imports stored
    assert expand(json.loads(json.dumps(ranges(range(1, 1_000_001))))) == list(range(1, 1_000_001))
    assert len(json.dumps(ranges(range(1, 1_000_001)))) < 20


def test_pack_and_unpack():
    text = ("培训名称,培训日期,学时,身份证号\n" * 200).encode()
    assert pack(text).startswith(PACKED) and len(pack(text)) < len(text) // 10
    assert unpack(pack(text)) == text
    assert pack(b"PK\x03\x04 an xlsx") == b"PK\x03\x04 an xlsx"  # a zip already: kept as it is
    assert pack(b"a,b") == b"a,b"  # would not get smaller
    assert unpack(b"a,b") == b"a,b" and unpack(None) == b""


def _attendance_csv(path, numbers):
    rows = [["培训名称", "培训日期", "学时", "身份证号"]]
    rows += [[f"专题培训{s}", f"2026-0{s}-01", 2, n] for s in range(1, 4) for n in numbers]
    path.write_bytes("\n".join(",".join(str(v) for v in r) for r in rows).encode("utf-8-sig"))
    return path


def test_cli_import_is_recorded_compactly_and_undone(app, runner, client, tmp_path, set_today):
    set_today(date(2026, 6, 15))
    with app.app_context():
        numbers = [OfficerFactory().id_number for _ in range(20)]
        _db.session.commit()
    path = _attendance_csv(tmp_path / "签到.csv", numbers)
    result = runner.invoke(args=["import", "attendance", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        batch = _db.session.scalar(select(ImportBatch))
        assert batch.file_data.startswith(PACKED) and len(batch.file_data) < len(path.read_bytes())
        assert batch.original == path.read_bytes() and batch.file_size == len(path.read_bytes())
        stored = json.loads(batch.created_json)
        assert all(isinstance(r, list) and len(r) == 2 for r in stored["attendance"])
        ids = sorted(_db.session.scalars(select(Attendance.id)))
        assert batch.created_ids["attendance"] == ids and len(ids) == 60
        batch_id = batch.id

    login(client, app, "admin")
    download = client.get(f"/imports/history/{batch_id}/file")
    assert download.status_code == 200 and download.data == path.read_bytes()
    assert "出勤记录" in client.get(f"/imports/history/{batch_id}").get_data(as_text=True)

    with app.app_context():
        batch = _db.session.get(ImportBatch, batch_id)
        assert history.why_not_undo(batch) is None
        assert "出勤记录 60 条" in history.undo(batch)
        _db.session.commit()
        assert _db.session.scalar(select(func.count()).select_from(Attendance)) == 0
        assert _db.session.scalar(select(func.count()).select_from(TrainingSession)) == 0


def test_an_earlier_import_stored_as_a_list_and_a_plain_file_still_undoes(app, runner, client, tmp_path,
                                                                         set_today):
    set_today(date(2026, 6, 15))
    with app.app_context():
        numbers = [OfficerFactory().id_number for _ in range(5)]
        _db.session.commit()
    path = _attendance_csv(tmp_path / "a.csv", numbers)
    assert runner.invoke(args=["import", "attendance", str(path)]).exit_code == 0
    with app.app_context():  # rewritten as the earlier code stored it
        batch = _db.session.scalar(select(ImportBatch))
        ids = list(_db.session.scalars(select(Attendance.id).order_by(Attendance.id.desc())))
        sessions = list(_db.session.scalars(select(TrainingSession.id)))
        batch.created_json = json.dumps({"training_session": sessions, "attendance": ids})
        batch.file_data = path.read_bytes()
        _db.session.commit()
        batch_id = batch.id

    login(client, app, "admin")
    assert client.get(f"/imports/history/{batch_id}/file").data == path.read_bytes()
    with app.app_context():
        batch = _db.session.get(ImportBatch, batch_id)
        assert batch.created_ids["attendance"] == ids
        assert "出勤记录 15 条" in history.undo(batch)
        _db.session.commit()
        assert _db.session.scalar(select(func.count()).select_from(Attendance)) == 0
