"""Download routes: parse the query, print through documents.services, commit the audit row."""

from __future__ import annotations

import io
from datetime import date

from flask import flash, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from app import clock
from app.auth.access import require_role
from app.documents import bp
from app.documents.services import DOCUMENTS, print_document
from app.errors import DomainError
from app.extensions import db
from app.jobs.services import defer
from app.models.exams import Exam
from app.models.officers import Unit
from app.models.training import TrainingSession
from app.web.tokens import base_url_and_source, is_loopback


class BadParam(DomainError):
    pass


def _int(name: str, label: str, *, required: bool = False, lo: int = 1, hi: int = 10**9) -> int | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        if required:
            raise BadParam(f"请选择{label}")
        return None
    try:
        value = int(raw)
    except ValueError:
        raise BadParam(f"{label}“{raw}”无效，应为整数") from None
    if not lo <= value <= hi:
        raise BadParam(f"{label}应在 {lo} 到 {hi} 之间")
    return value


def _today() -> date:
    raw = (request.args.get("today") or "").strip()
    if not raw:
        return clock.today()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadParam(f"日期“{raw}”无效，应为 YYYY-MM-DD") from None


def _title(name: str, params: dict) -> str:
    """What the file is called on 我的文件: the certificates of an exam are 考试合格证明, of a
    training session 培训合格证书, followed by the exam's or the session's title."""
    if name != "certificates":
        return DOCUMENTS[name]
    if params.get("exam_id") is not None:
        title = db.session.scalar(select(Exam.title).where(Exam.id == params["exam_id"]))
        return f"考试合格证明：{title}" if title else "考试合格证明"
    title = db.session.scalar(select(TrainingSession.title).where(TrainingSession.id == params.get("session_id")))
    return f"培训合格证书：{title}" if title else "培训合格证书"


def _download(name: str, **params):
    try:
        as_of = _today()
        # Every PDF is made by a background job (the worker replays this route and comes back
        # here); what only the data can refuse (an unknown unit) shows on the job's page.
        if (queued := defer(_title(name, params))) is not None:
            return queued
        pdf, doc = print_document(name, today=as_of, **params)
    except DomainError as exc:
        db.session.rollback()
        flash(f"无法生成{DOCUMENTS[name]}：{exc}", "error")
        return redirect(url_for("documents.index"))
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=doc.filename)


def _guarded(name: str, build):
    try:
        params = build()
    except BadParam as exc:
        flash(f"无法生成{DOCUMENTS[name]}：{exc}", "error")
        return redirect(url_for("documents.index"))
    return _download(name, **params)


@bp.route("/documents")
def index():
    sessions = db.session.execute(select(TrainingSession.id, TrainingSession.title, TrainingSession.held_on)
                                  .order_by(TrainingSession.held_on.desc(), TrainingSession.id.desc())
                                  .limit(500)).all()
    exams = db.session.execute(select(Exam.id, Exam.title, Exam.held_on)
                               .order_by(Exam.held_on.desc(), Exam.id.desc()).limit(500)).all()
    units = db.session.scalars(select(Unit.name).order_by(Unit.sort_order, Unit.name_pinyin, Unit.name)).all()
    this_year = clock.today().year
    prefix, source = base_url_and_source()
    return render_template("documents/index.html", sessions=sessions, exams=exams, units=units,
                           years=list(range(this_year, this_year - 6, -1)), this_year=this_year,
                           qr_prefix=f"{prefix}/verify/", qr_source=source, qr_loopback=is_loopback(prefix))


@bp.route("/documents/roster.pdf")
def roster():
    return _guarded("roster", lambda: {"unit": (request.args.get("unit") or "").strip() or None})


@bp.route("/documents/public-list.pdf")
def public_list():
    return _guarded("public-list", lambda: {"unit": (request.args.get("unit") or "").strip() or None})


@bp.route("/documents/reminder.pdf")
def reminder():
    return _guarded("reminder", lambda: {"within": _int("within", "提前天数", lo=0, hi=3650)})


@bp.route("/documents/sign-in.pdf")
def sign_in():
    return _guarded("sign-in", lambda: {"session_id": _int("session", "培训班", required=True)})


@bp.route("/documents/ledger.pdf")
def ledger():
    return _guarded("ledger", lambda: {"year": _int("year", "年份", lo=1900, hi=9999)})


@bp.route("/documents/scores.pdf")
def scores():
    return _guarded("scores", lambda: {"exam_id": _int("exam", "考试", required=True)})


@bp.route("/documents/certificates.pdf")
@require_role("clerk")
def certificates():
    def params():
        session_id, exam_id = _int("session", "培训班"), _int("exam", "考试")
        if (session_id is None) == (exam_id is None):
            raise BadParam("请选择一个培训班或一场考试（二选一）")
        return {"session_id": session_id, "exam_id": exam_id, "officer_id": _int("officer", "人员")}

    return _guarded("certificates", params)
