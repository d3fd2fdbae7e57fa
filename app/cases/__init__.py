"""行政处罚案件 and their art. 42 check: two officers certified on the case's dates."""

from flask import Blueprint

bp = Blueprint("cases", __name__)


def _keep_verdicts_current() -> None:
    from app.rules import verdicts  # noqa: F401  (its flush hook keeps case_verdict current)


_keep_verdicts_current()
