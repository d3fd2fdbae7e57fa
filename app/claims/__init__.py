"""Staff side of officer self-service: invitations, training claims and change requests to decide."""

from flask import Blueprint

bp = Blueprint("claims", __name__)
