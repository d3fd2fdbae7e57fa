"""Server-side access control for every route.

Every request passes `check_access`: anonymous users go to the login page (except the public
endpoints), and each view has a minimum role — by default viewer for GET/HEAD and clerk for
anything that writes; views raise it with @require_role("admin"). A view that writes only the
signed-in user's own data (logout, their own password) lowers the bar for writes with
@allow_role("viewer").

An officer's own account (role "officer", app/me) is not staff: it reaches only OFFICER_ENDPOINTS
(its /me pages, logout) and the public endpoints; every other endpoint answers 404 for it, as if
it did not exist (`officer_may_reach`, applied once here).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import current_user, logout_user

from app.uow import commit

PUBLIC_ENDPOINTS = {"auth.login", "static", "bootstrap.static", "verify.verify", "main.favicon",
                    # an officer's account activation and the live card's check (app/me)
                    "me.activate", "me.verify_card", "me.verify_card_photo", "me.manifest",
                    "public.officers", "public.officers_xlsx", "public.officers_pdf",
                    # the exam room: candidates have no staff account (app/online/api.py)
                    "online.exam_page", "online.api_login", "online.api_paper", "online.api_answer",
                    "online.api_submit",
                    "jobs.healthz",
                    # the token API's documentation (app/api/docs.py)
                    "api_docs.openapi_json", "api_docs.docs", "api_docs.asset"}
ROLE_ORDER = {"officer": -1, "viewer": 0, "clerk": 1, "admin": 2}
OFFICER = "officer"
# What an officer's own account may reach besides the public endpoints: its /me pages and logout.
OFFICER_ENDPOINTS = {"auth.logout"}
OFFICER_PREFIX = "me."


def officer_may_reach(endpoint: str) -> bool:
    return endpoint.startswith(OFFICER_PREFIX) or endpoint in OFFICER_ENDPOINTS


def is_officer_account(user=None) -> bool:
    user = current_user if user is None else user
    return bool(user and user.is_authenticated and user.role == OFFICER)


def require_role(role: str) -> Callable:
    def deco(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            return view(*args, **kwargs)

        wrapped._min_role = role  # type: ignore[attr-defined]
        return wrapped

    return deco


def allow_role(role: str) -> Callable:
    """Let `role` use this view with every method, writes included (the clerk default for
    writes does not apply). Only for views that act on the signed-in user's own account."""

    def deco(view: Callable) -> Callable:
        view._allow_role = role  # type: ignore[attr-defined]
        return view

    return deco


def min_role_for(endpoint: str, method: str) -> str:
    view = current_app.view_functions.get(endpoint)
    declared = getattr(view, "_min_role", None)
    default = "viewer" if method in ("GET", "HEAD", "OPTIONS") else "clerk"
    allowed = getattr(view, "_allow_role", None)
    if allowed is not None:
        default = allowed
    if declared is None:
        return default
    return max(declared, default, key=ROLE_ORDER.__getitem__)


def sees_full_ids() -> bool:
    """Whether the signed-in user may see and search whole ID numbers (admins only, docs/domain.md 身份证号)."""
    return bool(current_user and current_user.is_authenticated and current_user.role == "admin")


def sees_ages() -> bool:
    """Whether the signed-in user may see an officer's age. Not a viewer: the age narrows the
    masked birth date of the ID number to a year, and with the visible ends and a yes/no search
    that rebuilt whole numbers."""
    return bool(current_user and current_user.is_authenticated and current_user.role != "viewer")


VIEWER_ID_SEARCH = "查看员不能按身份证号搜索，已忽略输入的身份证号"


def id_search_allowed(number: str) -> bool:
    """Whether this request may look up the whole ID number `number` (a yes/no answer about a
    masked number). A viewer may not (the input is ignored, with a note). A clerk may, up to the
    setting `id_search_per_hour` times an hour (Flask-Limiter's storage, per user), and each
    lookup is audited 按身份证号搜索. Commands on the server (no request) and a background job
    replaying a request that was already counted may. Decided once per number and request."""
    from flask import after_this_request, g, has_request_context

    if not has_request_context() or not current_user or not current_user.is_authenticated:
        return True
    memo = g.setdefault("id_searches", {})
    if number in memo:
        return memo[number]
    from app.jobs.services import in_job

    allowed = True
    if current_user.role == "viewer":
        allowed = False
        _refuse(VIEWER_ID_SEARCH, 403, "查看员不能按身份证号搜索")
    elif not in_job():
        allowed = _within_id_search_limit()
        if allowed:
            _audit_id_search(number, after_this_request)
    memo[number] = allowed
    return allowed


def _refuse(note: str, status: int, api_message: str | None = None) -> None:
    """A page notes why the ID number was not searched (and shows the rest); the token API, which
    writes no session (so no flash), answers the refusal as its JSON error instead."""
    if request.blueprint == "api":
        from app.api.errors import ApiError

        raise ApiError(status, "id_search_refused", api_message or note)
    flash(note, "warning")


def _within_id_search_limit() -> bool:
    from limits import RateLimitItemPerHour

    from app.extensions import limiter
    from app.settings.services import get

    per_hour = get("id_search_per_hour")
    strategy = getattr(limiter, "limiter", None)
    if strategy is None:  # rate limiting switched off
        return True
    try:
        if strategy.hit(RateLimitItemPerHour(per_hour), "id-search", str(current_user.id)):
            return True
    except Exception:  # the limiter's storage (Redis) is down: refuse rather than go unlimited
        current_app.logger.exception("id-search limit: storage unavailable")
        _refuse("暂时无法按身份证号搜索，请稍后再试", 503)
        return False
    _refuse(f"按身份证号搜索过于频繁（每小时最多 {per_hour} 次），本次未按身份证号查找，请稍后再试", 429,
            f"按身份证号搜索过于频繁（每小时最多 {per_hour} 次），请稍后再试")
    return False


def _audit_id_search(number: str, after_this_request) -> None:
    """The audit row, committed once the page is made (a list page is a GET: nothing else of
    it is written)."""
    from app.extensions import db
    from app.idnumber import mask

    @after_this_request
    def audited(response):
        from app.audit.services import record

        try:
            record("search", "officer", None, f"按身份证号搜索：{mask(number)}")
            commit()
        except Exception:
            db.session.rollback()
            raise
        return response


def check_access():
    from app.auth import sessions

    endpoint = request.endpoint
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS:
        return None
    if endpoint.startswith(OFFICER_PREFIX) and not is_officer_account():
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
        abort(404)  # staff have no /me: those pages are an officer's own
    if is_officer_account() and not officer_may_reach(endpoint):
        abort(404)  # the rest of the application does not exist for an officer's account
    if endpoint.startswith("api."):  # the token API answers 401/403 in JSON (app/api/auth.py)
        from app.api.auth import check_api_access

        return check_api_access(endpoint)
    if current_user.is_authenticated:
        why = sessions.expired()
        if why:
            logout_user()
            flash(why, "warning")
            return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    if current_user.role == OFFICER:
        return None  # officer_may_reach above: its own pages, every method (CSRF still applies)
    needed = min_role_for(endpoint, request.method)
    if ROLE_ORDER.get(current_user.role, -1) < ROLE_ORDER[needed]:
        abort(403)
    return None
