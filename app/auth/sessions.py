"""Sessions kept on the server, one row per signed-in browser (table `user_session`).

The (signed) session cookie holds a random token; the row's id is its SHA-256. A session works
only while its row is open, so:

- logout ends this browser's session only (another PC of the same, perhaps shared, account
  stays signed in), and any copy of this cookie stops working with it;
- "退出所有设备" (the account page), a password change, an admin's reset or "全部下线" and
  deactivation end every session of the user (`User.end_sessions`);
- the account page lists the open sessions (when signed in, last seen, address, browser) and
  can end any one of them;
- a session ends after the idle timeout (setting `session_idle_minutes`, default 2 hours) and,
  however busy, `SESSION_ABSOLUTE_HOURS` (default 12) after sign-in. The last-seen time is
  written at most once a minute, not on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from flask import current_app, g, request, session
from sqlalchemy import select, update

from app.extensions import db
from app.models.auth import User, UserSession
from app.models_base import utcnow
from app.settings.services import get
from app.uow import commit

TOKEN = "_sid"
SEEN_RESOLUTION = 60  # seconds: the last-seen time is rewritten at most once a minute

# Small figures about the signed-in user that features read on every page (the navbar's unread
# messages): name -> a function of the User entity giving a correlated scalar subquery. They are
# loaded by the user loader's one statement instead of one statement each; `user_figure(name)`
# reads them (None when the user was not loaded by a browser session, e.g. an API token).
USER_FIGURES: dict = {}


def user_figure(name: str):
    return g.get("_user_figures", {}).get(name)


def now() -> datetime:
    return utcnow()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def current_id() -> str | None:
    """The id (token hash) of this browser's session, or None."""
    token = session.get(TOKEN)
    return _hash(token) if isinstance(token, str) and token else None


def load_user(user_id: str):
    """Flask-Login's user loader: the user only while this browser's session row is open."""
    sid = current_id()
    if not (user_id or "").isdigit() or sid is None:
        return None  # a cookie from before server-side sessions, or a forged one
    names = list(USER_FIGURES)
    found = db.session.execute(  # one statement: the session row, its user and the user's figures
        select(UserSession, User, *[USER_FIGURES[n](User).label(n) for n in names])
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.id == sid, UserSession.user_id == int(user_id),
               UserSession.ended_at.is_(None), User.active.is_(True))).first()
    if found is None:
        return None
    row, user, *figures = found
    g._user_session = row
    g._user_figures = dict(zip(names, figures, strict=True))
    return user


def start(user) -> None:
    """Call right after login_user: open this browser's session row (and commit it)."""
    token = secrets.token_urlsafe(32)
    t = now()
    agent = request.user_agent.string if request else ""
    db.session.add(UserSession(id=_hash(token), user_id=user.id, created_at=t, last_seen_at=t,
                               ip=(request.remote_addr or "")[:45] if request else "",
                               user_agent=(agent or "")[:200]))
    commit()
    session[TOKEN] = token


def end(user_id: int, sid: str) -> bool:
    """End one session of `user_id`; False when it is not theirs or already over (flushes)."""
    result = db.session.execute(update(UserSession)
                                .where(UserSession.id == sid, UserSession.user_id == user_id,
                                       UserSession.ended_at.is_(None))
                                .values(ended_at=now()))
    return bool(result.rowcount)


def end_current() -> None:
    """Logout: end this browser's session (the caller commits)."""
    sid = current_id()
    row = g.pop("_user_session", None)
    if sid is not None and row is not None:
        end(row.user_id, sid)
    session.pop(TOKEN, None)


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
             ("Chromium/", "Chromium"), ("Safari/", "Safari"), ("MSIE", "IE"), ("Trident/", "IE"))
_SYSTEMS = (("Windows", "Windows"), ("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
            ("Mac OS X", "macOS"), ("UOS", "统信 UOS"), ("Kylin", "麒麟"), ("Linux", "Linux"))


def browser(agent: str | None) -> str:
    """A short name for a User-Agent string: 'Chrome（Windows）'."""
    agent = agent or ""
    name = next((label for key, label in _BROWSERS if key in agent), "")
    system = next((label for key, label in _SYSTEMS if key in agent), "")
    if not name and not system:
        return "未知" if not agent else agent[:40]
    return f"{name or '浏览器'}（{system}）" if system else name


def open_sessions(user_id: int):
    """The user's open sessions, most recently seen first."""
    return db.session.scalars(select(UserSession)
                              .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
                              .order_by(UserSession.last_seen_at.desc())).all()


def expired() -> str | None:
    """Why the current signed-in session is over (a message, the session is then ended), or None;
    refreshes last-seen at most once a minute."""
    row = g.get("_user_session")
    if row is None:
        return "登录已失效，请重新登录"
    t = now()
    hours = current_app.config["SESSION_ABSOLUTE_HOURS"]
    idle = get("session_idle_minutes")
    why = None
    if (t - row.created_at).total_seconds() > hours * 3600:
        why = f"登录已超过 {hours:g} 小时，请重新登录"
    elif (t - row.last_seen_at).total_seconds() > idle * 60:
        why = f"长时间未操作（超过 {idle} 分钟），已自动退出，请重新登录"
    if why:
        end_current()
        commit()
        return why
    if (t - row.last_seen_at).total_seconds() >= SEEN_RESOLUTION:
        row.last_seen_at = t
        commit()
    return None
