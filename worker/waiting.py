"""Jobs that say they wait: telling one a worker took and lost, and taking one off.

A unique job's id (a feed's refresh, a Stripe event) stays taken while its job waits, so
a job that waits on none of RQ's lists, or one taken off its queue but not deleted, would
keep every later one out for good. ``worker.queues`` asks these before reusing an id.
"""

from __future__ import annotations

import time
from datetime import timedelta

from rq import Queue
from rq.job import Job, JobStatus
from rq.results import Result

from club.clock import utcnow

WAITING_STATUSES = frozenset({JobStatus.QUEUED, JobStatus.SCHEDULED})
# Seen on none of RQ's lists twice, this far apart: a worker marks a job it has taken
# "started" within moments (RQ's own clean-up of jobs taken and lost waits a minute too).
LOST_AFTER = timedelta(minutes=1)
LOST_SIGHTING_PREFIX = "club:lost-sighting:"
# Longer than the widest gap between two enqueues of one id: a member's reconcile is
# queued daily, a paused feed's refresh only when an admin asks.
LOST_SIGHTING_KEPT = timedelta(days=30)


def is_lost(job: Job) -> bool:
    """Whether ``job`` says it waits but a worker took it and lost it.

    A worker that dies, or whose connection drops, between taking a job off its queue and
    starting it leaves it "waiting" on no queue, for good: as a unique job's id (a feed's
    refresh, a Stripe event) it would make every later one a duplicate. A job a worker is
    taking this instant is on none of RQ's lists either, for a few milliseconds, however
    long it waited before: so the first sighting is only noted, and the job counts as lost
    when a sighting ``LOST_AFTER`` later still finds it so.
    """
    if not _on_no_list(job):
        return False
    connection = job.connection
    stamp = (job.enqueued_at or job.created_at or utcnow()).isoformat()
    key = f"{LOST_SIGHTING_PREFIX}{job.id}:{stamp}"  # this enqueue of the id, not an older one
    now = time.time()
    if connection.set(key, now, nx=True, ex=LOST_SIGHTING_KEPT):
        return False  # the first sighting
    return now - float(connection.get(key) or now) >= LOST_AFTER.total_seconds()


def _on_no_list(job: Job) -> bool:
    """Whether ``job`` is on none of RQ's lists: its queue, the list a one-queue worker
    takes jobs through, its schedule, or the jobs started."""
    origin = Queue(job.origin, connection=job.connection)
    connection = job.connection
    return (
        connection.lpos(origin.key, job.id) is None
        and connection.lpos(origin.intermediate_queue_key, job.id) is None
        and connection.zscore(origin.scheduled_job_registry.key, job.id) is None
        and job.id not in origin.started_job_registry
    )


# Off its schedule or its queue, and deleted, in one step: a lost reply or a stall between
# two commands left a job "queued" on no queue, and its id (a feed's refresh) taken for good.
TAKE_WAITING_SCRIPT = """
local taken = redis.call('ZREM', KEYS[1], ARGV[1])
if taken == 0 then taken = redis.call('LREM', KEYS[2], 0, ARGV[1]) end
if taken == 0 then return 0 end
redis.call('DEL', KEYS[3], KEYS[4], KEYS[5], KEYS[6])
return 1
"""


def take_waiting_job(job: Job) -> bool:
    """Take ``job`` off its queue or its schedule and delete it; False if it was on neither.

    One script, so a job a worker has already taken (it is starting) or one that waits on
    another job stays where it is, and a job taken off is gone whatever fails next. (RQ
    keeps no result of a run it will retry, so a retry waiting out its back-off leaves no
    failure to keep.)
    """
    origin = Queue(job.origin, connection=job.connection)
    keys = (
        origin.scheduled_job_registry.key,
        origin.key,
        job.key,
        job.dependents_key,
        job.dependencies_key,
        Result.get_key(job.id),
    )
    return bool(job.connection.eval(TAKE_WAITING_SCRIPT, len(keys), *keys, job.id))
