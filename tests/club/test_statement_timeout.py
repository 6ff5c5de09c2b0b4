"""A web request stuck on PostgreSQL (a slow statement, a lock held elsewhere) gives up.

gunicorn's timeout does not stop a stuck thread, so PostgreSQL's statement_timeout does:
the statement is cancelled and the visitor gets the "back in a moment" page.
"""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from club.extensions import db
from tests.conftest import PASSWORD, is_postgres

pytestmark = [
    pytest.mark.pg,
    pytest.mark.skipif(not is_postgres(), reason="needs PostgreSQL (statement_timeout)"),
]


@pytest.fixture
def app_config(app_config: dict) -> dict:
    app_config["DATABASE_STATEMENT_TIMEOUT"] = 1
    return app_config


def test_it_gives_up_on_a_lock_held_elsewhere_and_says_so(app, client, alice):
    token = client.csrf_token()
    with db.engine.connect() as elsewhere, elsewhere.begin():
        # Without the timeout the request would wait for this lock for ever: PostgreSQL
        # ends the holder after 10 s, so a regression fails the test instead of hanging it.
        elsewhere.execute(sa.text("SET LOCAL idle_in_transaction_session_timeout = '10s'"))
        # Another process holds alice's row (a long transaction, a stuck migration).
        elsewhere.execute(
            sa.text("SELECT id FROM users WHERE id = :id FOR UPDATE"), {"id": alice.id}
        )
        started = time.monotonic()
        response = client.post(
            "/login", data={"email": alice.email, "password": PASSWORD, "csrf_token": token}
        )
        waited = time.monotonic() - started

    assert response.status_code == 503
    assert "cannot reach its database right now" in response.get_data(as_text=True)
    assert waited < 5


def test_it_sets_the_timeout_on_every_connection(app):
    with db.engine.connect() as connection:
        assert connection.execute(sa.text("SHOW statement_timeout")).scalar() == "1s"
