"""Who may reach what: the roles, the public endpoints and the view decorators that set a view's
minimum role. A leaf module (Flask and Flask-Login only), so that every floor may declare its
views' roles; the request gate that applies them is app/auth/access.py.

Each view has a minimum role — by default viewer for GET/HEAD and clerk for anything that writes;
views raise it with @require_role("admin"). A view that writes only the signed-in user's own data
(logout, their own password) lowers the bar for writes with @allow_role("viewer").

An officer's own account (role "officer", app/me) is not staff: it reaches only OFFICER_ENDPOINTS
(its /me pages, logout) and the public endpoints (`officer_may_reach`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import current_app
from flask_login import current_user

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
