"""Gunicorn settings shared by every service.

No ``preload_app``: each worker imports and builds the app after the fork, so models
load once per worker and no model object crosses a fork. One worker with a few
threads per container is the default; scale with pods (and HPA), not workers.

Use: ``gunicorn -c python:attendance_ml.core.gunicorn_conf --bind 0.0.0.0:5001
'attendance_ml.face.app:create_app()'``.
"""

import os

preload_app = False
workers = int(os.environ.get("ATTENDANCE_WORKERS", "1"))
worker_class = "gthread"
threads = int(os.environ.get("ATTENDANCE_THREADS", "4"))
timeout = int(os.environ.get("ATTENDANCE_WORKER_TIMEOUT", "120"))
graceful_timeout = 20
keepalive = 5
accesslog = None
errorlog = "-"
loglevel = os.environ.get("ATTENDANCE_LOG_LEVEL", "info").lower()
# Several services run side by side on one machine: none needs gunicorn's runtime
# control socket, and they would all share its default path.
control_socket_disable = True
forwarded_allow_ips = os.environ.get("ATTENDANCE_FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_fork(server, worker):
    """Log which worker will load the models; loading happens in the app factory."""
    server.log.info("worker %s forked; models load in this worker", worker.pid)
