"""Users of the application."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, has_app_context
from flask_login import AnonymousUserMixin, UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint, update
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models_base import TimestampMixin, utcnow


def hash_password(password: str) -> str:
    """The stored hash of a password: scrypt (Config.PASSWORD_HASH_METHOD); only the test
    configuration picks a cheaper method, so that hundreds of logins do not cost minutes."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"
    return generate_password_hash(password, method=method)


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "user_account"
    username: Mapped[str] = mapped_column(String(50), unique=True)
    display_name: Mapped[str] = mapped_column(String(50), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(10), default="viewer")
    # The unit whose subtree this user works in (app/scope.py); None: the whole organisation.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    # An officer's own account (role "officer", app/me): the one officer it belongs to.
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id", ondelete="SET NULL"), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return bool(self.active)

    def end_sessions(self) -> None:
        """Sign this user out everywhere: every session of theirs (app/auth/sessions.py) ends,
        on every browser, at its next request."""
        if self.id is not None:
            db.session.execute(update(UserSession)
                               .where(UserSession.user_id == self.id, UserSession.ended_at.is_(None))
                               .values(ended_at=utcnow()))

    def set_password(self, password: str) -> None:
        """A new password ends every session opened with the old one."""
        self.password_hash = hash_password(password)
        self.end_sessions()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def can(self, role: str) -> bool:
        """Whether this user's role reaches `role` (templates ask `current_user.can('clerk')`)."""
        order = {"officer": -1, "viewer": 0, "clerk": 1, "admin": 2}
        return order.get(self.role, -1) >= order[role]


class UserSession(db.Model):
    """One signed-in browser. `id` is the SHA-256 of the random token the browser's (signed)
    session cookie holds: the table alone does not let anyone take a session over."""

    __tablename__ = "user_session"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ip: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)


class Anonymous(AnonymousUserMixin):
    """Nobody signed in: templates may still ask `current_user.can(...)`."""

    def can(self, role: str) -> bool:
        return False


# Login lock-out rows per (user name, client address); the rules are in app/auth/throttle.py.
class LoginThrottle(db.Model):
    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("username", "address"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100))  # as typed, lower-cased
    address: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
