"""行政处罚案件 and their art. 42 check: two officers certified on the case's dates."""

from flask import Blueprint

from app.rules import verdicts  # noqa: F401  (its flush hook keeps case_verdict current)

bp = Blueprint("cases", __name__)
