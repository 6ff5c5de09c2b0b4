"""Job entry points: thin functions that take plain values and call domain code.

Each runs inside its own app context (the worker provides one per job; ``enqueue``
provides one inline), reloads what it needs by id, calls one domain function and commits
once. Domain modules are imported inside each job so that importing this module (which
RQ does in every worker) pulls in nothing else, and ``worker`` depends on the domains
only where a job actually runs them.

Retries: the queue decides how often a job is retried (``worker.queues``). A job gives up
at once, without further tries, on an error the domain marks as permanent — any
exception class with ``permanent = True`` — and the failure stays on the failed-jobs page.
(Articles' refresh does not even raise for a 404 or an unparsable feed: it records the
error on the feed and backs the feed off, so those runs end normally.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import current_app
from rq import get_current_job

from club.clock import utcnow
from club.extensions import db
from worker.queues import JobHandle, enqueue

log = logging.getLogger(__name__)

# Processed Stripe events are kept this long for support questions, then pruned.
STRIPE_EVENT_RETENTION = timedelta(days=30)
# A stored event still unprocessed after this long lost its job (Redis flushed, say).
STRIPE_EVENT_GRACE = timedelta(minutes=5)


def run_and_commit(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run one domain call, commit its work once, and stop retries on a permanent error."""
    try:
        result = call(*args, **kwargs)
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        if getattr(error, "permanent", False):
            stop_retrying()
        raise
    return result


def stop_retrying() -> None:
    """Make the running RQ job fail for good instead of being retried."""
    job = get_current_job()
    if job is not None:
        job.retries_left = 0


# The stable ids that keep one refresh per feed, and one processing per Stripe event, in
# the queue: every caller queues through the functions below, so they cannot drift.
REFRESH_JOB_ID = "refresh-feed-{}"
STRIPE_EVENT_JOB_ID = "stripe-event-{}"


def queue_each(func: Callable[[int], Any], ids: list[int], *, queue: str, job_id: str) -> int:
    """Queue ``func(id)`` once per id, as a unique job named ``job_id.format(id)``.

    Returns how many were queued (one already waiting or running is left alone). The
    read that found the ids is ended first: inline, each job runs right here.
    """
    db.session.rollback()
    queued = [
        enqueue(func, one, queue=queue, job_id=job_id.format(one), unique=True) for one in ids
    ]
    return sum(1 for handle in queued if not handle.duplicate)


def enqueue_refresh(feed_id: int, force: bool = False) -> JobHandle:
    """Queue one refresh of the feed unless one is already waiting or running.

    ``force`` fetches it even while it is paused or not yet due (an admin's "Refresh now").
    A refresh still waiting, queued without force or backing off for a retry, would leave
    a paused feed unfetched or keep the admin waiting up to half an hour: a forced one
    takes its place, so with ``force`` a duplicate means a refresh is already running.
    """
    return enqueue(
        refresh_feed,
        feed_id,
        force=force,
        queue="feeds",
        job_id=REFRESH_JOB_ID.format(feed_id),
        unique=True,
        replace_waiting=force,
    )


def enqueue_stripe_event(row_id: int) -> JobHandle:
    """Queue the processing of one stored Stripe event, unless it is already queued."""
    return enqueue(
        process_stripe_event,
        row_id,
        queue="billing",
        job_id=STRIPE_EVENT_JOB_ID.format(row_id),
        unique=True,
        inline_if_unavailable=True,
    )


def send_mail(to: str, subject: str, body: str) -> None:
    """Send one email, unless its recipient's account was deleted after it was queued."""
    from club import mail

    job = get_current_job()  # None inline: sent as it is asked for
    if job is not None and job.created_at and mail.is_stopped(to, job.created_at):
        log.info("mail %r not sent: its recipient's account was deleted since", job.id)
        return
    mail.send_mail(to, subject, body)


def refresh_feed(feed_id: int, force: bool = False) -> str:
    """Fetch, parse, clean and store one feed; return what happened.

    The refresh records fetch and parse errors on the feed and backs the feed off itself
    (a 404 or 410 pauses it), so those end the job normally; anything it raises (the
    database gone, the process killed) fails the job, which RQ retries. ``force`` fetches
    a paused feed too (an admin's "Refresh now").
    """
    from articles import refresh

    result = run_and_commit(refresh.refresh_feed, feed_id, force=force)
    if result.try_again and not answered_in_the_request():
        # An admin's Refresh now of a paused feed would be dropped: RQ tries it again. (An
        # active feed is due a minute later; one run in the request tells the admin.)
        raise HostBusy(result.describe())
    return result.describe()


def answered_in_the_request() -> bool:
    """Whether this job runs inside the request that queued it (inline, or RQ's synchronous
    mode), whose caller reads its result."""
    return get_current_job() is None or not current_app.config.get("RQ_ASYNC", True)


class HostBusy(Exception):
    """A paused feed's forced refresh found its host busy with two other fetches."""


def refresh_due_feeds() -> int:
    """Queue a refresh for every feed that is due; return how many were queued."""
    from articles import refresh

    feed_ids = list(refresh.due_feed_ids(utcnow()))
    return queue_each(refresh_feed, feed_ids, queue="feeds", job_id=REFRESH_JOB_ID)


def process_stripe_event(event_row_id: int) -> None:
    """Apply one stored Stripe webhook event (the row id of ``billing.models.StripeEvent``)."""
    from billing import webhooks

    run_and_commit(webhooks.process_event, event_row_id)


def sweep_stripe_events() -> int:
    """Queue every stored event still unprocessed after a few minutes (lost or failed jobs)."""
    from billing import sync

    row_ids = sync.unprocessed_event_ids(STRIPE_EVENT_GRACE)
    return queue_each(process_stripe_event, row_ids, queue="billing", job_id=STRIPE_EVENT_JOB_ID)


def push_stripe_customer(user_id: int) -> bool:
    """Send an account's current email and name to its Stripe customer."""
    from billing import sync

    return run_and_commit(sync.push_customer, user_id)


def delete_stripe_customer(customer_id: str) -> None:
    """Delete the Stripe customer of an account already deleted (its charging stopped)."""
    from billing import hooks

    hooks.delete_customer(customer_id)


def reconcile_billing() -> int:
    """Queue one reconcile job per account with a Stripe customer; return how many.

    One job per member, not one loop: a Stripe call each adds up past any single job's
    timeout, and a run cut short would start again from the first member every day.
    """
    from billing import sync

    user_ids = sync.customer_account_ids()
    return queue_each(reconcile_member, user_ids, queue="billing", job_id="reconcile-member-{}")


def reconcile_member(user_id: int) -> str | None:
    """Bring one member's subscription in line with Stripe; return what changed."""
    from billing import sync

    return run_and_commit(sync.reconcile_member, user_id)


def prune() -> dict[str, int]:
    """Delete old processed webhook events, spent single-use tokens, ended freezes, stops
    on mail to deleted accounts, and accounts never confirmed."""
    from billing import sync
    from club import accounts, mail, moderation, tokens

    return {
        "stripe_events": run_and_commit(sync.prune_events, STRIPE_EVENT_RETENTION),
        "spent_tokens": run_and_commit(tokens.purge_spent),
        "ended_carried_freezes": run_and_commit(moderation.prune_carried_freezes),
        "mail_stops": run_and_commit(mail.prune_mail_stops),
        "unconfirmed_accounts": run_and_commit(accounts.purge_unconfirmed),
    }
