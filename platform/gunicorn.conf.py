"""gunicorn settings for the web process (``gunicorn --config platform/gunicorn.conf.py``).

Every value can be changed through the environment, so one image serves every size.
"""

import multiprocessing
import os

wsgi_app = "club:create_app()"

# Platforms hand the port in $PORT; listen on all interfaces inside the container.
bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"

# 2 x cores + 1 processes is gunicorn's advice. Each process runs a few threads (gthread):
# a request spends much of its time waiting on PostgreSQL and Redis, and bench/smoke_load.py
# served 30 instead of 21 requests/s with 4 threads instead of 1 on two workers.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

# A request that takes longer than this is killed and logged; the load balancer retries GETs.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM (a deploy), stop accepting, finish requests in flight for up to this long, exit.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5

# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200

# Logs go to stdout/stderr, where the platform collects them.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s"'

# Trust X-Forwarded-Proto only from the load balancer, so url_for builds https:// links.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Each worker imports the app itself: no database connection is shared across a fork.
preload_app = False
