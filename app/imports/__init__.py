"""Imports of officers and certificates from .xlsx / .csv files (DESIGN §5)."""

from flask import Blueprint

bp = Blueprint("imports", __name__)

from app.imports import routes  # noqa: E402,F401
