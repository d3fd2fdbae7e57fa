"""Public pages without login: the 三项制度 行政执法公示 of today's certified officers."""

from flask import Blueprint

bp = Blueprint("public", __name__)
