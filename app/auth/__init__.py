"""Blueprint only: routes are imported by create_app (avoids import cycles)."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
