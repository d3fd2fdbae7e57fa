"""Login lock-out per (user name, client address).

Failed logins are counted for the name typed AND the address they come from, so someone who
knows the admin's name can lock that name only for their own address — the admin at the office
still gets in. Names that do not exist are counted the same way (the answers do not reveal
which names exist). Rows are small and pruned after a day; POST /login is also rate-limited
per address (LOGIN_RATE_LIMIT), which bounds how fast rows can be made.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select

from app.extensions import db
from app.models.auth import LoginThrottle, hash_password

_DUMMY_HASHES: dict[str, str] = {}


def dummy_hash() -> str:
    """A real password hash (same method and cost as users'), checked when the name is unknown
    so that answering takes as long as for a known name."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = hash_password("not-a-password-of-anyone")
    return _DUMMY_HASHES[method]


def _key(username: str, address: str) -> tuple[str, str]:
    return username.strip().lower()[:100], (address or "")[:64]


def _row(username: str, address: str) -> LoginThrottle | None:
    name, addr = _key(username, address)
    return db.session.scalar(select(LoginThrottle).where(LoginThrottle.username == name,
                                                         LoginThrottle.address == addr))


def locked_until(username: str, address: str, now: datetime) -> datetime | None:
    row = _row(username, address)
    if row is not None and row.locked_until and row.locked_until > now:
        return row.locked_until
    return None


def failed(username: str, address: str, now: datetime, *, max_failures: int,
           lock_minutes: int) -> datetime | None:
    """Count one failure; return the lock's end when this failure locks the pair."""
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.updated_at < now - timedelta(days=1)))
    row = _row(username, address)
    if row is None:
        name, addr = _key(username, address)
        row = LoginThrottle(username=name, address=addr, failures=0)
        db.session.add(row)
    row.failures = (row.failures or 0) + 1
    row.updated_at = now
    if row.failures >= max_failures:
        row.failures = 0
        row.locked_until = now + timedelta(minutes=lock_minutes)
        return row.locked_until
    return None


def succeeded(username: str, address: str) -> None:
    name, addr = _key(username, address)
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.username == name,
                                                   LoginThrottle.address == addr))


def clear(username: str) -> None:
    """An admin's 解锁: every address may try again."""
    name, _ = _key(username, "")
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.username == name))
