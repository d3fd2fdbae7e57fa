from flask import Blueprint

bp = Blueprint("officers", __name__)

from app.officers import routes  # noqa: E402,F401
