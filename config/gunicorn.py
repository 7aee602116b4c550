"""gunicorn settings for the web role (Dockerfile, docker-compose.yml; docs/operations.md).

Threaded workers (gthread): the audit exports stream for as long as the trail is long, and a
sync worker busy streaming cannot tell the arbiter it is alive, so gunicorn would kill it at
``timeout``. With threads the worker's main thread keeps reporting while other threads stream;
``timeout`` then only catches a worker that is truly stuck. Every value can be set from the
environment (GUNICORN_WORKERS, GUNICORN_THREADS, GUNICORN_TIMEOUT, GUNICORN_BIND, ...).
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Seconds a worker may go without reporting before it is killed and replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# On SIGTERM (a deploy), running requests and exports get this long to finish.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then so a slow leak never grows for weeks.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "200"))
# The app logs one line per request itself, with its request id (core/observability.py);
# set GUNICORN_ACCESS_LOG=- for gunicorn's own access log as well.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
# The TLS proxy in front sets X-Forwarded-For/-Proto; trust it (the container is not public).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "*")


def on_starting(server):
    """Multiprocess metrics (PROMETHEUS_MULTIPROC_DIR): start from an empty folder."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            if name.endswith(".db"):
                os.unlink(os.path.join(folder, name))


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
