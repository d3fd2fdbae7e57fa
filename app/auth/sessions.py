"""Sessions that end on the server, not only in the browser.

The session cookie is signed but kept by the browser, so a copy of it would work for as long as
the cookie says. Two things make it revocable:

- the cookie holds "user id:session nonce" (`User.get_id`); logout, a password change,
  deactivation and an admin's "sign out everywhere" give the user a new nonce, so every cookie
  issued before stops working at its next request, wherever it was copied to;
- the cookie also holds when the user signed in and when they were last seen: a session ends
  after the idle timeout (setting `session_idle_minutes`, default 2 hours) and, however busy,
  after `SESSION_ABSOLUTE_HOURS` (default 12).
"""

from __future__ import annotations

import hmac
from datetime import datetime

from flask import current_app, session

from app.extensions import db
from app.models_base import utcnow

LOGIN_AT = "_login_at"
SEEN_AT = "_seen_at"
SEEN_RESOLUTION = 60  # seconds: the last-seen time is rewritten at most once a minute


def now() -> datetime:
    return utcnow()


def load_user(user_id: str):
    """Flask-Login's user loader: the user only while the nonce in the cookie is still theirs."""
    from app.auth.models import User

    uid, _, nonce = (user_id or "").partition(":")
    if not uid.isdigit() or not nonce:
        return None  # a cookie from before nonces existed, or a forged one
    user = db.session.get(User, int(uid))
    if user is None or not hmac.compare_digest(user.session_nonce or "", nonce):
        return None
    return user


def start() -> None:
    """Call right after login_user: the clocks of the new session."""
    t = now().timestamp()
    session[LOGIN_AT] = t
    session[SEEN_AT] = t


def expired() -> str | None:
    """Why the current signed-in session is over (a message), or None; refreshes last-seen."""
    from app.settings.services import get

    t = now().timestamp()
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if not isinstance(login_at, int | float) or not isinstance(seen_at, int | float):
        return "登录已失效，请重新登录"
    if t - login_at > current_app.config["SESSION_ABSOLUTE_HOURS"] * 3600:
        return f"登录已超过 {current_app.config['SESSION_ABSOLUTE_HOURS']} 小时，请重新登录"
    idle = get("session_idle_minutes")
    if t - seen_at > idle * 60:
        return f"长时间未操作（超过 {idle} 分钟），已自动退出，请重新登录"
    if t - seen_at >= SEEN_RESOLUTION:
        session[SEEN_AT] = t
    return None
