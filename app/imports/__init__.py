"""Imports of officers and certificates from .xlsx / .csv files (docs/domain.md 导入)."""

from flask import Blueprint

bp = Blueprint("imports", __name__)

from app.imports import routes  # noqa: E402,F401
