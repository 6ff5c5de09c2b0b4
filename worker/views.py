"""``/admin/jobs``: queues, running and failed jobs, and the periodic schedule."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from rq import Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job

from club import audit
from club.admin import admin_blueprint
from club.extensions import db
from club.form_pages import form_on
from worker import schedule
from worker.queues import (
    QUEUES,
    REDIS_ERRORS,
    get_queue,
    hand_over_quietly,
    index_mail,
    is_inline,
    recent_inline_failures,
    redis_connection,
    replaced_failures,
)

log = logging.getLogger(__name__)

bp = admin_blueprint("jobs", __name__, "/jobs")

FAILED_SHOWN = 50


@dataclass(frozen=True)
class QueueRow:
    """One queue's counts."""

    name: str
    queued: int
    running: int
    scheduled: int
    failed: int


@dataclass(frozen=True)
class JobRow:
    """One job as the page shows it."""

    id: str
    queue: str
    description: str
    at: datetime | None
    error: str | None = None

    @property
    def error_summary(self) -> str:
        """The last line of the traceback: usually the exception and its message."""
        lines = [line for line in (self.error or "").strip().splitlines() if line.strip()]
        return lines[-1] if lines else ""


@dataclass(frozen=True)
class PeriodicRow:
    """One periodic job with its last run."""

    periodic: schedule.Periodic
    last_run: datetime | None
    last_status: str | None
    next_run: datetime


@bp.get("/")
def overview():
    """Show queue lengths, running and failed jobs and the periodic schedule."""
    if is_inline():
        return render_template("worker/jobs.html", inline=True, **inline_state())
    return render_template("worker/jobs.html", inline=False, redis_down=False, **rq_state())


def answer_redis_down(error: Exception):
    """Say that Redis cannot be reached or refuses writes, for the page and its buttons."""
    log.warning("jobs page: Redis failed: %s: %s", type(error).__name__, error)
    return render_template("worker/jobs.html", inline=False, redis_down=True), 503


# Every view here reads Redis: one handler, so no button can answer a bare 500 instead.
for redis_error in REDIS_ERRORS:
    bp.register_error_handler(redis_error, answer_redis_down)


@bp.post("/<job_id>/requeue")
@form_on("jobs.overview")
def requeue(job_id: str):
    """Put a failed job back on its queue."""
    job = failed_job_or_404(job_id)
    get_queue(job.origin).failed_job_registry.requeue(job)
    # Kept for days again: a mail's recipient must still find it if they leave.
    index_mail(job.connection, job.func_name, job.args, job.id)
    record_job_action("job.requeue", job)
    flash(f"Job {job.description} is queued again.", "success")
    return redirect(url_for("jobs.overview"), 303)


@bp.post("/<job_id>/delete")
@form_on("jobs.overview")
def delete(job_id: str):
    """Delete a failed job."""
    job = failed_job_or_404(job_id)
    job.delete()
    record_job_action("job.delete", job)
    flash(f"Job {job.description} was deleted.", "success")
    return redirect(url_for("jobs.overview"), 303)


def record_job_action(action: str, job: Job) -> None:
    """Audit an admin's hand on a failed job: dropping a billing or mail job is a decision."""
    audit.record(current_user, action, None, f"{job.id}: {job.description}")
    db.session.commit()


def failed_job_or_404(job_id: str) -> Job:
    """Return the failed job ``job_id``, or answer 404."""
    if is_inline():
        abort(404)
    try:
        job = Job.fetch(job_id, connection=redis_connection())
    except NoSuchJobError:
        abort(404)
    if not job.is_failed:
        abort(404)
    return job


def rq_state() -> dict:
    """Read everything the page shows from Redis."""
    connection = redis_connection()
    hand_over_quietly(connection)
    queues = [get_queue(name) for name in QUEUES]
    return {
        "queues": [queue_row(queue) for queue in queues],
        "workers": Worker.all(connection=connection),
        "running": jobs_in(queues, "started_job_registry"),
        "failed": jobs_in(queues, "failed_job_registry", with_error=True)[:FAILED_SHOWN],
        "periodic": periodic_rows(schedule.last_runs(connection), connection),
        "replaced": [replaced_row(entry) for entry in replaced_failures(connection)],
    }


def replaced_row(entry: dict) -> JobRow:
    """Describe a failure whose job was queued again under the same id."""
    return JobRow(
        id=entry["id"],
        queue=entry["queue"],
        description=entry["description"],
        at=datetime.fromisoformat(entry["at"]),
        error=entry["error"],
    )


def queue_row(queue) -> QueueRow:
    """Count one queue's jobs by state."""
    return QueueRow(
        name=queue.name,
        queued=queue.count,
        running=queue.started_job_registry.count,
        scheduled=queue.scheduled_job_registry.count,
        failed=queue.failed_job_registry.count,
    )


def jobs_in(queues, registry_name: str, with_error: bool = False) -> list[JobRow]:
    """Return the jobs in one registry of every queue, newest first."""
    rows = []
    for queue in queues:
        registry = getattr(queue, registry_name)
        ids = registry.get_job_ids(0, FAILED_SHOWN - 1, desc=True)
        for job in Job.fetch_many(ids, connection=queue.connection):
            if job is not None:
                rows.append(job_row(job, queue.name, with_error))
    return sorted(rows, key=lambda row: row.at or datetime.min, reverse=True)


def job_row(job: Job, queue: str, with_error: bool) -> JobRow:
    """Describe one RQ job."""
    error = None
    if with_error:
        result = job.latest_result()
        error = result.exc_string if result else None
    at = job.ended_at or job.started_at or job.enqueued_at
    return JobRow(id=job.id, queue=queue, description=job.description, at=at, error=error)


def periodic_rows(runs: dict[str, dict], connection) -> list[PeriodicRow]:
    """Pair each periodic job with its last run and that run's status."""
    rows = []
    for periodic in schedule.SCHEDULE:
        run = runs.get(periodic.name)
        status = None
        if run:
            try:
                status = Job.fetch(run["job_id"], connection=connection).get_status().value
            except NoSuchJobError:
                status = "expired"
        rows.append(
            PeriodicRow(
                periodic=periodic,
                last_run=datetime.fromisoformat(run["at"]) if run else None,
                last_status=status,
                next_run=schedule.next_run(periodic),
            )
        )
    return rows


def inline_state() -> dict:
    """What the page can show without Redis: the local scheduler and inline failures."""
    local = current_app.extensions.get("club_local_scheduler")
    last = local.last_run if local else {}
    periodic = [
        PeriodicRow(
            periodic=p,
            last_run=last.get(p.name),
            last_status="finished" if p.name in last else None,
            next_run=schedule.next_run(p),
        )
        for p in schedule.SCHEDULE
    ]
    return {"periodic": periodic, "inline_failures": list(recent_inline_failures)}
