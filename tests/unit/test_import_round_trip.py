"""Round trip: every kind exported in its import format re-imports as
"0 new, 0 updated" — and the export keeps a formula-looking name as text."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest

from app.importing.base import importers
from app.imports.templates import export_workbook
from app.models.exams import Exam, ExamResult
from app.models.training import Attendance, TrainingSession
from tests.conftest import TODAY, login
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory


@pytest.fixture
def data(db):
    top = UnitFactory(name="海棠溪街道办事处", kind="office", sort_order=1)
    team = UnitFactory(name="综合执法队", kind="team", parent=top, sort_order=2)
    a = OfficerFactory(name='=HYPERLINK("http://x","y")', unit=team, phone="023-1234567",
                       employee_no="E01", education="bachelor")
    b = OfficerFactory(name="李四", unit=top, on_enforcement_post=False, employment_status="retired")
    CertificateFactory(officer=a)
    CertificateFactory(officer=b, status="suspended")
    s = TrainingSession(title="宪法讲座", held_on=date(2026, 3, 1), hours=4, category="general_law")
    db.session.add(s)
    db.session.add_all([Attendance(session=s, officer_id=a.id, status="attended", credited_hours=3.5),
                        Attendance(session=s, officer_id=b.id, status="absent", credited_hours=0)])
    e = Exam(title="资格考试", held_on=date(2026, 4, 1), kind="qualification", max_score=100,
             pass_score=60)
    db.session.add(e)
    db.session.add_all([ExamResult(exam=e, officer_id=a.id, score=82.5, absent=False),
                        ExamResult(exam=e, officer_id=b.id, score=None, absent=True)])
    from app.cases.services import save_case

    save_case(None, {"case_no": "罚1", "title": "占道经营案", "decided_on": date(2026, 3, 3),
                     "certificate_numbers": ["A1", "B2"], "unit": "综合执法队"})
    save_case(None, {"case_no": "罚2", "decided_on": date(2026, 3, 4), "certificate_numbers": ["C3"]})
    from app.models.online import Question

    db.session.add_all([
        Question(type="multiple", stem="下列哪些属于行政处罚？", options={"A": "警告", "B": "罚款", "C": "记过"},
                 answer="AB", points=4, category="专门法律知识", basis="行政处罚法第9条"),
        Question(type="true_false", stem="=执法人员可以不出示证件。", options={}, answer="错")])
    db.session.commit()
    return a


@pytest.mark.parametrize("kind", ["units", "officers", "certificates", "attendance", "scores", "cases", "questions"])
def test_export_reimports_as_nothing_new_nothing_updated(db, data, kind):
    importer = importers()[kind]
    exported = export_workbook(importer)
    ws = openpyxl.load_workbook(io.BytesIO(exported)).worksheets[0]
    assert [c.value for c in ws[1]] == [c.zh for c in importer.columns]
    assert ws.max_row == 3
    result = importer.run(exported, f"{kind}.xlsx", today=TODAY)
    assert (result.created, result.updated) == (0, 0), result.summary()
    assert result.total == 2


def test_export_keeps_formula_looking_text_as_text(db, data):
    ws = openpyxl.load_workbook(io.BytesIO(export_workbook(importers()["officers"]))).worksheets[0]
    names = [ws.cell(row=r, column=1) for r in (2, 3)]
    cell = next(c for c in names if "HYPERLINK" in str(c.value))
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://x","y")'
    id_cell = ws.cell(row=2, column=2)
    assert id_cell.number_format == "@" and isinstance(id_cell.value, str)


def test_export_page_is_for_administrators_only(client, app):
    login(client, app, "clerk")
    assert client.get("/imports/export/officers.xlsx").status_code == 403
    admin = app.test_client()
    login(admin, app, "admin")
    resp = admin.get("/imports/export/officers.xlsx")
    assert resp.status_code == 200 and resp.data[:2] == b"PK"
