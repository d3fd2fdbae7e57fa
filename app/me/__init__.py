"""Officer self-service: an officer's own account (/me), their training claims and change requests,
and the live electronic card (/me/card, public /verify/card/<token>)."""

from flask import Blueprint

bp = Blueprint("me", __name__)
