"""Printed documents (DESIGN §6): contexts in services.py, rendering in app/pdf.py."""

from flask import Blueprint

bp = Blueprint("documents", __name__)
