"""The database unreachable: pages answer 503 with Retry-After, never a bare 500 (E9, E10)."""

from __future__ import annotations

import time

import pytest
from flask_wtf.csrf import generate_csrf

from club import create_app
from club.config import engine_options
from club.extensions import db
from tests.conftest import is_postgres


@pytest.fixture
def broken(app_config, tmp_path):
    """The site pointed at a database file it cannot open."""
    site = create_app(
        {**app_config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/db.sqlite3"}
    )
    site.config["REDIS_URL"] = None
    site.add_url_rule("/__test__/csrf", "test_csrf", lambda: generate_csrf())
    yield site
    with site.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("path", ["/", "/articles/1", "/feed.xml"])
def test_it_says_the_site_is_back_in_a_moment(broken, path):
    with broken.app_context():
        response = broken.test_client().get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "cannot reach its database right now" in page
    assert "Traceback" not in page and "sqlite" not in page.lower()


def signed_in(site):
    """A client whose session names an account, as after logging in (the loader needs the
    database to read it)."""
    client = site.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = f"1:token:{int(time.time())}"
        session["_fresh"] = True
    return client


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/"), ("GET", "/settings"), ("GET", "/no-such-page"), ("POST", "/comments/1/like")],
)
def test_it_says_so_to_signed_in_accounts_too(broken, method, path):
    with broken.app_context():
        response = signed_in(broken).open(path, method=method)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "cannot reach its database right now" in response.get_data(as_text=True)


def test_it_says_so_to_a_signed_in_form_post(broken):
    with broken.app_context():
        client = signed_in(broken)
        token = client.get("/__test__/csrf").get_data(as_text=True)
        response = client.post("/comments/1/like", data={"csrf_token": token})
    assert response.status_code == 503
    assert "cannot reach its database right now" in response.get_data(as_text=True)


def test_it_shows_a_plain_500_page_when_the_error_page_itself_fails(broken):
    @broken.get("/boom")
    def boom():
        raise RuntimeError("a bug")

    broken.testing = False  # let the 500 handler answer instead of raising into the test
    with broken.app_context():
        response = signed_in(broken).get("/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in page and "a bug" not in page and "Traceback" not in page


def test_it_answers_scripts_in_json(broken):
    with broken.app_context():
        response = broken.test_client().get("/", headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert response.get_json()["error"] == "unavailable"


def test_it_gives_up_connecting_to_postgresql_after_seconds_not_minutes():
    options = engine_options("postgresql+psycopg://club@db.internal/club")
    assert options["connect_args"]["connect_timeout"] == 5
    assert options["pool_timeout"] == 10
    assert "connect_args" not in engine_options("sqlite:///instance/club.sqlite3")


@pytest.mark.skipif(not is_postgres(), reason="needs PostgreSQL: SQLite has no network")
def test_a_postgresql_connection_the_network_cuts_off_fails_in_seconds(app):
    # The connection the site really opens carries TCP keepalives and a user timeout, so a
    # partition ends a pooled connection's wait in under half a minute, not TCP's 15.
    with db.engine.connect() as connection:
        given = connection.connection.dbapi_connection.info.get_parameters()
    idle, interval, count = (
        int(given[k]) for k in ("keepalives_idle", "keepalives_interval", "keepalives_count")
    )
    assert given["keepalives"] == "1"
    assert idle + interval * count <= 30
    assert int(given["tcp_user_timeout"]) <= 30_000
