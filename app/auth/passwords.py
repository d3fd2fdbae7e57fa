"""The password policy, in one place: forms, the user service and the CLI all ask `problem()`."""

from __future__ import annotations

from app.auth.common_passwords import COMMON_PASSWORDS

MIN_LENGTH = 8


def _straight_run(pw: str) -> bool:
    """12345678, abcdefgh, 87654321: each character one step from the last."""
    steps = {ord(b) - ord(a) for a, b in zip(pw, pw[1:], strict=False)}
    return steps in ({1}, {-1})


def problem(password: str, username: str | None = None) -> str | None:
    """Why `password` is refused (a message a person can act on), or None when it is fine."""
    pw = password or ""
    if len(pw) < MIN_LENGTH:
        return f"密码至少{MIN_LENGTH}位"
    if len(set(pw)) == 1:
        return "密码不能全是相同字符"
    if pw.lower() in COMMON_PASSWORDS:
        return "这个密码太常见，很容易被猜中，请换一个"
    if _straight_run(pw.lower()):
        return "密码不能是连续的字符（如 12345678、abcdefgh）"
    if len(set(pw)) <= 2:
        return "密码只用了两种字符，太容易被猜中"
    if username and pw.lower() == username.strip().lower():
        return "密码不能与用户名相同"
    return None
