"""The database unreachable: pages answer 503 with Retry-After, never a bare 500 (E9, E10)."""

from __future__ import annotations

import pytest

from club import create_app
from club.config import engine_options
from club.extensions import db


@pytest.fixture
def broken(app_config, tmp_path):
    """The site pointed at a database file it cannot open."""
    site = create_app(
        {**app_config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/db.sqlite3"}
    )
    site.config["REDIS_URL"] = None
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


def test_it_answers_scripts_in_json(broken):
    with broken.app_context():
        response = broken.test_client().get("/", headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert response.get_json()["error"] == "unavailable"


def test_it_gives_up_connecting_to_postgresql_after_seconds_not_minutes():
    options = engine_options("postgresql+psycopg://club@db.internal/club")
    assert options["connect_args"] == {"connect_timeout": 5}
    assert options["pool_timeout"] == 10
    assert "connect_args" not in engine_options("sqlite:///instance/club.sqlite3")
