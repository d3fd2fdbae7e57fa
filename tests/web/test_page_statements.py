"""List and report pages at scale (docs/architecture.md, Cost targets): only the shown page's rows are
built, and each page runs a bounded number of SQL statements whatever the filter, sort or page. Statement counts are
deterministic (unlike times), so they are what is tested here; scripts/bench_pages.py prints times."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event

from app.extensions import db as _db
from app.models.certificates import AnnualReview
from app.models.exams import Exam, ExamResult
from app.models.training import Attendance, TrainingSession
from tests.conftest import login
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory

TODAY = date.today()  # the pages use the real date
MAX_STATEMENTS = 12


@pytest.fixture
def data(app):
    """130 officers in 3 units: 70 without a certificate (UNLICENSED), 60 with one expiring within
    60 days (EXPIRING, due a reminder), some training; enough for two pages of each list."""
    with app.app_context():
        units = [UnitFactory() for _ in range(3)]
        officers = []
        for i in range(130):
            o = OfficerFactory(unit=units[i % 3], name=f"人员{i:03d}")
            officers.append(o)
            if i >= 70:
                CertificateFactory(officer=o, issued_on=TODAY - timedelta(days=1800),
                                   expires_on=TODAY + timedelta(days=1 + i % 59))
        s = TrainingSession(title="培训", category="general_law", held_on=date(TODAY.year, 1, 10), hours=8)
        _db.session.add(s)
        _db.session.flush()
        for o in officers[:40]:
            _db.session.add(Attendance(session_id=s.id, officer_id=o.id, status="attended", credited_hours=8))
        # the detail page's officer has a history: an old card, exams, training, an annual review
        shown = officers[80]
        old = CertificateFactory(officer=shown, issued_on=TODAY - timedelta(days=3700),
                                 expires_on=TODAY - timedelta(days=1900), status="replaced")
        for k in range(3):
            exam = Exam(title=f"考试{k}", kind="annual", held_on=TODAY - timedelta(days=100 * k + 30))
            _db.session.add(exam)
            _db.session.flush()
            _db.session.add(ExamResult(exam_id=exam.id, officer_id=shown.id, score=70 + k, absent=False))
        _db.session.add(Attendance(session_id=s.id, officer_id=shown.id, status="attended", credited_hours=8))
        _db.session.add(AnnualReview(certificate_id=old.id, year=TODAY.year - 6, result="pass"))
        # a city-wide exam: every officer a candidate (more than one page of the score grid)
        big = Exam(title="全员考试", kind="annual", held_on=TODAY - timedelta(days=10), pass_score=60)
        _db.session.add(big)
        _db.session.flush()
        for i, o in enumerate(officers):
            _db.session.add(ExamResult(exam_id=big.id, officer_id=o.id, absent=i % 10 == 0,
                                       score=None if i % 10 == 0 else 40 + i % 50))
        # penalty cases naming the officers' certificates
        from app.models.cases import CaseCertificate, PenaltyCase

        for k in range(60):
            c = PenaltyCase(case_no=f"罚字{k:03d}", title=f"案件{k}", decided_on=TODAY - timedelta(days=k),
                            unit=units[k % 3].name)
            _db.session.add(c)
            _db.session.flush()
            for pos, o in enumerate(officers[70 + k % 50: 72 + k % 50]):
                _db.session.add(CaseCertificate(case_id=c.id, position=pos, number=o.certificates[0].number))
        _db.session.commit()
        return {"officer_id": shown.id, "big_exam": big.id, "session_id": s.id, "exam_id": exam.id,
                "case_id": c.id}


class Counter:
    def __init__(self, engine):
        self.engine, self.n = engine, 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._on)

    def _on(self, _conn, _cursor, statement, *_a, **_k):
        self.n += 1


PAGES = [
    "/", "/flags", "/flags?page=2", "/flags?flag=UNLICENSED&page=2", "/flags?flag=EXPIRING&within=30",
    "/flags?q=人员01", "/officers", "/officers?flag=UNLICENSED", "/officers?flag=TRAINING_SHORTFALL",
    "/officers?page=3", "/officers/{officer_id}", "/certificates?page=2", "/training/ledger",
    "/training/ledger?status=shortfall&page=2", "/training/annual", "/reviews", "/reviews?page=2",
    "/reminders", "/reminders?page=2",
    # pages added later, held to the same bound
    "/exams/{big_exam}", "/exams/{big_exam}?page=2", "/exams/{big_exam}?q=人员01", "/training/{session_id}",
    "/cases", "/cases?verdict=not_ok", "/cases?page=2", "/cases/{case_id}", "/public/officers",
    "/imports/history", "/exams/bank", "/exams/{big_exam}/online", "/exams/{big_exam}/online/monitor",
]


@pytest.mark.parametrize("url", PAGES)
def test_page_runs_at_most_12_statements(app, client, data, url, public_list_on):
    login(client, app, "admin")
    url = url.format(**data)
    client.get(url)  # first request of the session (settings cache etc.)
    with app.app_context():
        engine = _db.engine
    with Counter(engine) as c:
        resp = client.get(url)
    assert resp.status_code == 200
    assert c.n <= MAX_STATEMENTS, f"GET {url} ran {c.n} SQL statements"


def _cert_rows(html: str) -> int:
    return len(re.findall(r'<tr data-certificate="', html))


def test_reminders_page_shows_one_page_of_rows_and_a_pager(app, client, data):
    login(client, app, "admin")
    first = client.get("/reminders").get_data(as_text=True)
    second = client.get("/reminders?page=2").get_data(as_text=True)
    assert _cert_rows(first) == 50
    assert _cert_rows(second) == 10
    assert "下一页" in first
    assert re.search(r'id="reminders-total">60<', first)
    # the download still has every row
    resp = client.get("/reminders.xlsx")
    from io import BytesIO

    from openpyxl import load_workbook

    ws = load_workbook(BytesIO(resp.data)).active
    numbers = [c.value for c in ws["D"] if c.value and str(c.value).startswith("5001")]
    assert len(numbers) == 60


def test_reviews_page_shows_one_page_of_rows(app, client, data):
    login(client, app, "admin")
    year = TODAY.year
    first = client.get(f"/reviews?year={year}").get_data(as_text=True)
    second = client.get(f"/reviews?year={year}&page=2").get_data(as_text=True)
    boxes = r'name="cert" value="(\d+)"'
    assert len(re.findall(boxes, first)) == 50
    assert len(re.findall(boxes, second)) == 10
    assert not set(re.findall(boxes, first)) & set(re.findall(boxes, second))
    past_end = client.get(f"/reviews?year={year}&page=99").get_data(as_text=True)
    assert re.findall(boxes, past_end) == re.findall(boxes, second)  # the last page


def _grid_rows(html: str) -> list[str]:
    return re.findall(r'<tr data-officer="([^"]+)"', html)


def test_exam_grid_shows_one_page_of_candidates_with_search(app, client, data):
    """A city-wide exam's score grid (16,000+ candidates would make a page of many megabytes): 100 rows a
    page, a pager, a search; the summary still counts the whole exam."""
    login(client, app, "admin")
    url = f"/exams/{data['big_exam']}"
    first = client.get(url).get_data(as_text=True)
    second = client.get(url + "?page=2").get_data(as_text=True)
    assert len(_grid_rows(first)) == 100
    assert len(_grid_rows(second)) == 30
    assert not set(_grid_rows(first)) & set(_grid_rows(second))
    assert "下一页" in first
    assert "考生 130 人，参考 117 人，缺考 13 人" in first
    assert client.get(url + "?page=99").get_data(as_text=True).count('<tr data-officer="') == 30
    found = client.get(url + "?q=人员12").get_data(as_text=True)
    assert sorted(_grid_rows(found)) == ["人员120", "人员121", "人员122", "人员123", "人员124",
                                         "人员125", "人员126", "人员127", "人员128", "人员129"]
    assert "考生 130 人" in found
    # the grid's form saves the rows of the page shown and comes back to it
    assert re.search(r'action="/exams/\d+/results\?page=2"', second)
