"""One way for a route to end a change: commit it, or roll it back and show why.

The block's work is committed by app.uow.commit() at its end (not after the handler, so the success
message is flashed only once the commit held); like app.uow for a whole request, but only for the
refusals a person can act on — a ``DomainError`` from a
service. Other exceptions pass through untouched (the error handlers deal with them).

    with commit_or_errors(form, success="考试信息已保存") as tx:
        services.save_exam(exam, data)
    if tx.ok:
        return redirect(...)
    return render_template(...)   # the form keeps what was typed; messages sit beside the fields

With a form, each of the error's ``fields`` messages goes beside its field (app.forms.show_errors);
without one the message is flashed, after ``refused`` (e.g. "成绩未保存："). A success message that
depends on the work is set inside the block: ``tx.success = f"已添加 {n} 人"``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import flash
from sqlalchemy.orm.exc import StaleDataError

from app.errors import DomainError, StaleEdit
from app.extensions import db
from app.forms import show_errors
from app.uow import STALE_MESSAGE, commit


def stale_edit(exc: StaleDataError | None = None) -> StaleEdit:
    return StaleEdit(STALE_MESSAGE)


@dataclass
class Outcome:
    success: str | None = None
    error: DomainError | None = None
    ok: bool = False

    @property
    def fields(self) -> dict:
        return self.error.fields if self.error is not None else {}


@contextmanager
def commit_or_errors(form=None, *, success: str | None = None, refused: str = "") -> Iterator[Outcome]:
    """Commit what the block did and flash `success`; on a DomainError roll back and show it."""
    tx = Outcome(success=success)
    try:
        try:
            yield tx
            commit()  # app.uow: a unique race or a simultaneous save becomes a DomainError
        except StaleDataError as exc:
            raise stale_edit(exc) from exc
    except DomainError as exc:
        db.session.rollback()
        tx.error = exc
        if form is not None:
            show_errors(form, exc)
        else:
            flash(f"{refused}{exc}", "danger")
        return
    tx.ok = True
    if tx.success:
        flash(tx.success, "success")
