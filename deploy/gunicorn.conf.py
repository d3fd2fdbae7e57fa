"""gunicorn settings for `make serve` and the systemd unit (deploy/certmgr-web.service).

Every value can be overridden from the environment. Reload the code without dropping requests:
`kill -HUP <master pid>` (`systemctl reload certmgr-web`) starts new workers, then lets the old
ones finish what they are serving (graceful_timeout).
"""

import multiprocessing
import os

wsgi_app = "app:create_app()"
bind = os.environ.get("GUNICORN_BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"

# Workers × threads from the CPU count. Pages are short (long work runs in `flask jobs worker`),
# so a few threads per process keep a slow client from holding a whole process.
_cpus = multiprocessing.cpu_count()
workers = int(os.environ.get("GUNICORN_WORKERS") or max(2, _cpus))
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 60)  # a stuck worker is replaced after this
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT") or 30)
keepalive = 5
# Recycle a worker now and then so that memory fragmentation never accumulates.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS") or 2000)
max_requests_jitter = max_requests // 10

accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or "-"  # "-": stdout (journald under systemd)
errorlog = os.environ.get("GUNICORN_ERROR_LOG") or "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL") or "info"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
proc_name = "certmgr"


def post_worker_init(worker):
    """Each worker, once its app is loaded: compile the templates, freeze what start-up left in
    memory out of the garbage collector's full passes and raise its young threshold (app/warmup.py:
    80–150 ms of CPU per full pass otherwise, landing on whichever request triggered it).
    GUNICORN_GC_THRESHOLD="700,10,10" restores Python's default thresholds."""
    from app.warmup import GC_THRESHOLD, settle

    threshold = os.environ.get("GUNICORN_GC_THRESHOLD")
    frozen = settle(worker.wsgi, tuple(int(n) for n in threshold.split(",")) if threshold else GC_THRESHOLD)
    worker.log.info("worker %s ready: %d objects frozen out of the garbage collector", worker.pid, frozen)
