"""The one way the project runs work in the background.

``enqueue`` sends a job to RQ when ``REDIS_URL`` is set and runs it inline otherwise:
same function, same arguments, and in both cases the job runs in a fresh app context
(its own database session), exactly as it would on a worker. Jobs are named by dotted
path ("worker.jobs.send_mail") so callers need not import the job module. This module
imports no domain code.

Callers commit before they enqueue: a worker reads the database, not the caller's session.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
from flask import Flask, current_app
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from rq.results import Result

from club.clock import utcnow
from club.config import REDIS_TIMEOUTS
from worker.waiting import WAITING_STATUSES, is_lost, take_waiting_job

log = logging.getLogger(__name__)

QUEUES = ("feeds", "billing", "mail", "default")

# Fetches and mail meet flaky networks: three more tries, backing off 30 s, 5 min, 30 min.
# Billing events are re-fetched from Stripe, so retrying them is safe too.
DEFAULT_RETRY_INTERVALS = (30, 300, 1800)
RETRYING_QUEUES = frozenset({"feeds", "mail", "billing"})

# With Redis down, a confirmation mail or a Stripe event is better done now, in the
# request, than not at all; a feed refresh or a clean-up can wait for the periodic jobs.
INLINE_WHEN_DOWN_QUEUES = frozenset({"mail", "billing"})

# How long one run may take before RQ's death penalty stops it.
JOB_TIMEOUTS = {"feeds": 120, "mail": 60, "billing": 300, "default": 600}
RESULT_TTL = 24 * 60 * 60
FAILURE_TTL = 14 * 24 * 60 * 60
# Tries at queueing a unique job whose id a finished (or replaced) run still holds.
UNIQUE_TRIES = 2
# Failures of unique jobs queued again under the same id (a feed's next refresh, a Stripe
# event's next sweep), which would otherwise vanish from the jobs page with the old job.
REPLACED_FAILURES_KEY = "club:jobs:replaced-failures"
REPLACED_FAILURES_KEPT = 100

# A unique job whose last run is over may be queued again under the same id.
ACTIVE_STATUSES = frozenset(
    {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
)

# Every failure redis-py raises, not only a lost connection: a Redis that answers can
# still refuse to queue (READONLY, a former primary after a failover; OOM, full under
# noeviction; MISCONF, unable to save), and the job is not queued all the same.
REDIS_ERRORS = (redis.exceptions.RedisError,)


class QueueUnavailable(Exception):
    """Redis cannot be reached or refuses writes, so the job was not queued; the caller
    should say so."""

    message = (
        "Background jobs are unavailable right now (Redis cannot be reached or refuses writes)."
    )

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class JobHandle:
    """What ``enqueue`` did: the job's id, its status, and its result once it has run."""

    id: str | None
    status: str
    result: Any = None
    error: str | None = None

    @property
    def duplicate(self) -> bool:
        """Whether an identical unique job was already waiting, so nothing was queued."""
        return self.status == "duplicate"


def resolve(func: Callable[..., Any] | str) -> Callable[..., Any]:
    """Return the callable a dotted path names (or ``func`` itself)."""
    if callable(func):
        return func
    module_name, _, name = func.rpartition(".")
    return getattr(importlib.import_module(module_name), name)


def dotted_path(func: Callable[..., Any] | str) -> str:
    """Return ``func``'s dotted path, the name RQ stores."""
    if isinstance(func, str):
        return func
    return f"{func.__module__}.{func.__qualname__}"


def is_inline(app: Flask | None = None) -> bool:
    """Whether jobs run inline because no Redis is configured."""
    app = app or current_app
    return not app.config.get("REDIS_URL")


def enqueue(
    func: Callable[..., Any] | str,
    *args: Any,
    queue: str = "default",
    job_id: str | None = None,
    unique: bool = False,
    replace_waiting: bool = False,
    retry: Sequence[int] | bool | None = None,
    inline_if_unavailable: bool | None = None,
    **kwargs: Any,
) -> JobHandle:
    """Run ``func(*args, **kwargs)`` in the background, or inline without Redis.

    ``unique`` (with a stable ``job_id``) makes a second enqueue while the first is still
    waiting or running a quiet no-op; with ``replace_waiting`` too, one still waiting (queued,
    or scheduled for a retry) gives way to this one, queued now, so only a job already
    running makes it a duplicate. ``retry`` is ``None`` for the queue's default, ``False``
    for none, or the seconds to wait before each further try. With Redis down, a job runs
    here instead when ``inline_if_unavailable`` says so (default: mail and billing jobs do),
    and otherwise ``QueueUnavailable`` is raised for the caller to report.
    """
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    if unique and not job_id:
        raise ValueError("a unique job needs a stable job_id")
    app = current_app._get_current_object()
    if is_inline(app):
        return run_inline(app, func, args, kwargs, job_id=job_id, unique=unique)
    if redis_recently_failed(app):
        error: Exception = redis.exceptions.ConnectionError("it failed moments ago")
    else:
        try:
            return enqueue_on_rq(
                app, func, args, kwargs, queue, job_id, unique, retry, replace_waiting
            )
        except REDIS_ERRORS as failure:
            note_redis_failure(app)  # only a real failure starts the wait, or it never ends
            error = failure
    log.warning("could not queue %s on %s: %s", dotted_path(func), queue, error)
    if inline_if_unavailable is None:
        inline_if_unavailable = queue in INLINE_WHEN_DOWN_QUEUES
    if inline_if_unavailable:
        return run_inline(app, func, args, kwargs, job_id=job_id, unique=unique, hand_over_to=queue)
    raise QueueUnavailable() from error


# A Redis that hangs costs each call its socket timeout. After a failure this process
# stops asking for a few seconds, so one request finds out and the next ones do not wait.
REDIS_RETRY_SECONDS = 10.0


def redis_recently_failed(app: Flask) -> bool:
    """Whether queueing failed in this process less than ``REDIS_RETRY_SECONDS`` ago."""
    return time.monotonic() < app.extensions.get("club_redis_failed_until", 0.0)


def note_redis_failure(app: Flask) -> None:
    app.extensions["club_redis_failed_until"] = time.monotonic() + REDIS_RETRY_SECONDS


# --- RQ ----------------------------------------------------------------------------------


def redis_connection(app: Flask | None = None) -> redis.Redis:
    """Return the app's Redis client (short timeouts: a request must not hang on Redis)."""
    app = app or current_app
    connection = app.extensions.get("club_redis")
    if connection is None:
        connection = redis.Redis.from_url(app.config["REDIS_URL"], **REDIS_TIMEOUTS)
        app.extensions["club_redis"] = connection
    return connection


def get_queue(name: str, app: Flask | None = None, connection: redis.Redis | None = None) -> Queue:
    """Return the RQ queue ``name`` (synchronous when the config says ``RQ_ASYNC`` False)."""
    app = app or current_app
    return Queue(
        name,
        connection=connection or redis_connection(app),
        is_async=app.config.get("RQ_ASYNC", True),
        default_timeout=JOB_TIMEOUTS[name],
    )


def retry_policy(app: Flask, queue: str, retry: Sequence[int] | bool | None) -> Retry | None:
    """Return RQ's Retry for ``retry`` (see ``enqueue``), or None for a single try."""
    if retry is False or (retry is None and queue not in RETRYING_QUEUES):
        return None
    if retry is None or retry is True:
        retry = app.config.get("JOB_RETRY_INTERVALS") or DEFAULT_RETRY_INTERVALS
    intervals = [int(seconds) for seconds in retry]
    return Retry(max=len(intervals), interval=intervals) if intervals else None


def enqueue_on_rq(
    app: Flask,
    func: Callable[..., Any] | str,
    args: tuple,
    kwargs: dict[str, Any],
    queue_name: str,
    job_id: str | None,
    unique: bool,
    retry: Sequence[int] | bool | None,
    replace_waiting: bool = False,
) -> JobHandle:
    """Queue the job on RQ; a unique job already waiting or running is left alone (one
    still waiting is replaced instead, with ``replace_waiting``)."""
    queue = get_queue(queue_name, app)
    options = {
        "args": args,
        "kwargs": kwargs,
        "job_id": job_id,
        "retry": retry_policy(app, queue_name, retry),
        "result_ttl": RESULT_TTL,
        "failure_ttl": FAILURE_TTL,
        "description": describe(func, args),
    }
    hand_over_quietly(queue.connection)  # Redis answers again: report what failed meanwhile
    # A synchronous queue runs the job right here: give it its own app context and
    # database session, as a worker would.
    with app.app_context():
        if not unique:
            job = queue.enqueue(dotted_path(func), **options)
            index_mail(queue.connection, func, args, job.id)
            return handle_for(job)
        for attempt in range(UNIQUE_TRIES):
            try:
                return handle_for(queue.enqueue(dotted_path(func), unique=True, **options))
            except DuplicateJobError:
                # Clear only when another try follows: a job another caller queued since
                # the last clear must not be deleted with nothing queued in its place.
                last = attempt == UNIQUE_TRIES - 1
                if last or not clear_finished_job(queue, job_id, replace_waiting):
                    return JobHandle(id=job_id, status="duplicate")
    return JobHandle(id=job_id, status="duplicate")


def clear_finished_job(queue: Queue, job_id: str, replace_waiting: bool = False) -> bool:
    """Delete the unique job ``job_id`` if its run is over (or, with ``replace_waiting``,
    has not begun); return whether the id is free."""
    try:
        job = Job.fetch(job_id, connection=queue.connection)
    except NoSuchJobError:
        return True
    status = job.get_status(refresh=False)
    if status == JobStatus.STARTED:
        # A worker killed outright leaves its job "started" for good, and RQ's maintenance
        # looks for such jobs only every few minutes: the feed's refresh would be skipped
        # as "already running" meanwhile. Once its heartbeat has lapsed, retry or fail it.
        queue.started_job_registry.cleanup()
        status = job.get_status(refresh=True)
    if status in WAITING_STATUSES and is_lost(job):
        status = JobStatus.CANCELED  # nothing will ever run it: its id is free
    elif status in ACTIVE_STATUSES:
        return replace_waiting and take_waiting_job(job)
    if status == JobStatus.FAILED:
        remember_replaced_failure(queue, job)
    job.delete()
    return True


def remember_replaced_failure(queue: Queue, job: Job) -> None:
    """Keep a failed job's summary for the jobs page before its id is reused."""
    result = job.latest_result()
    last_line = "".join((result.exc_string or "").strip().splitlines()[-1:]) if result else ""
    log.warning("queuing %s again; its last run failed: %s", job.id, last_line)
    failed_at = job.ended_at or utcnow()
    entry = {
        "id": job.id,
        "queue": queue.name,
        "description": job.description,
        "error": last_line,
        "at": failed_at.isoformat(),
    }
    with queue.connection.pipeline() as pipe:
        pipe.lpush(REPLACED_FAILURES_KEY, json.dumps(entry))
        pipe.ltrim(REPLACED_FAILURES_KEY, 0, REPLACED_FAILURES_KEPT - 1)
        pipe.expire(REPLACED_FAILURES_KEY, FAILURE_TTL)
        pipe.execute()


def replaced_failures(connection: redis.Redis) -> list[dict]:
    """Return the remembered failures of jobs since queued again, newest first."""
    return [json.loads(raw) for raw in connection.lrange(REPLACED_FAILURES_KEY, 0, -1)]


def handle_for(job: Job) -> JobHandle:
    """Describe an RQ job as a JobHandle (with its result when it has already run)."""
    status = job.get_status(refresh=False)
    if status not in (JobStatus.FINISHED, JobStatus.FAILED):
        return JobHandle(id=job.id, status=str(status.value))
    result = job.latest_result()
    error = result.exc_string if result and status == JobStatus.FAILED else None
    return JobHandle(id=job.id, status=str(status.value), result=job.return_value(), error=error)


# A mail job's arguments are a member's address and the message (holding links): its
# description, which RQ logs as the job starts and the jobs page shows, names the subject.
MAIL_JOB = "worker.jobs.send_mail"


def describe(func: Callable[..., Any] | str, args: tuple) -> str:
    """Return a short human description of a call, for the jobs page and logs."""
    if dotted_path(func) == MAIL_JOB:
        return describe_mail(args)
    shown = ", ".join(repr(a) for a in args)
    if len(shown) > 120:
        shown = shown[:117] + "..."
    return f"{dotted_path(func).rpartition('.')[2]}({shown})"


def describe_mail(args: tuple) -> str:
    """Describe a ``send_mail(to, subject, body)`` job by its subject alone."""
    subject = args[1] if len(args) > 1 else ""
    return f"send_mail: {str(subject)[:80]!r} (recipient and text left out)"


# Mail jobs by recipient (a hash of the address), so an account's mail can be found
# without reading every job Redis holds. Kept longer than RQ keeps a failed job, which
# it counts from the last failure: its retries end up to an hour after it was queued,
# and a requeue from the jobs page notes the job again (``index_mail``), renewing this.
MAIL_INDEX_PREFIX = "club:mail-to:"
MAIL_INDEX_TTL = FAILURE_TTL + 24 * 60 * 60


def mail_index_key(address: str) -> str:
    return MAIL_INDEX_PREFIX + hashlib.sha256(_as_compared(address).encode()).hexdigest()


def _as_compared(address: Any) -> str:
    """An address as mail jobs are matched by: one mailbox, however its case is written."""
    return str(address).strip().lower()


def index_mail(
    connection: redis.Redis, func: Callable[..., Any] | str, args: tuple, job_id: str
) -> None:
    """Note ``job_id`` under its recipient when it is a mail job."""
    if dotted_path(func) != MAIL_JOB or not args:
        return
    key = mail_index_key(str(args[0]))
    try:
        with connection.pipeline() as pipe:
            pipe.sadd(key, job_id)
            pipe.expire(key, MAIL_INDEX_TTL)
            pipe.execute()
    except REDIS_ERRORS as error:
        # The mail is queued: failing here would have the caller send it again inline.
        log.warning("could not index a queued mail by its recipient: %s", error)


def forget_mail_to(address: str | None) -> int:
    """Delete the mail jobs to ``address`` that Redis still holds (waiting, waiting for
    a retry, finished or failed); return how many.

    For an account just deleted: it is mailed nothing more, and its address and the words
    of its mail do not stay on the jobs page for the days RQ keeps jobs. A mail being sent
    this moment goes. Inline, nothing is held (a failure kept in memory names no one).
    """
    if is_inline() or not address:
        return 0
    connection = redis_connection()
    key, wanted = mail_index_key(address), _as_compared(address)
    try:
        ids = sorted(i.decode() for i in connection.smembers(key))
        deleted = 0
        for job in Job.fetch_many(ids, connection=connection):
            if (
                job is not None
                and job.func_name == MAIL_JOB
                and _as_compared(_first_arg(job)) == wanted
            ):
                job.delete()
                deleted += 1
        connection.delete(key)
    except REDIS_ERRORS as error:
        # Not sent all the same (the account's mail stop), but its words stay in Redis.
        log.warning("could not forget queued mail of a deleted account: %s", error)
        return 0
    return deleted


def _first_arg(job: Job) -> Any:
    return job.args[0] if job.args else None


# --- Inline ------------------------------------------------------------------------------


@dataclass(frozen=True)
class InlineFailure:
    """A job that failed while running inline, kept in memory for the jobs page."""

    description: str
    error: str
    at: datetime


@dataclass(frozen=True)
class FailedWhileDown:
    """A job that ran inline because Redis was down, and failed: RQ's to report, once back."""

    func: str
    args: tuple
    kwargs: dict
    queue: str
    description: str
    error: str
    at: datetime


_running_inline: set[str] = set()
_running_lock = threading.Lock()
recent_inline_failures: deque[InlineFailure] = deque(maxlen=50)
failed_while_down: deque[FailedWhileDown] = deque(maxlen=200)


def run_inline(
    app: Flask,
    func: Callable[..., Any] | str,
    args: tuple,
    kwargs: dict[str, Any],
    *,
    job_id: str | None,
    unique: bool,
    hand_over_to: str | None = None,
) -> JobHandle:
    """Run the job now in its own app context; a failure is logged, never raised.

    ``hand_over_to`` names the queue the job was meant for when it runs here only because
    Redis is down: if it fails, it is kept to be listed among that queue's failed jobs
    once Redis answers again, where an admin can queue it again.
    """
    if unique and not claim_inline(job_id):
        return JobHandle(id=job_id, status="duplicate")
    try:
        with app.app_context():
            result = resolve(func)(*args, **kwargs)
    except Exception as error:
        description = describe(func, args)
        log.exception("job %s failed", description)
        recent_inline_failures.appendleft(InlineFailure(description, repr(error), utcnow()))
        if hand_over_to is not None:
            failed_while_down.append(
                FailedWhileDown(
                    dotted_path(func),
                    tuple(args),
                    dict(kwargs),
                    hand_over_to,
                    description,
                    traceback.format_exc(),
                    utcnow(),
                )
            )
        return JobHandle(id=job_id, status="failed", error=repr(error))
    finally:
        if unique:
            release_inline(job_id)
    return JobHandle(id=job_id, status="finished", result=result)


def hand_over_failures(connection: redis.Redis) -> int:
    """List the jobs that failed inline while Redis was down among their queue's failed
    jobs (the jobs page shows them; Requeue runs them again); return how many.

    Each web process keeps its own, and hands them over the next time it reaches Redis.
    """
    handed = 0
    while failed_while_down:
        failure = failed_while_down.popleft()
        try:
            record_failed_job(connection, failure)
        except REDIS_ERRORS:
            failed_while_down.appendleft(failure)  # down again: the next success tries
            raise
        handed += 1
    return handed


def hand_over_quietly(connection: redis.Redis) -> None:
    """``hand_over_failures``, never in the way of the job being queued now."""
    try:
        hand_over_failures(connection)
    except REDIS_ERRORS:
        raise
    except Exception:
        log.exception("could not list the jobs that failed while Redis was down")


def record_failed_job(connection: redis.Redis, failure: FailedWhileDown) -> Job:
    """Store ``failure`` as an RQ job that failed on its queue."""
    queue = Queue(failure.queue, connection=connection)
    # Kept FAILURE_TTL from when it ran, as a job failing on a worker is, however late the
    # hand-over: within that, a mail to an account deleted since stays stopped.
    ttl = max(int(FAILURE_TTL - (utcnow() - failure.at).total_seconds()), 60)
    job = Job.create(
        failure.func,
        args=failure.args,
        kwargs=failure.kwargs,
        connection=connection,
        description=f"{failure.description} (run in the web process while Redis was down)",
        origin=queue.name,
        result_ttl=RESULT_TTL,
        failure_ttl=ttl,
    )
    # Made when it ran, not now: a mail to an account deleted since must stay unsent.
    job.created_at = job.started_at = job.ended_at = failure.at
    with connection.pipeline() as pipe:
        job.set_status(JobStatus.FAILED, pipeline=pipe)
        queue.failed_job_registry.add(job, ttl=ttl, exc_string=failure.error, pipeline=pipe)
        Result.create_failure(job, ttl, failure.error, pipeline=pipe)
        pipe.execute()
    index_mail(connection, failure.func, failure.args, job.id)
    return job


def claim_inline(job_id: str) -> bool:
    """Mark ``job_id`` as running in this process; False if it already is."""
    with _running_lock:
        if job_id in _running_inline:
            return False
        _running_inline.add(job_id)
        return True


def release_inline(job_id: str) -> None:
    """Forget that ``job_id`` is running."""
    with _running_lock:
        _running_inline.discard(job_id)
