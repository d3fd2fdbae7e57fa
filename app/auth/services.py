"""Users, passwords, lock-out."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from app import scope
from app.audit.services import record, refresh_subjects
from app.auth import throttle
from app.auth.passwords import problem
from app.extensions import db
from app.labels import ROLES
from app.models.auth import User
from app.models.officers import Unit
from app.models_base import utcnow


class UserError(ValueError):
    pass


def unit_named(name: str):
    """The unit called `name` (the whole tree: the CLI names any unit)."""
    unit = db.session.scalar(select(Unit).where(Unit.name == (name or "").strip())
                             .execution_options(scope_all=True))
    if unit is None:
        raise UserError(f"没有单位“{name}”")
    return unit


def check_scope_grant(unit_id: int | None, actor=None) -> None:
    """A scoped admin gives no one a scope wider than their own: the unit must lie in the actor's
    subtree (the whole organisation — None — only by a user of the whole organisation)."""
    if not scope.covers(unit_id, actor):
        raise UserError("只能把用户分配到您管辖范围内的单位")


def set_unit(user: User, unit_id: int | None, actor=None) -> None:
    """Give `user` the subtree of `unit_id` (None: the whole organisation); audited; the user's
    sessions end so the new scope applies at once."""
    check_scope_grant(unit_id, actor)
    before = user.unit_id
    if before == unit_id:
        return
    names = {}
    for uid in (before, unit_id):
        if uid is not None:
            names[uid] = db.session.scalar(select(Unit.name).where(Unit.id == uid)
                                           .execution_options(scope_all=True))
    user.unit_id = unit_id
    user.end_sessions()
    label = names.get(unit_id) or "全部单位"
    record("update", "user", user.id, f"设置用户 {user.username} 的管辖范围：{label}",
           {"unit": [names.get(before) or "全部单位", label]})
    db.session.flush()
    refresh_subjects(db.session, user_ids={user.id})  # the rows about the user follow them


def create_user(username: str, role: str, password: str | None = None, display_name: str = "",
                unit_id: int | None = None, actor=None) -> tuple[User, str]:
    """Create a user (working in the subtree of `unit_id`; None: the whole organisation); returns it
    with the password (generated when none is given). `actor`: the admin creating it (default: the
    signed-in user), who cannot give a wider scope than their own."""
    check_scope_grant(unit_id, actor)
    username = username.strip()
    if not username:
        raise UserError("用户名不能为空")
    if role not in ROLES:
        raise UserError(f"未知角色“{role}”，可选：{', '.join(ROLES)}")
    if db.session.scalar(select(User).where(func.lower(User.username) == username.lower())):
        raise UserError(f"用户名“{username}”已存在")
    password = password or secrets.token_urlsafe(12)
    if message := problem(password, username):
        raise UserError(message)
    user = User(username=username, role=role, display_name=display_name or username, unit_id=unit_id)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record("create", "user", user.id, f"新增用户 {username}（{ROLES[role]}）", {"role": [None, role]})
    return user, password


def reset_password(username: str, password: str) -> User:
    """A new password for `username` (a lost admin password, from the CLI): unlocks the account
    and ends its sessions."""
    user = db.session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    if user is None:
        raise UserError(f"没有用户“{username}”")
    if message := problem(password, user.username):
        raise UserError(message)
    user.set_password(password)  # ends every session of the old password
    user.failed_logins = 0
    user.locked_until = None
    record("update", "user", user.id, f"重设用户 {user.username} 的密码", {"password": ["***", "***"]})
    db.session.flush()
    return user


def authenticate(username: str, password: str, *, now: datetime | None = None,
                 max_failures: int = 5, lock_minutes: int = 15,
                 address: str = "") -> tuple[User | None, str | None]:
    """Return (user, None) on success, or (None, message). Records the attempt in the audit log.

    Lock-out is per (name, client address) — see app.auth.throttle; a name that does not exist
    is hashed against a dummy hash and locked the same way, so neither the time taken nor the
    answer tells whether it exists."""
    now = now or utcnow()
    user = db.session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    until = throttle.locked_until(username, address, now)
    if until is not None:
        record("login_failed", "user", user.id if user else None,
               f"账号已锁定（来自该地址），拒绝登录：{username[:50]}",
               actor=username[:100] or "anonymous", user_id=user.id if user else None)
        minutes = int((until - now).total_seconds() // 60) + 1
        return None, f"登录失败次数过多，账号已锁定，请 {minutes} 分钟后再试或联系管理员"
    good = check_password_hash(user.password_hash if user else throttle.dummy_hash(), password)
    if user is None or not user.active or not good:
        locked = throttle.failed(username, address, now, max_failures=max_failures,
                                 lock_minutes=lock_minutes)
        if user is not None and locked:
            user.locked_until = locked  # shown on the users page; the lock itself is per address
        record("login_failed", "user", user.id if user else None, f"登录失败：{username[:50]}",
               actor=username[:100] or "anonymous", user_id=user.id if user else None)
        if locked:
            return None, f"登录失败次数过多，账号已锁定 {lock_minutes} 分钟"
        return None, "用户名或密码错误"
    throttle.succeeded(username, address)
    user.failed_logins = 0
    if user.locked_until and user.locked_until <= now:
        user.locked_until = None
    user.last_login_at = now
    record("login", "user", user.id, f"登录：{user.username}", actor=user.username, user_id=user.id)
    return user, None


def ensure_admin() -> str | None:
    """On an empty user table create `admin` and return its generated password (shown once)."""
    if db.session.scalar(select(func.count()).select_from(User)):
        return None
    _user, password = create_user("admin", "admin", display_name="系统管理员")
    return password
