"""A feeds worker whose first article insert stalls, so a test can kill it mid-refresh.

Run as ``python tests/worker/slow_worker.py MARKER [--without-scheduler]``: the work
horse that first inserts articles writes its pid to MARKER and sleeps inside the open
transaction; later horses (the retry) see MARKER and carry on. Everything else is the real
worker.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from club import create_app
from worker.cli import AppWorker, worker_connection
from worker.queues import get_queue


def stall_first_article_insert(marker: Path):
    """Return an engine listener that stalls the first INSERT INTO articles."""

    def listener(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ARTICLES") and not marker.exists():
            marker.write_text(str(os.getpid()))
            time.sleep(120)

    return listener


def main(marker: Path, with_scheduler: bool) -> None:
    app = create_app()
    sa.event.listen(sa.engine.Engine, "after_cursor_execute", stall_first_article_insert(marker))
    with app.app_context():
        connection = worker_connection(app)
        queues = [get_queue("feeds", app, connection)]
        AppWorker(queues, connection=connection, app=app).work(with_scheduler=with_scheduler)


if __name__ == "__main__":
    main(Path(sys.argv[1]), with_scheduler="--without-scheduler" not in sys.argv)
