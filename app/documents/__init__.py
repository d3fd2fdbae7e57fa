"""Printed documents (docs/domain.md 打印文件与公开页面): contexts in services.py, rendering in app/pdf.py."""

from flask import Blueprint

bp = Blueprint("documents", __name__)
