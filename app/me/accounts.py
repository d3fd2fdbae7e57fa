"""Officer accounts: invitation codes, activation, and the end of an account (docs/domain.md,
执法人员自助). Services: flush, never commit; raise DomainError.

- `invite(officers)`: a one-time code per officer (only its SHA-256 is stored), valid
  INVITE_DAYS days. Inviting again ends the officer's earlier codes and their account (every
  session of it): the new code sets a new password.
- `activate(id_number, code, password)`: the code's officer, whose ID number is given, gets an
  account (user name: the ID number; role "officer"; bound by `User.officer_id`) with that
  password (the product's password rules); the code is spent.
- An officer who leaves (employment status other than 在职) or is deleted loses the account at
  once (a flush hook), sessions included.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import event, func, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from app.audit.services import current_actor, record
from app.auth.passwords import problem
from app.errors import DomainError
from app.extensions import db
from app.idnumber import mask
from app.labels import OFFICER_ROLE
from app.models.auth import User, UserSession
from app.models.me import OfficerInvite
from app.models.officers import Officer
from app.models_base import utcnow
from app.scope import UNSCOPED

INVITE_DAYS = 14
# No 0/O, 1/I/L: a code read off a slip is typed without guessing.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
BAD_CODE = "身份证号或激活码不正确，或激活码已使用、已过期"


def _normal(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def _hash(code: str) -> str:
    return hashlib.sha256(_normal(code).encode()).hexdigest()


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def account_of(officer_id: int) -> User | None:
    return db.session.scalar(select(User).where(User.officer_id == officer_id))


def end_account(officer: Officer, why: str) -> bool:
    """Deactivate the officer's account and end every session of it; True when there was an open one."""
    user = account_of(officer.id)
    if user is None or not user.active:
        return False
    user.active = False
    user.end_sessions()
    record("update", "user", user.id, f"停用执法人员账号：{officer.name}（{why}）", {"active": [True, False]})
    return True


def invite(officers: list[Officer]) -> list[tuple[Officer, str]]:
    """A fresh code for each officer (an earlier code and account of theirs end); audited."""
    now = utcnow()
    actor = current_actor()[0]
    out = []
    for officer in officers:
        if officer.employment_status != "active":
            raise DomainError(f"{officer.name} 不在职，不能邀请开通账号")
    ids = [o.id for o in officers]
    if ids:
        db.session.execute(update(OfficerInvite)
                           .where(OfficerInvite.officer_id.in_(ids), OfficerInvite.used_at.is_(None),
                                  OfficerInvite.ended_at.is_(None))
                           .values(ended_at=now).execution_options(synchronize_session=False))
    for officer in officers:
        end_account(officer, "重新邀请")
        code = new_code()
        db.session.add(OfficerInvite(officer_id=officer.id, code_hash=_hash(code),
                                     expires_at=now + timedelta(days=INVITE_DAYS), created_by=actor))
        record("create", "officer", officer.id, f"邀请开通执法人员账号：{officer.name}",
               {"invite": [None, f"{INVITE_DAYS}天内有效"]})
        out.append((officer, code))
    db.session.flush()
    return out


def activate(id_number: str, code: str, password: str, confirm: str) -> User:
    """The account of the officer whose code this is. Raises DomainError (fields: id_number, code,
    password, confirm)."""
    idn = (id_number or "").strip().upper()
    if not idn:
        raise DomainError("请填写身份证号", fields={"id_number": "请填写身份证号"})
    if not _normal(code):
        raise DomainError("请填写激活码", fields={"code": "请填写激活码"})
    now = utcnow()
    found = db.session.execute(
        select(OfficerInvite, Officer).join(Officer, Officer.id == OfficerInvite.officer_id)
        .where(OfficerInvite.code_hash == _hash(code), Officer.id_number == idn)
        .execution_options(**UNSCOPED)).first()
    if found is None or found[0].used_at is not None or found[0].ended_at is not None \
            or found[0].expires_at <= now or found[1].employment_status != "active":
        raise DomainError(BAD_CODE, fields={"code": BAD_CODE})
    inv, officer = found
    if message := problem(password, idn):
        raise DomainError(message, fields={"password": message})
    if password != confirm:
        raise DomainError("两次输入的密码不一致", fields={"confirm": "两次输入的密码不一致"})
    user = account_of(officer.id)
    clash = db.session.scalar(select(User).where(func.lower(User.username) == idn.lower(),
                                                 User.officer_id.is_distinct_from(officer.id)))
    if clash is not None:
        raise DomainError("该身份证号已被其他账号用作用户名，请联系管理员")
    if user is None:
        user = User(username=idn, role=OFFICER_ROLE, officer_id=officer.id, display_name=officer.name)
        db.session.add(user)
    user.username, user.role, user.display_name = idn, OFFICER_ROLE, officer.name
    user.unit_id = None  # not a staff scope: the /me pages read the officer (app/me/routes.py)
    user.active = True
    user.failed_logins, user.locked_until = 0, None
    user.set_password(password)  # ends any session of an earlier password
    inv.used_at = now
    db.session.flush()
    record("create", "user", user.id, f"执法人员开通账号：{officer.name}（{mask(idn)}）",
           {"role": [None, OFFICER_ROLE]}, actor=f"执法人员:{mask(idn)}", user_id=user.id)
    return user


@event.listens_for(Session, "before_flush")
def _end_accounts_of_leavers(session, _ctx, _instances) -> None:
    """An officer who is no longer 在职, or is deleted, keeps no account: it is deactivated and its
    sessions end in the same transaction (set-wise: one UPDATE each)."""
    gone: list[int] = []
    for obj in session.dirty:
        if isinstance(obj, Officer) and obj.id is not None and obj.employment_status != "active":
            if sa_inspect(obj).attrs.employment_status.history.has_changes():
                gone.append(obj.id)
    gone += [obj.id for obj in session.deleted if isinstance(obj, Officer) and obj.id is not None]
    if not gone:
        return
    users = select(User.id).where(User.officer_id.in_(gone), User.active.is_(True))
    ids = list(session.execute(users).scalars())
    if not ids:
        return
    session.execute(update(UserSession).where(UserSession.user_id.in_(ids), UserSession.ended_at.is_(None))
                    .values(ended_at=utcnow()).execution_options(synchronize_session=False))
    session.execute(update(User).where(User.id.in_(ids)).values(active=False)
                    .execution_options(synchronize_session=False))
    for uid in ids:
        record("update", "user", uid, "执法人员离职或删除，其账号已停用", {"active": [True, False]})
