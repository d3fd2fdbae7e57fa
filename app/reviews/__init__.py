"""Annual reviews of enforcement certificates (年审)."""

from flask import Blueprint

bp = Blueprint("reviews", __name__)
