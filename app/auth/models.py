"""Users of the application."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models_base import TimestampMixin


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "user_account"
    username: Mapped[str] = mapped_column(String(50), unique=True)
    display_name: Mapped[str] = mapped_column(String(50), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(10), default="viewer")
    # The unit whose subtree this user works in (app/scope.py); None: the whole organisation.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    # Part of every session of this user (get_id): changing it ends them all, on every browser.
    session_nonce: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(8),
                                               server_default="")

    @property
    def is_active(self) -> bool:  # Flask-Login
        return bool(self.active)

    def get_id(self) -> str:  # Flask-Login: what the session cookie holds
        return f"{self.id}:{self.session_nonce}"

    def end_sessions(self) -> None:
        """Sign this user out everywhere: every session cookie issued so far stops working."""
        self.session_nonce = secrets.token_hex(8)

    def set_password(self, password: str) -> None:
        """A new password ends every session opened with the old one."""
        self.password_hash = generate_password_hash(password)
        self.end_sessions()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def can(self, role: str) -> bool:
        order = {"viewer": 0, "clerk": 1, "admin": 2}
        return order.get(self.role, -1) >= order[role]
