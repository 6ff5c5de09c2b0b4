"""gunicorn settings for the web process (``gunicorn --config platform/gunicorn.conf.py``).

Every value can be changed through the environment, so one image serves every size, or in
the site's ``.env``, which the app reads too; the environment wins, as it does in the app.
"""

import os
import sys
from pathlib import Path

from dotenv import dotenv_values

from club import config as club_config

DOTENV = dotenv_values(Path(__file__).resolve().parent.parent / ".env")


def setting(name: str, default: str = "") -> str:
    """``name`` from the environment, else from ``.env``; ``default`` when empty.

    As in the app (``load_dotenv`` never overrides a variable the environment has): one set
    there, even empty, hides the file's, and an empty value means the default.
    """
    value = os.environ[name] if name in os.environ else DOTENV.get(name)
    return value or default


def whole_number(name: str, default: int, minimum: int = 0) -> int:
    """``name`` as a whole number, read as ``setting`` reads it; a bad one stops gunicorn.

    The app's parser, so the message is the app's one line, not a traceback.
    """
    try:
        return club_config.env_int({name: setting(name)}, name, default, minimum)
    except club_config.ConfigError as error:
        sys.exit(f"Configuration error: {error}")


wsgi_app = "club:create_app()"

# Platforms hand the port in $PORT; listen on all interfaces inside the container.
bind = setting("GUNICORN_BIND") or f"0.0.0.0:{whole_number('PORT', 8000, minimum=1)}"

# 2 x cores + 1 processes is gunicorn's advice. Each process runs a few threads (gthread):
# a request spends much of its time waiting on PostgreSQL and Redis, and bench/smoke_load.py
# served 30 instead of 21 requests/s with 4 threads instead of 1 on two workers.
# The cores this process may run on (a container's cpuset), not the host's, and at most 9:
# each process holds up to 15 database connections, and a big host would otherwise start
# enough processes to exhaust PostgreSQL's connection limit. Set WEB_CONCURRENCY to go higher.
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
workers = whole_number("WEB_CONCURRENCY", min((CORES or 1) * 2 + 1, 9), minimum=1)
threads = whole_number("GUNICORN_THREADS", 4, minimum=1)

# A worker process that stops answering gunicorn for this long is killed and replaced. With
# threads this does not bound one slow request: the database connect timeout, Stripe's and
# the feed fetcher's own timeouts do.
timeout = whole_number("GUNICORN_TIMEOUT", 30)
# A web request's database statement that runs, or waits on a lock, longer than this is
# cancelled and the visitor sees the "back in a moment" page: gunicorn's timeout does not
# stop a stuck thread. Workers and migrations, which do not read this file, have none.
# Set when missing or empty: an empty value means the default here, and the app would
# read it as "no timeout".
os.environ["DATABASE_STATEMENT_TIMEOUT"] = str(whole_number("DATABASE_STATEMENT_TIMEOUT", 20))
# On SIGTERM (a deploy), stop accepting, finish requests in flight for up to this long, exit.
graceful_timeout = whole_number("GUNICORN_GRACEFUL_TIMEOUT", 30)


def check_app_settings() -> None:
    """Stop gunicorn with one line naming a setting the app would refuse.

    Each worker builds the app itself and exits on a bad setting; gunicorn would replace
    it for ever while requests hang, so the master checks once before starting any.
    """
    settings = {name: value for name, value in DOTENV.items() if value is not None}
    env = {**settings, **os.environ}
    try:
        loaded = club_config.load(env)
    except club_config.ConfigError as error:
        sys.exit(f"Configuration error: {error}")
    if not loaded["PRODUCTION"]:
        # `make prod` runs so on purpose; a public site that forgot CLUB_ENV would start
        # without a word, unsafe.
        own_key = club_config.env_str(env, "SECRET_KEY") is not None
        print(local_mode_warning(loaded, secret_key_set=own_key), file=sys.stderr)


def local_mode_warning(loaded: dict, *, secret_key_set: bool) -> str:
    """What running outside production means for this configuration, in one line."""
    differences = ["cookies are not Secure"]
    if not loaded["MAIL_SERVER"]:
        differences.append("mail is written to instance/outbox")
    if not secret_key_set:
        differences.append("the secret key is this machine's own")
    said = ", ".join(differences[:-1]) + " and " if len(differences) > 1 else ""
    return (
        f"Warning: CLUB_ENV is not production: {said}{differences[-1]}. "
        "Set CLUB_ENV=production on a public site."
    )


check_app_settings()
# Gunicorn's control socket is one path per user (~/.gunicorn/gunicorn.ctl): a second
# instance on the machine takes it over and deletes it on exit. Signals manage the site.
control_socket_disable = True
keepalive = 5

# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200

# Logs go to stdout/stderr, where the platform collects them.
accesslog = "-"
# The access log leaves out the token of a confirm, reset or email-change link.
logger_class = "club.access_log.RedactingLogger"
errorlog = "-"
loglevel = setting("GUNICORN_LOG_LEVEL", "info")
# When each request was answered ([29/Nov/2026:01:55:45 +0000]): platforms that add no
# timestamp of their own would otherwise leave the lines undated.
access_log_format = '%(t)s %(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s"'

# Trust X-Forwarded-Proto only from the load balancer, so url_for builds https:// links.
forwarded_allow_ips = setting("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Each worker imports the app itself: no database connection is shared across a fork.
preload_app = False
