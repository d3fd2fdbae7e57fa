"""A gunicorn worker settles its app before serving (app/warmup.py, deploy/gunicorn.conf.py):
templates compiled, start-up objects frozen out of the garbage collector's full passes, its young
threshold raised, new garbage still collected."""

from __future__ import annotations

import gc
import logging
import runpy
import weakref
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.warmup import GC_THRESHOLD, TEMPLATE_SUFFIXES

CONF = Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py"


@pytest.fixture
def unfrozen():
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()  # the rest of the test session collects as usual
    gc.set_threshold(*threshold)


class Cycle:
    def __init__(self):
        self.me = self


def test_gunicorn_worker_settles_the_app(app, unfrozen, caplog):
    hook = runpy.run_path(str(CONF))["post_worker_init"]
    worker = SimpleNamespace(wsgi=app, pid=4242, log=logging.getLogger("test.gunicorn"))
    gc.collect()
    before = len(gc.get_objects())
    with caplog.at_level(logging.INFO, logger="test.gunicorn"):
        hook(worker)

    frozen = gc.get_freeze_count()
    assert frozen > 0.9 * before
    # a full pass now walks only what was made since, not the whole app
    assert len(gc.get_objects()) < before / 10
    assert "ready: " in caplog.text and " objects frozen out of the garbage collector" in caplog.text

    assert gc.get_threshold() == GC_THRESHOLD

    env = app.jinja_env
    names = env.list_templates(filter_func=lambda n: n.endswith(TEMPLATE_SUFFIXES))
    assert "base.html" in names and len(names) > 50
    cached = {key[1] for key in env.cache.keys()}
    assert set(names) <= cached

    # garbage made after the freeze is still collected
    ref = weakref.ref(Cycle())
    assert ref() is not None
    gc.collect()
    assert ref() is None

    assert app.test_client().get("/login").status_code == 200


def test_gc_threshold_from_the_environment(app, unfrozen, monkeypatch):
    monkeypatch.setenv("GUNICORN_GC_THRESHOLD", "5000,20,30")
    hook = runpy.run_path(str(CONF))["post_worker_init"]
    hook(SimpleNamespace(wsgi=app, pid=4243, log=logging.getLogger("test.gunicorn")))
    assert gc.get_threshold() == (5000, 20, 30)
    assert gc.get_freeze_count() > 0
