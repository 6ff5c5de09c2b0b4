"""An admin's "Refresh now" on the real Redis, with a refresh of the feed already in the queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rq.job import Job, JobStatus

from articles import refresh
from articles.models import Feed
from club.clock import utcnow
from club.extensions import db
from tests.conftest import login, make_feed
from tests.worker.conftest import start_flask, wait_for, work_off
from worker import jobs, queues
from worker.queues import enqueue, get_queue

pytestmark = pytest.mark.redis

SAMPLE = "tests.worker.sample_jobs"


@pytest.fixture
def local_feeds(app):
    """Let the fetcher reach the test's feed server on 127.0.0.1."""
    app.config["FEEDS_ALLOW_PRIVATE_NETWORKS"] = True


def refresh_now(client, feed) -> str:
    """Press "Refresh now" on ``feed`` and return the page it lands on."""
    response = client.submit(f"/admin/feeds/{feed.id}/refresh", follow_redirects=True)
    return response.get_data(as_text=True)


def test_it_fetches_a_paused_feed_whose_plain_refresh_was_waiting(
    app, client, carol, real_redis, local_feeds, feed_server
):
    feed = make_feed(url=feed_server.url, status="paused")
    jobs.enqueue_refresh(feed.id)  # queued without force: it would skip a paused feed
    login(client, carol)

    page = refresh_now(client, feed)
    work_off(app, real_redis)

    assert f"Refreshing {feed.name} once; it stays paused." in page
    assert feed_server.hits == 1


def test_a_paused_feeds_refresh_now_is_tried_again_while_its_host_is_busy(
    app, client, carol, real_redis, local_feeds, feed_server
):
    """The periodic pass never takes a paused feed, so a refresh skipped as "host busy"
    was dropped while the flash said it was happening."""
    feed = make_feed(url=feed_server.url, status="paused")
    held = [refresh.acquire_slot("127.0.0.1") for _ in range(2)]  # two fetches running
    login(client, carol)

    refresh_now(client, feed)
    work_off(app, real_redis)
    job = Job.fetch(jobs.REFRESH_JOB_ID.format(feed.id), connection=real_redis)
    assert job.get_status() == JobStatus.SCHEDULED  # waits out RQ's retry, not dropped

    assert feed_server.hits == 0
    assert refresh.due_feed_ids() == []  # the periodic pass never takes a paused feed
    for slot in held:
        refresh.release_slot("127.0.0.1", slot)
    queue = get_queue("feeds")
    queue.scheduled_job_registry.remove(job)  # its retry is due: the scheduler queues it
    queue.enqueue_job(job)
    work_off(app, real_redis)
    assert feed_server.hits == 1


def test_an_active_feeds_refresh_now_on_a_busy_host_leaves_it_to_the_periodic_pass(
    app, client, carol, real_redis, local_feeds, feed_server
):
    feed = make_feed(url=feed_server.url)
    held = [refresh.acquire_slot("127.0.0.1") for _ in range(2)]
    login(client, carol)

    refresh_now(client, feed)
    work_off(app, real_redis)
    for slot in held:
        refresh.release_slot("127.0.0.1", slot)
    db.session.expire_all()
    db.session.get(Feed, feed.id).next_fetch_at = utcnow()  # its minute is up
    db.session.commit()

    assert jobs.refresh_due_feeds() == 1  # not blocked by a retry of the forced refresh
    work_off(app, real_redis)
    assert feed_server.hits == 1


def test_it_fetches_at_once_a_feed_whose_refresh_waits_out_a_retry(
    app, client, carol, real_redis, local_feeds, feed_server
):
    feed = make_feed(url=feed_server.url, next_fetch_at=utcnow() + timedelta(minutes=30))
    job_id = jobs.REFRESH_JOB_ID.format(feed.id)
    get_queue("feeds").enqueue_in(
        timedelta(minutes=30), "worker.jobs.refresh_feed", feed.id, job_id=job_id
    )
    login(client, carol)

    page = refresh_now(client, feed)
    work_off(app, real_redis)

    assert f"Refreshing {feed.name}." in page
    assert feed_server.hits == 1
    assert get_queue("feeds").scheduled_job_registry.count == 0


def test_it_says_a_refresh_already_running_is_running(
    app, client, carol, real_redis, processes, tmp_path
):
    feed = make_feed()
    job_id = jobs.REFRESH_JOB_ID.format(feed.id)
    log = tmp_path / "slow.txt"
    enqueue(f"{SAMPLE}.slow_append", str(log), 3.0, queue="feeds", job_id=job_id, unique=True)
    processes.append(start_flask(app, "worker", "--queues", "feeds"))
    wait_for(lambda: log.exists(), timeout=30)
    login(client, carol)

    page = refresh_now(client, feed)

    assert f"A refresh of {feed.name} is already running." in page
    assert "Refreshing" not in page
    assert Job.fetch(job_id, connection=real_redis).get_status() == JobStatus.STARTED


def test_a_refresh_queued_by_another_caller_meanwhile_is_never_deleted(
    app, real_redis, monkeypatch
):
    feed = make_feed(url="https://example.org/feed.xml")
    jobs.enqueue_refresh(feed.id)  # waiting, unforced
    take, takes = queues.take_waiting_job, []

    def take_then_another_caller_queues(job):
        taken = take(job)
        if not takes:  # once: the periodic pass, or a second click, gets in
            jobs.enqueue_refresh(feed.id)
        takes.append(taken)
        return taken

    monkeypatch.setattr(queues, "take_waiting_job", take_then_another_caller_queues)
    jobs.enqueue_refresh(feed.id, force=True)

    # One refresh waits, whoever queued it: none was deleted with nothing in its place.
    assert get_queue("feeds").job_ids == [jobs.REFRESH_JOB_ID.format(feed.id)]
