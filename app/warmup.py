"""Make a freshly loaded app ready to serve: what a gunicorn worker does once, after loading the app
and before its first request (deploy/gunicorn.conf.py, post_worker_init).

Why: Python's cyclic garbage collector runs a full (generation-2) pass now and then, triggered by
allocations, and that pass walks every container object the process holds. A loaded app holds
hundreds of thousands of them (modules, classes, SQLAlchemy's mappers and caches, the compiled
Jinja templates), so the pass costs several times what a typical page does, landing on whichever
request happened to trigger it: that request then misses the page-cost target (docs/architecture.md, Cost targets).
`gc.freeze()` moves everything alive at that moment into the permanent generation, which the
collector never walks again; new garbage is still collected as before. Freezing only helps for
what exists when it is called, so the work the first requests would otherwise do lazily (mapper
configuration, compiling each template) is done first, and a `gc.collect()` before it keeps real
garbage out of the frozen set. After that a full pass walks only the objects the requests have
added since (SQLAlchemy's statement cache mostly): a fraction of the cost.
Then the young-generation threshold is raised from 700 to 10,000 allocations: a request's own
objects mostly die (by reference counting) before a young pass sees them instead of being
promoted, so the full passes become rare and the young passes far fewer (figures in
notes/benchmarks.md). Frozen objects also stay shared copy-on-write if the app is ever preloaded
in gunicorn's master.
"""

from __future__ import annotations

import gc

from flask import Flask
from sqlalchemy.orm import configure_mappers

TEMPLATE_SUFFIXES = (".html", ".txt", ".xml", ".j2")
GC_THRESHOLD = (10_000, 10, 10)  # Python's default: (700, 10, 10)


def settle(app: Flask, threshold: tuple[int, ...] = GC_THRESHOLD) -> int:
    """Configure the mappers, compile every template, collect and freeze, then set the collector's
    thresholds. Returns the number of objects frozen (gc.get_freeze_count())."""
    configure_mappers()
    env = app.jinja_env
    for name in env.list_templates(filter_func=lambda n: n.endswith(TEMPLATE_SUFFIXES)):
        env.get_template(name)
    gc.collect()
    gc.freeze()
    gc.set_threshold(*threshold)
    return gc.get_freeze_count()
