"""The unit of work: the one place a transaction is committed.

Like Indico's ``RH.process``: a web request's handler runs, then **one commit** after it — when it
answered below 400 without raising, and only when the session wrote something (a read-only GET
sends no COMMIT; the session is closed at teardown as before). Any exception or an answer of 400
and above rolls the work back. A ``DomainError`` (``StaleEdit`` included) raised from a handler
becomes the person's message: flashed with a redirect back to the form on pages, the API's
``{"error", "message"}`` under /api/v1/. A commit that fails at the end (a unique race:
IntegrityError; a simultaneous save: StaleDataError) is turned into the same kind of message —
never a 500 — and the success messages flashed since the last commit are taken back.

A handler whose writes must be durable before it goes on (a job the worker reads, mail sent after
the write, a file streamed, an audit row that stays even when the answer is an error) calls
``commit()`` itself. CLI commands commit through ``commit()`` or ``commit_or_exit`` (rolls back and
exits 1 on a refusal), the job runner through ``commit()``.

``commit()`` is the only ``db.session.commit()`` in app/ (scripts/lint_rules.py checks it).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import click
from flask import (
    current_app,
    flash,
    g,
    has_request_context,
    jsonify,
    message_flashed,
    redirect,
    request,
    session,
)
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.errors import DomainError, StaleEdit
from app.extensions import db

# Two people saved the same record at once: the version counter (version_id_col) let the first
# through and found the second's row changed under it. Same words as a stale form (StaleEdit).
STALE_MESSAGE = "数据已被他人修改（您保存的同时另一人也保存了），请刷新页面查看最新内容后重新编辑"
# A unique constraint refused the write at commit: someone saved the same thing a moment before.
CONFLICT_MESSAGE = "保存失败：与刚刚由他人保存的记录重复（例如同一编号或同一人），请刷新页面查看后重试"

_WROTE = "uow_wrote"


class CommitConflict(DomainError):
    """The database refused the commit (a unique constraint): nothing was saved."""


def commit() -> None:
    """Commit the session's transaction now. A unique race or a simultaneous save rolls back and
    raises a DomainError with words a person can act on (CommitConflict, StaleEdit)."""
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise CommitConflict(CONFLICT_MESSAGE) from exc
    except StaleDataError as exc:
        db.session.rollback()
        raise StaleEdit(STALE_MESSAGE) from exc
    _flashed_since_commit().clear()


def rollback() -> None:
    db.session.rollback()


def has_writes(session=None) -> bool:
    """Whether the transaction holds anything to commit: pending objects, or a flush / an
    INSERT/UPDATE/DELETE statement since it began."""
    session = session or db.session()
    return bool(session.info.get(_WROTE) or session.new or session.dirty or session.deleted)


@contextmanager
def commit_or_exit(*errors: type[Exception]) -> Iterator[None]:
    """A command's transaction: commit what the block did; on one of `errors` (or a refused
    commit) roll back, print "错误：…" on stderr and exit 1."""
    try:
        yield
        commit()
    except (*errors, CommitConflict, StaleEdit) as exc:
        db.session.rollback()
        click.echo(f"错误：{exc}", err=True)
        sys.exit(1)


# --- the session's write flag ------------------------------------------------------------------

@event.listens_for(Session, "after_flush")
def _after_flush(session, _flush_context) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True
    elif not state.is_select and not str(state.statement).lstrip()[:6].upper() == "SELECT":
        state.session.info[_WROTE] = True  # text("UPDATE …") and the like


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WROTE, None)


# --- web requests ------------------------------------------------------------------------------

def _flashed_since_commit() -> list:
    if not has_request_context():
        return []
    if "_uow_flashed" not in g:
        g._uow_flashed = []
    return g._uow_flashed


def _take_back_flashes() -> None:
    """The messages flashed since the last commit spoke of work that was just rolled back."""
    flashed = _flashed_since_commit()
    if not flashed:
        return
    queue = session.get("_flashes", [])
    for item in flashed:
        if item in queue:
            queue.remove(item)
    session["_flashes"] = queue
    flashed.clear()


def _is_api() -> bool:
    return request.path.startswith("/api/v1/")


def error_response(exc: DomainError):
    """A refusal as the person sees it: JSON for the API, a flash and a redirect back for pages."""
    db.session.rollback()
    g._uow_failed = True
    _take_back_flashes()
    if _is_api():
        if isinstance(exc, StaleEdit):
            code, status = "stale", 409
        elif isinstance(exc, CommitConflict):
            code, status = "conflict", 409
        else:
            code, status = "invalid", 422
        resp = jsonify({"error": code, "message": str(exc)})
        resp.status_code = status
        return resp
    flash(str(exc), "danger")
    g._uow_flashed = []  # this message stays
    return redirect(_back_url())


def _back_url() -> str:
    """The form the person came from: this URL when it answers GET, else the referring page of
    this site, else the home page."""
    rule = request.url_rule
    if rule is not None and "GET" in (rule.methods or ()):
        return request.full_path if request.query_string else request.path
    ref = request.referrer
    if ref and urlsplit(ref).netloc in ("", request.host):
        return ref
    return current_app.config.get("APPLICATION_ROOT", "/") or "/"


def init_app(app) -> None:
    def remember_flash(sender, message, category, **extra) -> None:
        _flashed_since_commit().append((category, message))

    message_flashed.connect(remember_flash, app, weak=False)
    app.register_error_handler(DomainError, error_response)

    @app.after_request
    def commit_after_handler(response):
        if g.pop("_uow_failed", False) or response.status_code >= 400:
            if has_writes():
                db.session.rollback()
            return response
        if not has_writes():
            return response  # read-only: no COMMIT; teardown closes the session
        try:
            commit()
        except DomainError as exc:
            return error_response(exc)
        return response
