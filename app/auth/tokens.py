"""Issuing, checking and revoking API tokens (services: flush, never commit).

A token is 43 URL-safe characters (secrets.token_urlsafe(32), 256 bits) shown once; the table
keeps its SHA-256 digest, so a copy of the database gives no working token. A token acts as its
user: role, unit scope, active flag. `last_used_at` is rewritten at most once a minute.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from app.audit.services import record
from app.errors import DomainError
from app.extensions import db
from app.models.api import ApiToken
from app.models.auth import User
from app.models_base import utcnow

TOUCH_EVERY = timedelta(minutes=1)
LABEL_MAX = 50


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(user: User, label: str = "") -> tuple[ApiToken, str]:
    """A new token for `user`: (row, the token itself — show it once, it is not kept)."""
    label = (label or "").strip() or utcnow().strftime("令牌 %Y-%m-%d %H:%M")
    if len(label) > LABEL_MAX:
        raise DomainError(f"令牌名称最多 {LABEL_MAX} 个字")
    taken = db.session.scalar(select(ApiToken.id).where(
        ApiToken.user_id == user.id, ApiToken.label == label, ApiToken.revoked_at.is_(None)))
    if taken is not None:
        raise DomainError(f"用户 {user.username} 已有名为“{label}”的有效令牌")
    token = secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, label=label, token_hash=digest(token), created_at=utcnow())
    db.session.add(row)
    db.session.flush()
    record("create", "api_token", row.id, f"新建 API 令牌：{user.username}“{label}”",
           {"user": [None, user.username], "label": [None, label]})
    return row, token


def revoke(row: ApiToken) -> None:
    """Stop the token working from its next request (the row stays, for the record)."""
    if row.revoked_at is not None:
        return
    row.revoked_at = utcnow()
    db.session.flush()
    record("update", "api_token", row.id, f"撤销 API 令牌：{row.user.username}“{row.label}”",
           {"revoked_at": [None, row.revoked_at.isoformat(timespec="seconds")]})


def active_by_label(user: User, label: str) -> ApiToken | None:
    return db.session.scalar(select(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.label == label.strip(), ApiToken.revoked_at.is_(None)))


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, active first, newest first."""
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(),
                                             ApiToken.id.desc())))


def authenticate(token: str) -> tuple[ApiToken, User] | None:
    """The active token and its active user, or None; notes the use (at most once a minute)."""
    if not token or len(token) > 200:
        return None
    row = db.session.execute(
        select(ApiToken, User).join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == digest(token), ApiToken.revoked_at.is_(None))).first()
    if row is None or not row.User.is_active:
        return None
    now = utcnow()
    if row.ApiToken.last_used_at is None or now - row.ApiToken.last_used_at >= TOUCH_EVERY:
        row.ApiToken.last_used_at = now
        db.session.flush()
    return row.ApiToken, row.User
