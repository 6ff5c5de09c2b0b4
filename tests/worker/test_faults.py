"""Faults the production stack must survive, against the real PostgreSQL and Redis.

Worker tests run real worker processes on the Redis in REDIS_URL (CI's second pass);
the Redis-outage tests point the site at a port where nothing listens.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
import sqlalchemy as sa
from rq.job import Job, JobStatus

from articles.models import Article
from club.extensions import db
from tests.conftest import make_feed
from tests.worker.conftest import output, start_flask, start_python, wait_for
from worker.jobs import enqueue_refresh
from worker.queues import enqueue, get_queue

FEED_ENTRIES = 20


def stored_articles(feed_id: int) -> tuple[int, int]:
    """Return (rows, distinct GUIDs) stored for the feed, read fresh from the database."""
    db.session.rollback()
    rows = db.session.execute(
        sa.select(sa.func.count(), sa.func.count(sa.distinct(Article.guid))).where(
            Article.feed_id == feed_id
        )
    ).one()
    return tuple(rows)


def job_status(job_id: str, connection) -> JobStatus:
    return Job.fetch(job_id, connection=connection).get_status()


@pytest.mark.redis
@pytest.mark.slow
def test_it_recovers_a_refresh_whose_worker_was_killed_mid_ingest(
    app, real_redis, feed_server, processes, tmp_path
):
    app.config["JOB_RETRY_INTERVALS"] = (1, 1, 1)
    feed = make_feed(url=feed_server.url, auto_publish=True)
    handle = enqueue_refresh(feed.id)
    marker = tmp_path / "horse.pid"
    worker = start_python(
        app, "tests/worker/slow_worker.py", str(marker), FEEDS_ALLOW_PRIVATE_NETWORKS="true"
    )
    processes.append(worker)

    horse = int(wait_for(lambda: marker.exists() and marker.read_text(), timeout=60))
    os.kill(horse, signal.SIGKILL)

    wait_for(lambda: job_status(handle.id, real_redis) == JobStatus.FINISHED, timeout=60)
    assert stored_articles(feed.id) == (FEED_ENTRIES, FEED_ENTRIES), output(worker)
    assert Job.fetch(handle.id, connection=real_redis).retries_left == 2


@pytest.mark.redis
@pytest.mark.slow
def test_it_stores_each_article_once_when_two_workers_refresh_one_feed(
    app, real_redis, feed_server, processes
):
    feed = make_feed(url=feed_server.url, auto_publish=True)
    # Two separate jobs for one feed (not the unique refresh), so both really run at once;
    # forced, as an admin's "Refresh now" beside the periodic pass, so the second fetches
    # even when the first has already made the feed not due (on a slow machine it may).
    jobs = [
        enqueue("worker.jobs.refresh_feed", feed.id, force=True, queue="feeds") for _ in range(2)
    ]
    workers = [
        start_flask(app, "worker", "--burst", "--queues", "feeds", FEEDS_ALLOW_PRIVATE_NETWORKS="1")
        for _ in range(2)
    ]
    processes.extend(workers)

    assert [w.wait(60) for w in workers] == [0, 0], [output(w) for w in workers]
    assert [job_status(j.id, real_redis) for j in jobs] == [JobStatus.FINISHED] * 2, [
        output(w) for w in workers
    ]
    assert feed_server.hits == 2
    assert stored_articles(feed.id) == (FEED_ENTRIES, FEED_ENTRIES)


@pytest.mark.redis
def test_it_queues_one_refresh_when_a_feed_is_asked_for_twice(app, real_redis):
    feed = make_feed()
    first, second = enqueue_refresh(feed.id), enqueue_refresh(feed.id)

    assert not first.duplicate
    assert second.duplicate
    assert real_redis.llen("rq:queue:feeds") == 1


@pytest.mark.redis
@pytest.mark.slow
def test_it_recovers_a_refresh_whose_whole_worker_died(
    app, real_redis, feed_server, processes, tmp_path
):
    app.config["JOB_RETRY_INTERVALS"] = (0, 0, 0)
    feed = make_feed(url=feed_server.url, auto_publish=True)
    handle = enqueue_refresh(feed.id)
    marker = tmp_path / "horse.pid"
    worker = start_python(
        app,
        "tests/worker/slow_worker.py",
        str(marker),
        "--without-scheduler",
        FEEDS_ALLOW_PRIVATE_NETWORKS="true",
    )
    processes.append(worker)
    horse = int(wait_for(lambda: marker.exists() and marker.read_text(), timeout=60))

    # Parent and work horse die together: nobody is left to notice the job.
    os.kill(worker.pid, signal.SIGKILL)
    os.kill(horse, signal.SIGKILL)
    worker.wait(10)
    assert job_status(handle.id, real_redis) == JobStatus.STARTED

    # RQ's maintenance finds the job abandoned once its heartbeat lapses (moved forward here).
    registry = get_queue("feeds").started_job_registry
    registry.cleanup(timestamp=time.time() + 3600)
    rescuer = start_flask(
        app, "worker", "--burst", "--queues", "feeds", FEEDS_ALLOW_PRIVATE_NETWORKS="1"
    )
    processes.append(rescuer)

    assert rescuer.wait(60) == 0, output(rescuer)
    assert job_status(handle.id, real_redis) == JobStatus.FINISHED
    assert stored_articles(feed.id) == (FEED_ENTRIES, FEED_ENTRIES)
