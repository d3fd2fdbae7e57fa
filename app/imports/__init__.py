"""Imports of officers and certificates from .xlsx / .csv files (docs/domain.md 导入)."""

from flask import Blueprint

bp = Blueprint("imports", __name__)
