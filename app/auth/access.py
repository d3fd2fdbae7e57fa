"""Server-side access control for every route.

Every request passes `check_access`: anonymous users go to the login page (except the public
endpoints), and each view has a minimum role (app/roles.py: viewer for GET/HEAD, clerk for
anything that writes, raised with @require_role("admin"), lowered for one's own account with
@allow_role("viewer")).

An officer's own account (role "officer", app/me) is not staff: it reaches only OFFICER_ENDPOINTS
(its /me pages, logout) and the public endpoints; every other endpoint answers 404 for it, as if
it did not exist (`officer_may_reach`, applied once here).

A blueprint that answers in its own way (the token API: bearer tokens, JSON errors) registers its
gate with `register_gate` when it is imported; this module knows no such blueprint.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    abort,
    after_this_request,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    request,
    url_for,
)
from flask_login import current_user, logout_user
from limits import RateLimitItemPerHour

from app.audit.services import record
from app.auth import sessions
from app.extensions import db, limiter
from app.idnumber import mask
from app.jobs.services import in_job
from app.models import officers as officer_model
from app.roles import (  # noqa: F401  (the roles' names, where the features import them from)
    OFFICER,
    OFFICER_ENDPOINTS,
    OFFICER_PREFIX,
    PUBLIC_ENDPOINTS,
    ROLE_ORDER,
    allow_role,
    is_officer_account,
    min_role_for,
    officer_may_reach,
    require_role,
    sees_ages,
    sees_full_ids,
)
from app.settings.services import get
from app.uow import commit

# blueprint name -> (gate(endpoint) -> a response or None, refuse(status, note, message) -> None)
_GATES: dict[str, tuple[Callable, Callable]] = {}


def register_gate(blueprint: str, gate: Callable, refuse: Callable) -> None:
    """`gate(endpoint)` decides every request to `blueprint` instead of the session rules below
    (it returns a response to refuse, None to let through); `refuse(status, note, message)` says
    why an ID number was not searched, where a page would flash `note`."""
    _GATES[blueprint] = (gate, refuse)


VIEWER_ID_SEARCH = "查看员不能按身份证号搜索，已忽略输入的身份证号"


def id_search_allowed(number: str) -> bool:
    """Whether this request may look up the whole ID number `number` (a yes/no answer about a
    masked number). A viewer may not (the input is ignored, with a note). A clerk may, up to the
    setting `id_search_per_hour` times an hour (Flask-Limiter's storage, per user), and each
    lookup is audited 按身份证号搜索. Commands on the server (no request) and a background job
    replaying a request that was already counted may. Decided once per number and request."""
    if not has_request_context() or not current_user or not current_user.is_authenticated:
        return True
    memo = g.setdefault("id_searches", {})
    if number in memo:
        return memo[number]
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
    if request.blueprint in _GATES:
        _GATES[request.blueprint][1](status, note, api_message)
        return
    flash(note, "warning")


def _within_id_search_limit() -> bool:
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

    @after_this_request
    def audited(response):
        try:
            record("search", "officer", None, f"按身份证号搜索：{mask(number)}")
            commit()
        except Exception:
            db.session.rollback()
            raise
        return response


def check_access():
    endpoint = request.endpoint
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS:
        return None
    if endpoint.startswith(OFFICER_PREFIX) and not is_officer_account():
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
        abort(404)  # staff have no /me: those pages are an officer's own
    if is_officer_account() and not officer_may_reach(endpoint):
        abort(404)  # the rest of the application does not exist for an officer's account
    gate = _GATES.get(endpoint.partition(".")[0])
    if gate is not None:  # e.g. the token API answers 401/403 in JSON (app/api/auth.py)
        return gate[0](endpoint)
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


officer_model.install_id_search_check(id_search_allowed)  # Officer.id_number_search asks this module
