"""Signed verification tokens for printed certificates.

A token is the signed payload {"t": "training"|"exam", "id": attendance_or_result_id}: it cannot
be made or altered without the app's SECRET_KEY, so a forged one fails the signature check.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request
from itsdangerous import BadData, URLSafeSerializer

from app.settings.services import get

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


# Where a QR code points when nothing is configured and there is no request to learn the host from
# (the CLI): this machine only, so the CLI warns when it prints one.
FALLBACK_BASE_URL = "http://127.0.0.1:5000"


def base_url_and_source() -> tuple[str, str]:
    """The absolute prefix of verification links, and where it comes from: the 二维码验证网址前缀
    setting, else APP_BASE_URL, else the address this request came to, else the loopback fallback."""
    if configured := (get("public_base_url") or "").strip():
        return configured.rstrip("/"), "setting"
    if configured := (current_app.config.get("APP_BASE_URL") or "").strip():
        return configured.rstrip("/"), "config"
    if has_request_context():
        return request.host_url.rstrip("/"), "request"
    return FALLBACK_BASE_URL, "fallback"


def base_url() -> str:
    return base_url_and_source()[0]


def is_loopback(url: str) -> bool:
    """True when `url` names this machine only (127.0.0.0/8, ::1, localhost, 0.0.0.0): a QR code
    pointing there cannot be opened from anyone's phone."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def verify_url(kind: str, row_id: int) -> str:
    return f"{base_url()}/verify/{make_token(kind, row_id)}"
