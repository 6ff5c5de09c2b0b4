"""enqueue: inline without Redis, RQ with it, unique jobs, retries and Redis outages."""

from __future__ import annotations

import email
import logging
import time
from collections import deque
from datetime import timedelta
from pathlib import Path

import fakeredis
import pytest
import sqlalchemy as sa
from rq.job import Job, JobStatus

from club.clock import utcnow
from club.extensions import db
from tests.conftest import login, read_outbox
from tests.worker.conftest import free_port, use_redis, work_off
from worker import queues, waiting
from worker.queues import QueueUnavailable, enqueue, get_queue

SAMPLE = "tests.worker.sample_jobs"


def mail_outcome(outbox: Path) -> list[tuple[str, str, str]]:
    """Return (to, subject, body) of every message in the outbox."""
    messages = [email.message_from_string(text) for text in read_outbox(outbox)]
    return [(m["To"], m["Subject"], m.get_payload().strip()) for m in messages]


def test_it_runs_a_job_inline_without_redis(app, no_redis, outbox):
    handle = enqueue("worker.jobs.send_mail", "a@example.com", "Hi", "Body", queue="mail")

    assert handle.status == "finished"
    assert mail_outcome(outbox) == [("a@example.com", "Hi", "Body")]


def test_it_gives_the_same_outcome_inline_and_on_rq(app, outbox, fake_redis):
    enqueue("worker.jobs.send_mail", "a@example.com", "Hi", "Body", queue="mail")
    work_off(app, fake_redis)
    on_rq = mail_outcome(outbox)
    for message in outbox.glob("*.eml"):
        message.unlink()

    app.config["REDIS_URL"] = None
    enqueue("worker.jobs.send_mail", "a@example.com", "Hi", "Body", queue="mail")

    assert on_rq == mail_outcome(outbox) == [("a@example.com", "Hi", "Body")]


def test_it_runs_rq_jobs_in_their_own_app_context(app, fake_redis, tmp_path):
    marker = tmp_path / "context.txt"
    enqueue(f"{SAMPLE}.describe_context", str(marker))
    work_off(app, fake_redis)

    assert marker.read_text() == f"{app.name} 1"


def test_it_runs_synchronously_through_redis_when_rq_async_is_off(app, fake_redis, tmp_path):
    app.config["RQ_ASYNC"] = False
    handle = enqueue(f"{SAMPLE}.append_line", str(tmp_path / "out.txt"), "hello")

    assert handle.status == "finished"
    assert handle.result == "hello"
    assert Job.fetch(handle.id, connection=fake_redis).get_status() == JobStatus.FINISHED


def test_it_refuses_an_unknown_queue(app):
    with pytest.raises(ValueError, match="unknown queue"):
        enqueue("worker.jobs.send_mail", "a@example.com", "s", "b", queue="urgent")


def test_it_queues_a_unique_job_only_once(app, fake_redis, tmp_path):
    path = str(tmp_path / "out.txt")
    first = enqueue(f"{SAMPLE}.append_line", path, "x", job_id="refresh-feed-7", unique=True)
    second = enqueue(f"{SAMPLE}.append_line", path, "x", job_id="refresh-feed-7", unique=True)

    assert not first.duplicate
    assert second.duplicate
    assert get_queue("default").count == 1


def test_it_queues_a_unique_job_again_once_the_first_has_run(app, fake_redis, tmp_path):
    path = tmp_path / "out.txt"
    enqueue(f"{SAMPLE}.append_line", str(path), "one", job_id="refresh-feed-7", unique=True)
    work_off(app, fake_redis)
    again = enqueue(f"{SAMPLE}.append_line", str(path), "two", job_id="refresh-feed-7", unique=True)
    work_off(app, fake_redis)

    assert not again.duplicate
    assert path.read_text() == "one\ntwo\n"


def test_a_waiting_job_given_way_leaves_nothing_behind(app, fake_redis, tmp_path):
    """Taken off its queue and deleted in one step: a job left "queued" on no queue would
    make every later refresh of its feed a duplicate, for good."""
    path = tmp_path / "out.txt"
    first = enqueue(f"{SAMPLE}.append_line", str(path), "one", job_id="refresh-feed-7", unique=True)
    fake_redis.lrem(get_queue("default").key, 0, first.id)  # a worker has just taken it
    again = enqueue(
        f"{SAMPLE}.append_line", str(path), "two", job_id="refresh-feed-7", unique=True,
        replace_waiting=True,
    )  # fmt: skip
    assert again.duplicate  # the run starting now is not deleted under the worker

    fake_redis.lpush(get_queue("default").key, first.id)  # still waiting, after all
    again = enqueue(
        f"{SAMPLE}.append_line", str(path), "two", job_id="refresh-feed-7", unique=True,
        replace_waiting=True,
    )  # fmt: skip
    work_off(app, fake_redis)
    assert not again.duplicate
    assert path.read_text() == "two\n"


def test_a_job_a_worker_took_and_lost_frees_its_id_a_minute_after_it_is_seen(
    app, fake_redis, tmp_path
):
    """A worker that dies, or loses its connection, between taking a job off its queue and
    starting it leaves the job "queued" on no queue: a feed's refresh, or a Stripe event,
    would be a duplicate for good."""
    path = tmp_path / "out.txt"
    first = enqueue(f"{SAMPLE}.append_line", str(path), "one", job_id="refresh-feed-7", unique=True)
    job = Job.fetch(first.id, connection=fake_redis)
    job.enqueued_at = utcnow() - timedelta(hours=1)  # it waited long before it was taken
    job.save()
    fake_redis.lpop(get_queue("default").key)  # taken this instant, not started yet
    assert enqueue(f"{SAMPLE}.append_line", str(path), "x", job_id=first.id, unique=True).duplicate

    (seen,) = fake_redis.keys(f"{waiting.LOST_SIGHTING_PREFIX}*")
    # A member's reconcile is queued again a day later: the first sighting must last.
    assert fake_redis.ttl(seen) > 2 * 24 * 3600
    fake_redis.set(seen, time.time() - 24 * 3600, keepttl=True)  # still on no list
    again = enqueue(f"{SAMPLE}.append_line", str(path), "two", job_id=first.id, unique=True)
    work_off(app, fake_redis)
    assert not again.duplicate
    assert path.read_text() == "two\n"


def test_a_waiting_job_is_still_a_duplicate(app, fake_redis, tmp_path):
    queue = get_queue("default")
    queue.enqueue_in(
        timedelta(minutes=5), f"{SAMPLE}.append_line", str(tmp_path / "o"), "x", job_id="j-1"
    )
    again = enqueue(f"{SAMPLE}.append_line", str(tmp_path / "o"), "y", job_id="j-1", unique=True)
    assert again.duplicate


def leave_started_by_a_dead_worker(job_id: str, connection, heartbeat_lapsed: bool) -> None:
    """What a worker killed outright (SIGKILL, the machine lost) leaves of its job: taken
    off the queue, "started", its entry in the started registry no longer renewed."""
    queue = get_queue("default")
    connection.lrem(queue.key, 0, job_id)
    Job.fetch(job_id, connection=connection).set_status(JobStatus.STARTED)
    expires = time.time() + (-1 if heartbeat_lapsed else 60)
    connection.zadd(queue.started_job_registry.key, {f"{job_id}:execution": expires})


def test_a_unique_job_whose_worker_died_is_queued_again_once_its_heartbeat_lapses(
    app, fake_redis, tmp_path
):
    path = tmp_path / "out.txt"
    first = enqueue(
        f"{SAMPLE}.append_line",
        str(path),
        "lost",
        job_id="refresh-feed-7",
        unique=True,
        retry=False,
    )
    leave_started_by_a_dead_worker(first.id, fake_redis, heartbeat_lapsed=True)

    again = enqueue(
        f"{SAMPLE}.append_line", str(path), "run", job_id="refresh-feed-7", unique=True, retry=False
    )
    work_off(app, fake_redis)

    assert not again.duplicate
    assert path.read_text() == "run\n"


def test_a_unique_job_still_running_is_not_queued_twice(app, fake_redis, tmp_path):
    path = str(tmp_path / "out.txt")
    first = enqueue(f"{SAMPLE}.append_line", path, "x", job_id="refresh-feed-7", unique=True)
    leave_started_by_a_dead_worker(first.id, fake_redis, heartbeat_lapsed=False)

    again = enqueue(f"{SAMPLE}.append_line", path, "x", job_id="refresh-feed-7", unique=True)

    assert again.duplicate
    assert Job.fetch(first.id, connection=fake_redis).get_status() == JobStatus.STARTED


def test_it_skips_a_unique_job_already_running_inline(app, no_redis, tmp_path):
    from worker import queues

    queues.claim_inline("refresh-feed-9")
    try:
        handle = enqueue(
            f"{SAMPLE}.append_line", str(tmp_path / "o"), "x", job_id="refresh-feed-9", unique=True
        )
    finally:
        queues.release_inline("refresh-feed-9")

    assert handle.duplicate
    assert not (tmp_path / "o").exists()


def test_it_retries_a_failing_mail_job_after_thirty_seconds(app, fake_redis):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    handle = enqueue("worker.jobs.send_mail", "a@example.com", "s", "b", queue="mail")
    work_off(app, fake_redis)

    job = Job.fetch(handle.id, connection=fake_redis)
    registry = get_queue("mail").scheduled_job_registry
    retry_at = registry.get_scheduled_time(job)
    assert job.get_status() == JobStatus.SCHEDULED
    assert job.retries_left == 2
    assert timedelta(seconds=25) < retry_at - utcnow() <= timedelta(seconds=30)


def test_it_tries_a_failing_job_four_times_then_keeps_it_failed(app, fake_redis, tmp_path):
    app.config["JOB_RETRY_INTERVALS"] = (0, 0, 0)
    tries = tmp_path / "tries.txt"
    handle = enqueue(f"{SAMPLE}.fail_transiently", str(tries), queue="feeds")
    work_off(app, fake_redis)

    job = Job.fetch(handle.id, connection=fake_redis)
    assert tries.read_text().count("try") == 4
    assert job.get_status() == JobStatus.FAILED
    assert job.id in get_queue("feeds").failed_job_registry.get_job_ids()


def test_it_does_not_retry_a_permanent_error(app, fake_redis):
    handle = enqueue(f"{SAMPLE}.fail_permanently", queue="feeds")
    work_off(app, fake_redis)

    job = Job.fetch(handle.id, connection=fake_redis)
    assert job.get_status() == JobStatus.FAILED
    assert "404 Not Found" in job.latest_result().exc_string
    assert get_queue("feeds").scheduled_job_registry.count == 0


def test_it_raises_queue_unavailable_for_a_refresh_when_redis_is_down(app, redis_down):
    with pytest.raises(QueueUnavailable, match="Redis cannot be reached"):
        enqueue("worker.jobs.refresh_feed", 1, queue="feeds")


def test_it_sends_mail_inline_when_redis_is_down(app, redis_down, outbox):
    handle = enqueue("worker.jobs.send_mail", "a@example.com", "s", "b", queue="mail")

    assert handle.status == "finished"
    assert len(read_outbox(outbox)) == 1


def test_it_asks_redis_again_once_its_failure_is_some_seconds_old(
    app, fake_redis, outbox, monkeypatch
):
    clock = {"now": 1000.0}
    monkeypatch.setattr(queues.time, "monotonic", lambda: clock["now"])
    queues.note_redis_failure(app)

    clock["now"] += queues.REDIS_RETRY_SECONDS - 1
    meanwhile = enqueue("worker.jobs.send_mail", "a@example.com", "s", "b", queue="mail")
    assert meanwhile.status == "finished"  # sent inline: Redis failed moments ago

    # Counted from the failure, not from the jobs sent inline since.
    clock["now"] += 2
    queued = enqueue("worker.jobs.send_mail", "b@example.com", "s", "b", queue="mail")

    assert queued.status == "queued"
    assert len(read_outbox(outbox)) == 1


def test_it_runs_any_job_inline_when_asked_and_redis_is_down(app, redis_down, tmp_path):
    path = tmp_path / "out.txt"
    handle = enqueue(f"{SAMPLE}.append_line", str(path), "x", inline_if_unavailable=True)

    assert handle.status == "finished"
    assert path.read_text() == "x\n"


def test_it_keeps_an_inline_failure_visible_without_raising(app, no_redis):
    from worker.queues import recent_inline_failures

    handle = enqueue(f"{SAMPLE}.fail_permanently")

    assert handle.status == "failed"
    assert "404 Not Found" in handle.error
    assert recent_inline_failures[0].description == "fail_permanently()"
    assert recent_inline_failures[0].at > utcnow() - timedelta(minutes=1)


def test_a_job_that_failed_inline_while_redis_was_down_is_listed_once_it_is_back(
    app, client, carol, redis_down, tmp_path
):
    # A mail or billing job runs in the web process while Redis is down, and is tried once:
    # its failure must reach the jobs page, where it can be queued again.
    tries = tmp_path / "tries.txt"
    assert enqueue(f"{SAMPLE}.fail_transiently", str(tries), queue="mail").status == "failed"
    connection = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    use_redis(app, connection, "redis://fake.invalid:6379/0", is_async=True)
    app.extensions.pop("club_redis_failed_until", None)
    login(client, carol)

    html = client.get("/admin/jobs/").get_data(as_text=True)

    assert "fail_transiently(" in html and "while Redis was down" in html
    assert "connection reset" in html
    [job_id] = get_queue("mail", app, connection).failed_job_registry.get_job_ids()
    client.submit(f"/admin/jobs/{job_id}/requeue")
    work_off(app, connection)
    assert tries.read_text() == "try\ntry\n"  # the web process's try, then the worker's
    assert "fail_transiently(" in client.get("/admin/jobs/").get_data(as_text=True)


def test_a_job_that_failed_inline_is_handed_over_by_the_next_job_queued(app, redis_down):
    enqueue(f"{SAMPLE}.fail_permanently", queue="billing")
    connection = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    use_redis(app, connection, "redis://fake.invalid:6379/0", is_async=True)
    app.extensions.pop("club_redis_failed_until", None)

    enqueue("worker.jobs.send_mail", "a@example.com", "s", "b", queue="mail")

    failed = get_queue("billing", app, connection).failed_job_registry
    [job] = Job.fetch_many(failed.get_job_ids(), connection=connection)
    assert job.func_name == f"{SAMPLE}.fail_permanently"
    assert "404 Not Found" in job.latest_result().exc_string
    assert queues.failed_while_down == deque()


def ingested(feed_id: int) -> list[tuple[str, str]]:
    """Return (title, status) of every article stored for the feed, read fresh."""
    from articles.models import Article

    db.session.rollback()
    rows = db.session.execute(
        sa.select(Article.title, Article.status).where(Article.feed_id == feed_id)
    )
    return sorted(tuple(row) for row in rows)


def test_it_refreshes_a_feed_the_same_way_inline_and_on_rq(app, fake_redis):
    from tests.conftest import make_feed
    from tests.worker.conftest import FeedServer, rss_document
    from worker.jobs import enqueue_refresh

    app.config["FEEDS_ALLOW_PRIVATE_NETWORKS"] = True
    servers = [FeedServer(rss_document(5, prefix=mode)) for mode in ("rq", "inline")]
    try:
        on_rq, inline = (make_feed(url=s.url, auto_publish=True) for s in servers)
        queued = enqueue_refresh(on_rq.id)
        work_off(app, fake_redis)
        app.config["REDIS_URL"] = None
        ran_inline = enqueue_refresh(inline.id)
    finally:
        for server in servers:
            server.close()

    assert Job.fetch(queued.id, connection=fake_redis).return_value() == ran_inline.result
    assert ingested(on_rq.id) == ingested(inline.id)
    assert len(ingested(inline.id)) == 5


def test_a_mail_job_keeps_the_members_address_and_text_out_of_the_log(
    app, fake_redis, outbox, caplog
):
    # RQ logs each job it starts by its description ("mail: <description>").
    with caplog.at_level(logging.INFO):
        enqueue("worker.jobs.send_mail", "opnew@example.org", "Confirm", "Hello, Ann", queue="mail")
        work_off(app, fake_redis)

    assert mail_outcome(outbox) == [("opnew@example.org", "Confirm", "Hello, Ann")]
    # Not club.mail: the local fallback's copy of the message is how developers read it.
    queue_log = "\n".join(
        record.getMessage() for record in caplog.records if record.name.startswith(("rq", "worker"))
    )
    assert "mail: send_mail: 'Confirm' (recipient and text left out)" in queue_log
    assert "opnew@example.org" not in queue_log and "Hello, Ann" not in queue_log


def test_a_failed_inline_mail_job_is_logged_without_the_address(app, no_redis, caplog):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    with caplog.at_level(logging.INFO):
        enqueue("worker.jobs.send_mail", "x@example.org", "Reset", "Hello, Bo", queue="mail")

    messages = [record.getMessage() for record in caplog.records]
    assert "job send_mail: 'Reset' (recipient and text left out) failed" in messages
    assert not [m for m in messages if "x@example.org" in m or "Hello, Bo" in m]
