"""/healthz reports the database and Redis (#2 point 10), and CI's second pass is real."""

from __future__ import annotations

import logging
import os
import socket

import pytest
import redis as redis_lib

from club import create_app
from club.extensions import db


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_it_reports_a_healthy_database(client, app):
    app.config["REDIS_URL"] = None
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "redis": "not configured"}
    assert response.headers["Cache-Control"] == "no-store"


def test_it_answers_503_when_redis_is_unreachable(client, app):
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{closed_port()}/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["redis"] == "error"


def test_it_keeps_web_processes_in_the_load_balancer_while_redis_is_down(client, app):
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{closed_port()}/0"
    response = client.get("/healthz/web")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_it_answers_503_when_the_database_is_unreachable(app_config, tmp_path):
    broken = create_app(
        {**app_config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/db.sqlite3"}
    )
    broken.config["REDIS_URL"] = None
    with broken.app_context():
        response = broken.test_client().get("/healthz")
        web = broken.test_client().get("/healthz/web")
        db.session.remove()
        db.engine.dispose()
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "error",
        "database": "error",
        "redis": "not configured",
    }
    assert web.status_code == 503 and web.get_json()["database"] == "error"


@pytest.mark.pg
@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="runs in CI's PostgreSQL pass (DATABASE_URL set)",
)
def test_it_really_runs_on_postgresql_when_asked(app):
    assert db.engine.dialect.name == "postgresql"


@pytest.mark.redis
@pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="runs in CI's Redis pass (REDIS_URL set)"
)
def test_it_really_reaches_redis_when_asked(client, app):
    assert app.config["REDIS_URL"] == os.environ["REDIS_URL"]
    assert redis_lib.Redis.from_url(os.environ["REDIS_URL"]).ping()
    assert client.get("/healthz").get_json()["redis"] == "ok"


def test_a_failed_check_logs_one_warning_line_without_a_traceback(client, app, caplog):
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{closed_port()}/0"
    with caplog.at_level(logging.INFO, logger="club.health"):
        assert client.get("/healthz").status_code == 503
    records = [r for r in caplog.records if r.name == "club.health"]
    assert [r.levelname for r in records] == ["WARNING"]
    (record,) = records
    assert record.exc_info is None and "Traceback" not in caplog.text
    message = record.getMessage()
    assert message.startswith("health check: Redis unreachable: ConnectionError: ")
    assert "\n" not in message


def test_a_failed_database_check_logs_one_line_too(app_config, tmp_path, caplog):
    broken = create_app(
        {**app_config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/db.sqlite3"}
    )
    broken.config["REDIS_URL"] = None
    with broken.app_context(), caplog.at_level(logging.INFO, logger="club.health"):
        assert broken.test_client().get("/healthz/web").status_code == 503
        db.session.remove()
        db.engine.dispose()
    records = [r for r in caplog.records if r.name == "club.health"]
    assert [(r.levelname, r.exc_info) for r in records] == [("WARNING", None)]
    message = records[0].getMessage()
    assert message.startswith("health check: database unreachable: OperationalError: ")
    assert "\n" not in message
