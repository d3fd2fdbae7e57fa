"""Progress of long work (a PDF's chunks), reported to whoever listens: a background job sets
`g.progress_hook`; in a plain request nobody listens and reporting costs nothing."""

from __future__ import annotations

from flask import g, has_app_context


def report(fraction: float) -> None:
    hook = g.get("progress_hook") if has_app_context() else None
    if hook is not None:
        hook(max(0.0, min(1.0, float(fraction))))
