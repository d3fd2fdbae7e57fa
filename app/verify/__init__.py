"""Public verification of printed certificates (no login)."""

from flask import Blueprint

bp = Blueprint("verify", __name__)
