"""``/healthz``: is the database answering, and Redis when one is configured?

Monitoring and ``make run`` users call it; it says nothing about accounts. Load balancers
call ``/healthz/web`` instead, which asks only what a web process needs to serve pages:
while Redis is down pages keep working, so draining every web process for it would turn
a degraded site into one that is down.
"""

from __future__ import annotations

import logging

import redis
import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify

from club.extensions import db

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


def database_state() -> str:
    """Return "ok" if the database answers a trivial query, else "error"."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as error:
        log_failed_check("database", error)
        db.session.rollback()
        return "error"
    return "ok"


def log_failed_check(service: str, error: Exception) -> None:
    """Log one warning line naming the service and the error, without a traceback.

    Probes come every few seconds from each monitor and load balancer: during an outage a
    traceback apiece would bury the error log under copies of the same news.
    """
    # SQLAlchemy appends a multi-line "Background on this error" to its message.
    lines = str(error).strip().splitlines()
    reason = lines[0] if lines else ""
    log.warning("health check: %s unreachable: %s: %s", service, type(error).__name__, reason)


HEALTH_PROBE_KEY = "club:health-probe"


def redis_state() -> str:
    """Return "ok", "error" or "not configured" for the Redis at ``REDIS_URL``."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return "not configured"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            # A write, not a PING: a Redis that answers but refuses writes (a replica after
            # a failover, one full or unable to save) queues no job either.
            client.set(HEALTH_PROBE_KEY, "ok", px=60_000)
        finally:
            client.close()
    except (redis.RedisError, OSError) as error:
        log_failed_check("Redis", error)
        return "error"
    return "ok"


@bp.get("/healthz")
def healthz():
    """Report each dependency's state: 200 when all are healthy, 503 otherwise."""
    checks = {"database": database_state(), "redis": redis_state()}
    healthy = all(state in {"ok", "not configured"} for state in checks.values())
    body = {"status": "ok" if healthy else "error", **checks}
    return health_response(body, healthy)


@bp.get("/healthz/web")
def web_health():
    """Can this process serve pages? 200 while the database answers, else 503."""
    state = database_state()
    return health_response({"status": state, "database": state}, state == "ok")


def health_response(body: dict, healthy: bool):
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if healthy else 503
