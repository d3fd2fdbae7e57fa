"""Background jobs seen through the web (jobs run in huey's immediate mode here; the real worker,
gunicorn and several servers are in tests/ops/test_serving.py)."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import func, select

from app.extensions import db as _db
from app.models.jobs import Job
from tests.conftest import csrf_from, login, make_user
from tests.factories import CertificateFactory, OfficerFactory

JSON = {"Accept": "application/json"}


def _certified(app, n: int) -> None:
    with app.app_context():
        for _ in range(n):
            CertificateFactory(officer=OfficerFactory())
        _db.session.commit()


def test_a_pdf_answers_202_with_location_and_the_job_reports_then_serves_the_file(app, client):
    _certified(app, 3)
    login(client, app, "viewer")
    resp = client.get("/documents/roster.pdf")
    assert resp.status_code == 202
    location = resp.headers["Location"]
    assert location.startswith("/jobs/")
    assert "持证人员名册" in resp.get_data(as_text=True)  # the job's page, not a blank body

    status = client.get(location, headers=JSON).get_json()
    assert set(status) >= {"state", "progress", "message", "download_url"}
    assert status["state"] == "done" and status["progress"] == 1.0
    pdf = client.get(status["download_url"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "filename*=UTF-8''" in pdf.headers["Content-Disposition"]
    assert "持证人员名册" in PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()

    page = client.get(location).get_data(as_text=True)  # HTML without Accept: json
    assert 'data-job-url="' + location in page and "下载" in page and "<script>" not in page


def test_a_failed_job_shows_its_message(app, client):
    login(client, app, "viewer")
    resp = client.get("/documents/roster.pdf?unit=不存在的科室")
    status = client.get(resp.headers["Location"], headers=JSON).get_json()
    assert status["state"] == "failed" and status["download_url"] is None
    assert "单位“不存在的科室”不存在" in status["message"]
    assert "单位“不存在的科室”不存在" in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_job_files_of_another_user_are_refused(app, client):
    _certified(app, 2)
    login(client, app, "viewer", username="alice")
    location = client.get("/documents/public-list.pdf").headers["Location"]
    url = client.get(location, headers=JSON).get_json()["download_url"]
    client.get("/logout")

    other = app.test_client()
    login(other, app, "clerk", username="mallory")
    assert other.get(location, headers=JSON).status_code == 403
    resp = other.get(url)
    assert resp.status_code == 403 and resp.mimetype != "application/pdf"

    admin = app.test_client()
    login(admin, app, "admin", username="root")
    assert admin.get(url).mimetype == "application/pdf"


def test_past_jobs_per_user_a_new_job_is_refused_with_429(app, client):
    login(client, app, "viewer", username="busy")
    with app.app_context():
        from app.models.auth import User

        uid = _db.session.scalar(select(User.id).where(User.username == "busy"))
        for i in range(3):
            _db.session.add(Job(id=f"busy{i}", owner_id=uid, kind="request", title="x", params={},
                                state="running" if i else "queued", progress=0.0, message="", attempts=1))
        _db.session.commit()
    resp = client.get("/documents/roster.pdf")
    assert resp.status_code == 429
    assert "3 个文件正在生成" in resp.get_data(as_text=True)

    other = app.test_client()  # another user is not held up by busy's jobs
    login(other, app, "viewer", username="calm")
    assert other.get("/documents/roster.pdf").status_code == 202


def test_small_exports_stay_instant_and_big_ones_become_jobs(app, client, runner):
    with app.app_context():
        for _ in range(4):  # four officers on a post without a certificate: four UNLICENSED rows
            OfficerFactory()
        _db.session.commit()
    login(client, app, "viewer")
    small = client.get("/flags.xlsx")
    assert small.status_code == 200 and small.mimetype.endswith("spreadsheetml.sheet")

    assert runner.invoke(args=["settings", "set", "job_threshold_rows", "3"]).exit_code == 0
    big = client.get("/flags.csv")
    assert big.status_code == 202
    status = client.get(big.headers["Location"], headers=JSON).get_json()
    assert status["state"] == "done"
    data = client.get(status["download_url"])
    assert data.mimetype == "text/csv" and data.data.decode("utf-8-sig").count("未持证上岗") == 4


def test_healthz_needs_no_login_and_reports_database_and_queue(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok", "database": "ok", "queue": "ok"}


def test_the_job_page_of_an_unknown_job_is_404(app, client):
    login(client, app, "viewer")
    assert client.get("/jobs/nope", headers=JSON).status_code == 404
    assert client.get("/jobs/nope/download").status_code == 404


def test_a_user_who_was_deactivated_gets_no_file(app, client):
    """The worker replays the request as its owner; an owner deactivated meanwhile gets nothing."""
    from app.jobs.services import create, execute

    make_user(app, "gone", "viewer")
    with app.app_context():
        from app.models.auth import User

        user = _db.session.scalar(select(User).where(User.username == "gone"))
        user.active = False
        job = create("request", "持证人员名册", {"path": "/documents/roster.pdf", "args": []}, user.id)
        _db.session.commit()
        job_id = job.id
    execute(app, job_id)
    with app.app_context():
        job = _db.session.get(Job, job_id)
        assert job.state == "failed" and "停用" in job.message and job.file is None


def test_with_job_files_dir_the_file_lives_in_that_folder(app, client, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "JOB_FILES_DIR", str(tmp_path / "shared"))
    _certified(app, 1)
    login(client, app, "viewer")
    location = client.get("/documents/roster.pdf").headers["Location"]
    status = client.get(location, headers=JSON).get_json()
    files = list((tmp_path / "shared").iterdir())
    assert [f.name for f in files] == [location.rsplit("/", 1)[1]]  # no leftover .part file
    with app.app_context():
        assert _db.session.get(Job, files[0].name).file is None
    assert client.get(status["download_url"]).data == files[0].read_bytes()


def test_an_admin_backs_up_the_database_in_the_background(app, client):
    login(client, app, "admin")
    page = client.get("/jobs").get_data(as_text=True)
    assert "立即备份数据库" in page
    resp = client.post("/jobs/backup", data={"csrf_token": csrf_from(page)})
    assert resp.status_code == 202
    status = client.get(resp.headers["Location"], headers=JSON).get_json()
    assert status["state"] == "done", status
    data = client.get(status["download_url"]).data
    engine = app.config["SQLALCHEMY_DATABASE_URI"]
    assert data.startswith(b"SQLite format 3" if engine.startswith("sqlite") else b"PGDMP")


def test_a_reminders_run_is_a_job_with_a_message_and_no_file(app, client):
    login(client, app, "admin")
    resp = client.post("/jobs/reminders", data={"csrf_token": csrf_from(client.get("/jobs").get_data(as_text=True))})
    assert resp.status_code == 202
    status = client.get(resp.headers["Location"], headers=JSON).get_json()
    assert status["state"] in ("done", "failed") and status["message"] and status["download_url"] is None


def test_clerks_cannot_start_a_backup(app, client):
    login(client, app, "clerk")
    assert "立即备份数据库" not in client.get("/jobs").get_data(as_text=True)
    assert client.post("/jobs/backup",
                       data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))}).status_code == 403


def test_each_request_logs_one_json_line_with_user_route_status_and_time(app, client, caplog):
    import json
    import logging

    login(client, app, "viewer", username="logme")
    with caplog.at_level(logging.INFO, logger="certmgr.request"):
        client.get("/officers?page=2")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "certmgr.request"]
    assert len(lines) == 1
    line = lines[0]
    assert line["user"] == "logme" and line["route"] == "/officers" and line["status"] == 200
    assert isinstance(line["ms"], float) and line["ms"] >= 0


def test_an_import_with_more_rows_than_the_threshold_runs_as_a_job(app, client, runner, tmp_path):
    from app.models.imports import ImportBatch
    from app.models.officers import Officer
    from tests.factories import id_number
    from tests.sheets import xlsx
    from tests.web.test_import_wizard import mapping_form, start

    assert runner.invoke(args=["settings", "set", "job_threshold_rows", "2"]).exit_code == 0
    login(client, app, "clerk", username="importer")
    path = xlsx(tmp_path / "o.xlsx", [["姓名", "身份证号", "单位"]] +
                [[f"张{i}", id_number(), "城市管理科"] for i in range(3)])
    url = start(client, path, "officers")
    html = client.post(url + "/check", data=mapping_form(client.get(url).get_data(as_text=True))).get_data(as_text=True)
    resp = client.post(url + "/import", data={"csrf_token": csrf_from(html), "create_unit": "城市管理科"})
    assert resp.status_code == 202
    status = client.get(resp.headers["Location"], headers=JSON).get_json()
    assert status["state"] == "done" and "导入成功" in status["message"], status
    with app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(Officer)) == 3
        batch = _db.session.scalar(select(ImportBatch))
        assert batch.status != "uploaded"
        from app.models.audit import AuditEvent

        actors = set(_db.session.scalars(select(AuditEvent.actor).where(
            AuditEvent.action == "create", AuditEvent.entity_type == "officer")))
        assert actors == {"importer"}  # the rows are the uploader's, though a worker wrote them

    # two rows: at once, as before
    path = xlsx(tmp_path / "p.xlsx", [["姓名", "身份证号", "单位"]] +
                [[f"李{i}", id_number(), "城市管理科"] for i in range(2)])
    url = start(client, path, "officers")
    html = client.post(url + "/check", data=mapping_form(client.get(url).get_data(as_text=True))).get_data(as_text=True)
    assert client.post(url + "/import", data={"csrf_token": csrf_from(html)}).status_code == 302


def test_a_big_list_export_is_a_job_too(app, client, runner):
    """/officers.xlsx past job_threshold_rows answers 202; the job's file holds every row."""
    import io

    from openpyxl import load_workbook

    with app.app_context():
        names = [OfficerFactory().name for _ in range(4)]
        _db.session.commit()
    login(client, app, "viewer")
    small = client.get("/officers.xlsx")
    assert small.status_code == 200 and small.mimetype.endswith("spreadsheetml.sheet")
    assert runner.invoke(args=["settings", "set", "job_threshold_rows", "3"]).exit_code == 0
    big = client.get("/officers.xlsx")
    assert big.status_code == 202
    status = client.get(big.headers["Location"], headers=JSON).get_json()
    assert status["state"] == "done"
    sheet = load_workbook(io.BytesIO(client.get(status["download_url"]).data)).active
    cells = {str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None}
    assert set(names) <= cells


def test_my_files_name_an_exams_certificates_as_such(app, client):
    from datetime import date

    from app.models.exams import Exam
    from app.models.training import TrainingSession

    with app.app_context():
        exam = Exam(title="2026年度行政执法资格考试", held_on=date(2026, 5, 1))
        session = TrainingSession(title="行政处罚法专题培训", held_on=date(2026, 3, 1), hours=6, category="general_law")
        _db.session.add_all([exam, session])
        _db.session.commit()
        exam_id, session_id = exam.id, session.id
    login(client, app, "clerk")
    client.get(f"/documents/certificates.pdf?exam={exam_id}")
    client.get(f"/documents/certificates.pdf?session={session_id}")
    page = client.get("/jobs").get_data(as_text=True)
    assert "考试合格证明：2026年度行政执法资格考试" in page
    assert "培训合格证书：行政处罚法专题培训" in page
