"""Periodic jobs: two schedulers running at once still queue each job once per period."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import fakeredis
import pytest
import redis
from rq.cron import CronJob, get_cron_job_ids
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry
from rq.scheduler import RQScheduler

from tests.worker.conftest import wait_for, work_off
from worker.queues import FAILURE_TTL, QUEUES, RESULT_TTL, get_queue
from worker.schedule import (
    SCHEDULE,
    SLOT_KEY,
    ClubCronScheduler,
    LocalScheduler,
    Periodic,
    last_runs,
)

EVERY_SECOND = "* * * * * *"  # croniter's sixth field is seconds


def fast_schedule() -> tuple[Periodic, ...]:
    """The real periodic jobs, every second instead of every minute/hour/day."""
    return tuple(replace(p, cron=EVERY_SECOND) for p in SCHEDULE)


def run_schedulers(connection_factory, count: int, until) -> list[ClubCronScheduler]:
    """Run ``count`` schedulers side by side until ``until()`` holds (fail after 20 s).

    Not for a fixed time: a 3.5 s window holds three or four whole seconds depending on
    where it starts, so a tick a moment late on a loaded machine lost the third period.
    """
    stop = threading.Event()
    schedulers = [
        ClubCronScheduler(connection_factory(), schedule=fast_schedule()) for _ in range(count)
    ]
    threads = [threading.Thread(target=s.run_until, args=(stop,)) for s in schedulers]
    for thread in threads:
        thread.start()
    try:
        wait_for(until, timeout=20)
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
    return schedulers


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.redis)])
def connection_factory(request):
    """New clients of one Redis: in-memory, or the real one in CI's second pass."""
    if request.param == "fake":
        server = fakeredis.FakeServer()
        return lambda: fakeredis.FakeRedis(server=server)
    url = request.getfixturevalue("real_redis_url")
    return lambda: redis.Redis.from_url(url)


def test_it_queues_each_periodic_job_once_per_period_with_two_schedulers(app, connection_factory):
    connection = connection_factory()

    def queued(periodic: Periodic) -> list[str]:
        return get_cron_job_ids(periodic.name, connection)

    run_schedulers(connection_factory, 2, until=lambda: all(len(queued(p)) >= 3 for p in SCHEDULE))
    work_off(app, connection)

    def claimed_periods(periodic: Periodic) -> set[int]:
        keys = connection.keys(SLOT_KEY.format(name=periodic.name, slot="*"))
        return {int(key.rsplit(b":", 1)[1]) for key in keys}

    for periodic in SCHEDULE:
        jobs = Job.fetch_many(queued(periodic), connection=connection)
        assert len(jobs) >= 3, periodic.name
        # One job per period claimed, counted by period, not by the second each job was
        # queued in: a late tick can queue one period's run in the next period's second.
        assert len(jobs) == len(claimed_periods(periodic)), f"{periodic.name} ran twice"
        assert {job.func_name for job in jobs} == {periodic.func}
        assert {job.get_status() for job in jobs} == {JobStatus.FINISHED}, periodic.name


def test_it_records_the_last_run_of_each_periodic_job(app, connection_factory):
    connection, everything = connection_factory(), {p.name for p in SCHEDULE}
    run_schedulers(connection_factory, 1, until=lambda: set(last_runs(connection)) == everything)

    runs = last_runs(connection)

    assert set(runs) == {p.name for p in SCHEDULE}
    assert all(Job.exists(run["job_id"], connection=connection_factory()) for run in runs.values())
    # Kept as long as any job's result, so the jobs page shows how the last run went.
    jobs = [Job.fetch(run["job_id"], connection=connection_factory()) for run in runs.values()]
    assert {(job.result_ttl, job.failure_ttl) for job in jobs} == {(RESULT_TTL, FAILURE_TTL)}


def test_it_keeps_scheduling_after_redis_drops_out(app, monkeypatch):
    monkeypatch.setattr("worker.schedule.RETRY_SECONDS", 0.2)
    server = fakeredis.FakeServer()
    scheduler = ClubCronScheduler(fakeredis.FakeRedis(server=server), schedule=fast_schedule())
    stop = threading.Event()
    thread = threading.Thread(target=scheduler.run_until, args=(stop,))
    thread.start()
    try:
        time.sleep(1.2)
        server.connected = False  # every command now fails as a refused connection does
        time.sleep(2)
        server.connected = True
        back = time.time()
        time.sleep(2.5)
        assert thread.is_alive()
    finally:
        stop.set()
        thread.join(10)
    runs = last_runs(fakeredis.FakeRedis(server=server))
    assert set(runs) == {p.name for p in SCHEDULE}
    assert all(datetime.fromisoformat(r["at"]).timestamp() > back for r in runs.values())


def test_a_period_whose_enqueue_failed_is_queued_on_the_next_tick(app, monkeypatch):
    # Redis failed after the claim and before the job was queued: no other scheduler
    # may take the period, so this one must, or a day's reconciliation is lost.
    connection = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    daily = tuple(p for p in SCHEDULE if p.name == "reconcile-billing")
    scheduler = ClubCronScheduler(connection, schedule=daily)
    scheduler.get_jobs()[0].next_enqueue_time = datetime.now(UTC) - timedelta(seconds=1)
    enqueue, calls = CronJob.enqueue, []

    def blip_once(self, redis_connection):
        calls.append(self.name)
        if len(calls) == 1:
            raise redis.exceptions.ConnectionError("Connection reset by peer")
        return enqueue(self, redis_connection)

    monkeypatch.setattr(CronJob, "enqueue", blip_once)
    scheduler.tick()
    scheduler.tick()
    scheduler.tick()

    assert calls == ["reconcile-billing", "reconcile-billing"]
    assert len(get_cron_job_ids("reconcile-billing", connection)) == 1


def test_a_period_is_queued_once_even_if_noting_its_run_fails(app, monkeypatch):
    connection = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    daily = tuple(p for p in SCHEDULE if p.name == "reconcile-billing")
    scheduler = ClubCronScheduler(connection, schedule=daily)
    scheduler.get_jobs()[0].next_enqueue_time = datetime.now(UTC) - timedelta(seconds=1)
    calls = []

    def blip_once(*args):
        calls.append(args)
        if len(calls) == 1:
            raise redis.exceptions.ConnectionError("Connection reset by peer")

    monkeypatch.setattr("worker.schedule.record_run", blip_once)
    scheduler.tick()
    scheduler.tick()

    assert len(get_cron_job_ids("reconcile-billing", connection)) == 1


def test_it_runs_periodic_jobs_inline_from_the_local_thread(app, no_redis, tmp_path):
    marker = tmp_path / "ticks.txt"
    tick = Periodic("tick", "tests.worker.sample_jobs.note_tick", "default", EVERY_SECOND, "")
    app.config["TICK_FILE"] = str(marker)
    local = LocalScheduler(app, schedule=(tick,))
    local.start()
    try:
        # Until the second run (not for 2.5 s, which holds two or three whole seconds).
        wait_for(lambda: marker.exists() and marker.read_text().count("tick") >= 2)
    finally:
        local.shutdown()

    assert marker.read_text().count("tick") >= 2
    assert "tick" in local.last_run


def test_it_never_starts_the_local_scheduler_in_tests(app, client, no_redis):
    client.get("/", environ_base={"SERVER_SOFTWARE": "Werkzeug/3.1"})

    assert "club_local_scheduler" not in app.extensions


def test_it_starts_the_local_scheduler_under_the_development_server(app, client, no_redis):
    app.testing = False
    try:
        client.get("/", environ_base={"SERVER_SOFTWARE": "Werkzeug/3.1"})
        local = app.extensions["club_local_scheduler"]
        assert local.thread.is_alive()
    finally:
        app.extensions["club_local_scheduler"].shutdown()


def test_it_leaves_periodic_jobs_to_the_worker_under_gunicorn(app, client, no_redis):
    app.testing = False
    client.get("/", environ_base={"SERVER_SOFTWARE": "gunicorn/23.0.0"})

    assert "club_local_scheduler" not in app.extensions


def test_it_queues_a_due_retry_when_no_rq_scheduler_is_alive(app, connection_factory):
    """RQ's scheduler process dies with a Redis blip and the worker restarts it only every
    ten minutes; the periodic scheduler queues due retries meanwhile."""
    connection = connection_factory()
    queue = get_queue("mail", app, connection)
    due = queue.enqueue_at(datetime.now(UTC) - timedelta(seconds=1), "worker.jobs.prune")
    later = queue.enqueue_at(datetime.now(UTC) + timedelta(hours=1), "worker.jobs.prune")

    ClubCronScheduler(connection_factory(), schedule=()).tick()

    assert queue.job_ids == [due.id]
    assert later.id in ScheduledJobRegistry(queue=queue).get_job_ids()


def test_it_leaves_retries_to_a_live_rq_scheduler(app, connection_factory):
    connection = connection_factory()
    queue = get_queue("mail", app, connection)
    due = queue.enqueue_at(datetime.now(UTC) - timedelta(seconds=1), "worker.jobs.prune")
    workers_scheduler = RQScheduler(QUEUES, connection=connection_factory())
    assert workers_scheduler.acquire_locks() == set(QUEUES)  # as a live one holds them

    ClubCronScheduler(connection_factory(), schedule=()).tick()

    assert queue.job_ids == []
    assert due.id in ScheduledJobRegistry(queue=queue).get_job_ids()
    workers_scheduler.release_locks()
