"""Small job functions the worker's tests queue by dotted path (jobs take plain values)."""

from __future__ import annotations

import time
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from club.extensions import db
from worker.jobs import run_and_commit


class FeedGone(Exception):
    """Stands in for a domain error marked permanent (a 404, an unparsable feed)."""

    permanent = True


def append_line(path: str, text: str) -> str:
    """Append ``text`` to the file at ``path`` and return it."""
    with Path(path).open("a") as handle:
        handle.write(text + "\n")
    return text


def describe_context(path: str) -> None:
    """Write which app the job ran in and whether the database answered."""
    answer = db.session.execute(sa.text("SELECT 1")).scalar()
    Path(path).write_text(f"{current_app.name} {answer}")


def slow_append(path: str, seconds: float) -> None:
    """Write 'started', wait, then write 'finished'."""
    append_line(path, "started")
    time.sleep(seconds)
    append_line(path, "finished")


def fail_permanently() -> None:
    """Fail with an error no retry can fix."""

    def gone() -> None:
        raise FeedGone("404 Not Found")

    run_and_commit(gone)


def fail_transiently(path: str) -> None:
    """Note the try, then fail with an error a later try might not meet."""

    def flaky() -> None:
        append_line(path, "try")
        raise ConnectionError("connection reset")

    run_and_commit(flaky)


def note_tick() -> None:
    """Append 'tick' to the file the app's TICK_FILE setting names."""
    append_line(current_app.config["TICK_FILE"], "tick")
