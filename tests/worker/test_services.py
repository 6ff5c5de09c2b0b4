"""CI's second pass really runs on PostgreSQL and Redis (nothing silently falls back)."""

from __future__ import annotations

import os

import pytest
import redis

from club.extensions import db
from tests.conftest import is_postgres
from tests.worker.conftest import skip_unless_ci


@pytest.mark.pg
def test_it_runs_on_postgresql_when_database_url_names_it(app):
    if not is_postgres():
        skip_unless_ci("DATABASE_URL")

    assert db.engine.dialect.name == "postgresql"
    assert os.environ["DATABASE_URL"].endswith(f"/{db.engine.url.database}")


@pytest.mark.redis
def test_it_queues_through_the_redis_that_redis_url_names(app):
    if not os.environ.get("REDIS_URL"):
        skip_unless_ci("REDIS_URL")

    assert app.config["REDIS_URL"] == os.environ["REDIS_URL"]
    assert redis.Redis.from_url(app.config["REDIS_URL"]).ping() is True


def test_it_refuses_malformed_retry_intervals():
    from club.config import ConfigError, load

    with pytest.raises(ConfigError, match="JOB_RETRY_INTERVALS"):
        load({"JOB_RETRY_INTERVALS": "30,five minutes"})


def test_it_reads_retry_intervals_from_the_environment():
    from club.config import load

    assert load({"JOB_RETRY_INTERVALS": "1, 2,3"})["JOB_RETRY_INTERVALS"] == (1, 2, 3)
