"""Signed verification tokens for printed certificates.

A token is the signed payload {"t": "training"|"exam", "id": attendance_or_result_id}: it cannot
be made or altered without the app's SECRET_KEY, so a forged one fails the signature check.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer

SALT = "certmgr.verify.v1"
KINDS = ("training", "exam")


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(kind: str, row_id: int) -> str:
    if kind not in KINDS:
        raise ValueError(kind)
    return _serializer().dumps({"t": kind, "id": int(row_id)})


def read_token(token: str) -> tuple[str, int] | None:
    """(kind, id) of a genuine token; None when it is forged, altered or malformed."""
    try:
        data = _serializer().loads(token)
    except (BadData, UnicodeError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("t") not in KINDS or type(data.get("id")) is not int:
        return None
    return data["t"], data["id"]


def base_url() -> str:
    from app.settings.services import get

    return (get("public_base_url") or current_app.config["APP_BASE_URL"]).rstrip("/")


def verify_url(kind: str, row_id: int) -> str:
    return f"{base_url()}/verify/{make_token(kind, row_id)}"
