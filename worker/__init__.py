"""Background work: RQ queues, thin job entry points, periodic scheduling."""

from __future__ import annotations

import threading

from flask import Flask, current_app, flash, redirect, request

from club.web import referring_path
from worker.queues import QueueUnavailable

_local_scheduler_lock = threading.Lock()


def init_app(app: Flask) -> None:
    """Register the worker commands, the jobs admin page and the queue-outage answer."""
    from club.web import add_nav_link
    from worker import cli, views

    app.config.setdefault("RQ_ASYNC", True)
    app.cli.add_command(cli.worker_command)
    app.cli.add_command(cli.scheduler_command)
    app.register_blueprint(views.bp)
    add_nav_link(app, "Jobs", "jobs.overview", admin=True)
    app.register_error_handler(QueueUnavailable, answer_queue_unavailable)
    app.before_request(start_local_scheduler_once)


def answer_queue_unavailable(error: QueueUnavailable):
    """Tell the user the action could not be queued, instead of failing with a 500.

    Views commit before they enqueue, so what the user saved is kept; the periodic jobs
    pick the work up again once Redis is back.
    """
    from club import membership

    message = "Saved, but background jobs are unavailable right now; please try again shortly."
    if membership.wants_json():
        return {"error": "Service unavailable", "message": str(error)}, 503, {"Retry-After": "30"}
    flash(message, "error")
    return redirect(referring_path() or "/", 303)


def start_local_scheduler_once() -> None:
    """Under the development server without Redis, start the periodic jobs' thread."""
    app = current_app._get_current_object()
    if "club_local_scheduler" in app.extensions or not wants_local_scheduler(app):
        return
    from worker.schedule import LocalScheduler

    with _local_scheduler_lock:
        if "club_local_scheduler" not in app.extensions:
            app.extensions["club_local_scheduler"] = LocalScheduler(app).start()


def wants_local_scheduler(app: Flask) -> bool:
    """Only ``flask run`` (Werkzeug's server) without Redis, never tests or gunicorn."""
    return (
        not app.testing
        and not app.config.get("REDIS_URL")
        and app.config.get("LOCAL_SCHEDULER", True)
        and request.environ.get("SERVER_SOFTWARE", "").startswith("Werkzeug/")
    )
