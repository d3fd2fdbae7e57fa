"""One structured (JSON) log line per request: user, method, route, path, status, time in ms.

Jobs log their own line (app/jobs/services.py, event "job", with the duration). Under gunicorn
the lines go to its error log (stderr, journald under systemd); the access log stays gunicorn's.
"""

from __future__ import annotations

import json
import logging
import sys
import time

from flask import Flask, g, request
from flask_login import current_user

log = logging.getLogger("certmgr.request")


def init_app(app: Flask) -> None:
    root = logging.getLogger("certmgr")
    if not app.testing and not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        root.propagate = False

    @app.before_request
    def _start_timer():
        g._t0 = time.perf_counter()

    @app.after_request
    def _log_request(response):
        if request.endpoint in ("static", "bootstrap.static"):
            return response

        t0 = g.get("_t0")
        try:
            user = current_user.username if current_user and current_user.is_authenticated else None
        except Exception:  # the user could not be loaded (database down): log the request anyway
            user = None
        log.info(json.dumps({
            "event": "request", "user": user, "method": request.method,
            "route": request.url_rule.rule if request.url_rule else None, "path": request.path,
            "status": response.status_code,
            "ms": round((time.perf_counter() - t0) * 1000, 1) if t0 is not None else None,
        }, ensure_ascii=False))
        return response
