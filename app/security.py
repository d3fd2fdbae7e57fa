"""HTTP hardening for every response: security headers, Secure cookies and HSTS on HTTPS, and
which proxy headers to believe.

- Content-Security-Policy: scripts only from our own static files (no inline <script>, no
  onclick=…: templates put behaviour in static/app.js); styles from our files, plus inline style
  attributes (Bootstrap's progress bars and a few widths); images from us or data: URIs
  (Bootstrap's icons); no framing by anyone.
- `SESSION_COOKIE_SECURE=1` in the environment: the session cookie is sent over HTTPS only and
  the browser is told to use HTTPS from now on (Strict-Transport-Security).
- `PROXY_FIX_X_FOR=N`: the app sits behind N reverse proxies, so the client address is taken
  from the last N entries of X-Forwarded-For (werkzeug's ProxyFix). The default 0 believes no
  such header: anyone can write one, and the audit log must not record a made-up address.
"""

from __future__ import annotations

import os

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HSTS = "max-age=31536000"


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def init_app(app: Flask) -> None:
    if _env_flag("SESSION_COOKIE_SECURE"):
        app.config["SESSION_COOKIE_SECURE"] = True
    hops = app.config.get("PROXY_FIX_X_FOR")
    if hops is None:
        raw = os.environ.get("PROXY_FIX_X_FOR", "").strip() or "0"
        if not raw.isdigit():
            raise RuntimeError(f"PROXY_FIX_X_FOR 应为反向代理的层数（0、1、2…），不是“{raw}”")
        hops = int(raw)
    app.config["PROXY_FIX_X_FOR"] = hops
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    @app.after_request
    def security_headers(resp: Response) -> Response:
        h = resp.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            h.setdefault("Strict-Transport-Security", HSTS)
        return resp
