"""行政处罚案件 and their art. 42 check: two officers certified on the case's dates."""

from flask import Blueprint

bp = Blueprint("cases", __name__)
