"""Periodic work: what runs when, and how exactly one scheduler acts per period.

The schedule is RQ's own cron (``rq.cron.CronScheduler``) with one change: before a
scheduler enqueues a due job it claims that job's time slot in Redis with ``SET NX``.
Cron slots are wall-clock times (12:05:00), the same in every process, so however many
schedulers run — one per worker started with ``--with-scheduler``, say — exactly one
claims each slot and enqueues; the others only move on to the next slot. No leader to
elect and none to lose: if a scheduler dies, the next tick of any other one acts.

Without Redis, ``LocalScheduler`` runs the same jobs inline from a daemon thread of the
development server.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime

import redis
from croniter import croniter
from flask import Flask
from rq.cron import CronJob, CronScheduler
from rq.scheduler import RQScheduler

from club.clock import utcnow
from worker.queues import FAILURE_TTL, JOB_TIMEOUTS, QUEUES, RESULT_TTL, enqueue, resolve

log = logging.getLogger(__name__)

LAST_RUN_KEY = "club:periodic:last-run"
SLOT_KEY = "club:periodic:slot:{name}:{slot}"
RETRY_SECONDS = 5.0  # after a failed tick


@dataclass(frozen=True)
class Periodic:
    """One periodic job: a job function, its queue and its cron schedule."""

    name: str
    func: str
    queue: str
    cron: str
    description: str


SCHEDULE = (
    Periodic(
        "refresh-due-feeds",
        "worker.jobs.refresh_due_feeds",
        "feeds",
        "* * * * *",
        "Every minute: queue a refresh for each feed that is due",
    ),
    Periodic(
        "sweep-stripe-events",
        "worker.jobs.sweep_stripe_events",
        "billing",
        "*/5 * * * *",
        "Every 5 minutes: process stored Stripe events whose job was lost",
    ),
    Periodic(
        "prune",
        "worker.jobs.prune",
        "default",
        "7 * * * *",
        "Hourly: delete old webhook events, expired tokens and unconfirmed accounts",
    ),
    Periodic(
        "reconcile-billing",
        "worker.jobs.reconcile_billing",
        "billing",
        "17 3 * * *",
        "Daily at 03:17: reconcile subscriptions with Stripe",
    ),
)


def slot_seconds(cron: str, slot: datetime) -> float:
    """Return the length of the cron period that starts at ``slot``."""
    following = croniter(cron, slot).get_next(datetime)
    return (following - slot).total_seconds()


def claim_slot(connection: redis.Redis, name: str, slot: datetime, owner: str, cron: str) -> bool:
    """Claim the run of ``name`` at ``slot``; only the first claimant in any process wins.

    The claimant itself may claim again: if Redis failed between its claim and the
    enqueue, its next tick must queue the run, or the period (a whole day's
    reconciliation) would be lost with nobody left to queue it.
    """
    ttl = max(120, int(2 * slot_seconds(cron, slot)))
    key = SLOT_KEY.format(name=name, slot=int(slot.timestamp()))
    if connection.set(key, owner, nx=True, ex=ttl):
        return True
    return connection.get(key) == owner.encode()


def record_run(connection: redis.Redis, name: str, at: datetime, job_id: str) -> None:
    """Remember when ``name`` was last queued, and as which job, for the jobs page."""
    connection.hset(LAST_RUN_KEY, name, json.dumps({"at": at.isoformat(), "job_id": job_id}))


def last_runs(connection: redis.Redis) -> dict[str, dict]:
    """Return ``{name: {"at": iso time, "job_id": id}}`` for every periodic job that ran."""
    raw = connection.hgetall(LAST_RUN_KEY)
    return {key.decode(): json.loads(value) for key, value in raw.items()}


class ClubCronScheduler(CronScheduler):
    """RQ's cron scheduler, made safe to run more than once (see the module docstring)."""

    def __init__(self, connection: redis.Redis, schedule=SCHEDULE, **kwargs) -> None:
        super().__init__(connection=connection, **kwargs)
        # WARNING: RQ logs "Acquired scheduler lock" at INFO, which here is every tick.
        self.retries = RQScheduler(
            QUEUES, connection=connection, name=f"{self.name}-retries", logging_level="WARNING"
        )
        for periodic in schedule:
            self.register(
                resolve(periodic.func),
                periodic.queue,
                cron=periodic.cron,
                name=periodic.name,
                job_timeout=JOB_TIMEOUTS[periodic.queue],
                # As every other job: the jobs page shows the last runs, not "expired".
                result_ttl=RESULT_TTL,
                failure_ttl=FAILURE_TTL,
            )

    def enqueue_jobs(self) -> list[CronJob]:
        """Enqueue each due job whose slot this scheduler claims; skip the rest."""
        tick = utcnow()
        enqueued: list[CronJob] = []
        for cron_job in self.get_jobs():
            if not cron_job.should_run():
                continue
            slot = cron_job.next_enqueue_time or tick
            if claim_slot(self.connection, cron_job.name, slot, self.name, cron_job.cron):
                job = cron_job.enqueue(self.connection)
                # Queued: whatever fails next, this scheduler must not queue the period again.
                cron_job.set_enqueue_time(tick)
                enqueued.append(cron_job)
                record_run(self.connection, cron_job.name, tick, job.id)
            else:
                log.debug("%s at %s was queued by another scheduler", cron_job.name, slot)
                cron_job.set_enqueue_time(tick)
        return enqueued

    def enqueue_due_retries(self) -> None:
        """Queue the retries and delayed jobs that are due, for queues no RQ scheduler holds.

        RQ's own scheduler runs in a process of the worker's that dies with a Redis blip,
        and the worker restarts it only every ten minutes: retries due at 30 s would wait
        that long. RQ's per-queue locks keep the two from both queueing a job; while the
        worker's scheduler lives it holds them and this does nothing.
        """
        if self.retries.acquire_locks():
            try:
                self.retries.enqueue_scheduled_jobs()
            finally:
                self.retries.release_locks()

    def run_until(self, stop: threading.Event, parent_pid: int | None = None) -> None:
        """Tick until ``stop`` is set (or the parent process is gone)."""
        self.register_birth()
        try:
            while not stop.is_set():
                if parent_pid is not None and os.getppid() != parent_pid:
                    log.info("scheduler %s: parent %s exited, stopping", self.name, parent_pid)
                    break
                stop.wait(self.tick())
        finally:
            with contextlib.suppress(redis.RedisError):
                self.register_death()

    def tick(self) -> float:
        """Queue what is due and send a heartbeat; return the seconds to sleep.

        A failed tick (Redis restarting, a failover) is logged and tried again: nothing
        restarts this loop, so dying of a blip would stop every periodic job for good
        while the worker beside it looks healthy. The heartbeat re-registers afterwards.
        """
        try:
            if self.enqueue_jobs():
                self.save()
            self.enqueue_due_retries()
            self.heartbeat()
        except Exception:
            log.exception("scheduler %s: tick failed; trying again shortly", self.name)
            return RETRY_SECONDS
        return min(self.calculate_sleep_interval(), 5) or 0.05


class LocalScheduler:
    """Runs the periodic jobs inline from a daemon thread when no Redis is configured.

    Only the development server starts it (``flask run``), so tests and gunicorn never
    do; requests are not blocked because the thread does the work. Feeds are refreshed
    once at start-up, then everything follows ``SCHEDULE``.
    """

    def __init__(self, app: Flask, schedule=SCHEDULE) -> None:
        self.app = app
        self.schedule = tuple(schedule)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, name="club-local-scheduler", daemon=True)
        self.last_run: dict[str, datetime] = {}
        now = utcnow()
        self.due = {p.name: next_run(p, now) for p in self.schedule}
        if "refresh-due-feeds" in self.due:
            self.due["refresh-due-feeds"] = now

    def start(self) -> LocalScheduler:
        """Start the thread."""
        log.info("no REDIS_URL: periodic jobs run inline in this process (feeds every minute)")
        self.thread.start()
        return self

    def loop(self) -> None:
        """Run whatever is due, then sleep until the next job is (at most 30 s)."""
        while not self.stop.is_set():
            self.tick()
            wait = (min(self.due.values()) - utcnow()).total_seconds()
            self.stop.wait(min(max(wait, 0.05), 30))

    def tick(self) -> None:
        """Run every periodic job that is due, inline; a failure is logged by ``enqueue``."""
        now = utcnow()
        for periodic in self.schedule:
            if self.due[periodic.name] > now:
                continue
            with self.app.app_context():
                handle = enqueue(periodic.func, queue=periodic.queue)
            log.info("%s: %s (%r)", periodic.name, handle.status, handle.result)
            self.last_run[periodic.name] = now
            self.due[periodic.name] = next_run(periodic, now)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop the thread."""
        self.stop.set()
        self.thread.join(timeout)


def next_run(periodic: Periodic, after: datetime | None = None) -> datetime:
    """Return when ``periodic`` next runs after ``after`` (now by default)."""
    base = after or utcnow()
    return croniter(periodic.cron, base).get_next(datetime)
