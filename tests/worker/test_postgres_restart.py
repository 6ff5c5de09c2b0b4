"""PostgreSQL dropping every connection under the running site (what a restart does to a pool).

Restarting the shared PostgreSQL is not ours to do, so the test terminates the server side
of every connection to its own database, which is exactly what the pool sees after a
restart: sockets that look open and are dead.
"""

from __future__ import annotations

import urllib.request

import pytest
import sqlalchemy as sa

from club.extensions import db
from tests.conftest import is_postgres, make_article
from tests.worker.conftest import free_port, output, skip_unless_ci, start_gunicorn, wait_for


def get(url: str) -> int:
    """Return the status of GET ``url`` (errors included)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def terminate_other_connections() -> int:
    """Kill every other server process attached to this database; return how many."""
    with db.engine.connect() as connection:
        return connection.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()


@pytest.mark.pg
@pytest.mark.slow
def test_it_recovers_when_postgresql_drops_every_connection(app, processes):
    if not is_postgres():
        skip_unless_ci("DATABASE_URL")
    article = make_article(title="Pooled connections")
    port = free_port()
    web = start_gunicorn(app, port, workers=2)
    processes.append(web)
    pages = [f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{port}/articles/{article.id}"]
    wait_for(lambda: get(pages[0]) == 200, timeout=30)
    for _ in range(10):  # warm both workers' pools
        assert [get(page) for page in pages] == [200, 200]
    db.session.remove()

    assert terminate_other_connections() >= 1

    statuses = [get(page) for _ in range(10) for page in pages]
    assert statuses == [200] * 20, output(web)
