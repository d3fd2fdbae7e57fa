"""Who is calling /api/v1: access control for the API's endpoints (called by check_access).

- `Authorization: Bearer <token>`: the token's user, with their role and scope, for this request
  only (no session cookie is written). Such a request carries no cookie credentials, so a
  cross-site form cannot forge it: token requests skip the CSRF check.
- no Authorization header but a signed-in browser session: that user, and writes keep CSRF.
- neither, or a bad / revoked token, or an inactive user: 401 JSON, never a redirect to the login
  page. A role too low for the method: 403 JSON.
"""

from __future__ import annotations

from flask import current_app, g, request
from flask_login import current_user

from app.api.errors import ApiError, json_error
from app.auth import access, sessions, tokens
from app.extensions import csrf, db
from app.roles import ROLE_ORDER, min_role_for
from app.uow import commit

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer …` header; "" for any other Authorization header."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _act_as(user) -> None:
    """Make `user` current_user for this request only (what flask_login.login_user does, minus
    the session cookie)."""
    current_app.login_manager._update_request_context_with_user(user)


def check_api_access(endpoint: str):
    token = bearer_token()
    if token is not None:
        found = tokens.authenticate(token)
        if found is None:
            db.session.rollback()
            return json_error(401, "invalid_token", "API 令牌无效或已撤销")
        commit()  # the last-use time, when it moved
        g.api_token_id = found[0].id
        _act_as(found[1])
    elif current_user.is_authenticated:
        why = sessions.expired()
        if why:
            return json_error(401, "session_expired", why)
        if request.method not in SAFE_METHODS:
            csrf.protect()  # the blueprint is exempt from the app-wide check: cookie writes still need it
    else:
        return json_error(401)
    needed = min_role_for(endpoint, request.method)
    if ROLE_ORDER.get(current_user.role, -1) < ROLE_ORDER[needed]:
        return json_error(403)
    return None


def rate_key() -> str:
    """Flask-Limiter's key: the token (or the signed-in user) rather than the address."""
    token_id = g.get("api_token_id")
    if token_id is not None:
        return f"api-token:{token_id}"
    if current_user.is_authenticated:
        return f"api-user:{current_user.id}"
    return f"api-addr:{request.remote_addr}"


def refuse_id_search(status: int, note: str, api_message: str | None = None) -> None:
    """Why an ID number was not searched: the API writes no session (so no flash), the refusal
    is its JSON error."""
    raise ApiError(status, "id_search_refused", api_message or note)


access.register_gate("api", check_api_access, refuse_id_search)  # every /api/v1 request: this module
