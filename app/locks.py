"""Database-level named locks, for jobs that must never run twice at once (reminders).

Works the same on SQLite and PostgreSQL, across processes and app servers: a lock is one row
in `run_lock` whose primary key is the lock's name, so only one INSERT can win. The holder
refreshes `heartbeat_at` while it works; a row whose heartbeat is older than `stale_after` (a
process killed with -9, a server that died) is taken over by the next run, so a crash never
blocks the job for longer than that.

Each statement runs on its own connection and commits at once, independent of db.session.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from datetime import datetime, timedelta

from sqlalchemy import DateTime, String, delete, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models_base import utcnow


class RunLock(db.Model):
    __tablename__ = "run_lock"
    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    acquired_at: Mapped[datetime] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime)


class LockBusy(Exception):
    """Someone else holds the lock; the message says who and since when."""


def new_holder() -> str:
    return f"{socket.gethostname()[:50]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def try_acquire(name: str, holder: str, *, stale_after: timedelta) -> bool:
    table = RunLock.__table__
    now = utcnow()
    with db.engine.begin() as conn:
        conn.execute(delete(table).where(table.c.name == name,
                                         table.c.heartbeat_at < now - stale_after))
    try:
        with db.engine.begin() as conn:
            conn.execute(insert(table).values(name=name, holder=holder, acquired_at=now,
                                              heartbeat_at=now))
    except IntegrityError:
        return False
    except OperationalError:  # SQLite busy for longer than its timeout: someone else is writing
        return False
    return True


def holder_info(name: str) -> str:
    table = RunLock.__table__
    with db.engine.connect() as conn:
        row = conn.execute(select(table.c.holder, table.c.acquired_at)
                           .where(table.c.name == name)).first()
    if row is None:
        return ""
    return f"{row.holder}，开始于 {row.acquired_at:%Y-%m-%d %H:%M:%S} UTC"


def acquire(name: str, holder: str, *, stale_after: timedelta, wait: float,
            poll: float = 0.5) -> None:
    """Take the lock, waiting up to `wait` seconds for the current holder; raise LockBusy."""
    deadline = time.monotonic() + max(wait, 0)
    while not try_acquire(name, holder, stale_after=stale_after):
        if time.monotonic() >= deadline:
            raise LockBusy(holder_info(name) or "未知")
        time.sleep(poll)


def heartbeat(name: str, holder: str) -> bool:
    """Refresh the lock; False when it is no longer ours (taken over as stale)."""
    table = RunLock.__table__
    with db.engine.begin() as conn:
        result = conn.execute(update(table).where(table.c.name == name, table.c.holder == holder)
                              .values(heartbeat_at=utcnow()))
    return result.rowcount == 1


def release(name: str, holder: str) -> None:
    table = RunLock.__table__
    with db.engine.begin() as conn:
        conn.execute(delete(table).where(table.c.name == name, table.c.holder == holder))
