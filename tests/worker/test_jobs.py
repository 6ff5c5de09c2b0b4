"""The job entry points reach the domain functions they name, and the periodic ones recover work."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from billing.models import StripeEvent
from club.clock import utcnow
from club.extensions import db
from club.models import UsedToken
from tests.conftest import make_feed
from worker import jobs
from worker.queues import enqueue, get_queue


def stored_event(event_id: str, *, age: timedelta, processed: bool) -> StripeEvent:
    """Store a Stripe event received ``age`` ago."""
    received = utcnow() - age
    event = StripeEvent(
        event_id=event_id,
        type="customer.created",
        created=received,
        livemode=False,
        payload=json.dumps({"id": event_id, "data": {"object": {"id": "cus_1"}}}),
        received_at=received,
        processed_at=received if processed else None,
    )
    db.session.add(event)
    db.session.commit()
    return event


def test_it_queues_a_unique_refresh_for_each_due_feed_only(app, fake_redis):
    due = make_feed(next_fetch_at=utcnow() - timedelta(minutes=1))
    make_feed(next_fetch_at=utcnow() + timedelta(hours=1))

    queued = jobs.refresh_due_feeds()
    again = jobs.refresh_due_feeds()

    assert (queued, again) == (1, 0)
    assert get_queue("feeds").job_ids == [f"refresh-feed-{due.id}"]


def test_it_processes_stored_stripe_events_whose_job_was_lost(app, no_redis):
    lost = stored_event("evt_lost", age=timedelta(minutes=10), processed=False)
    fresh = stored_event("evt_fresh", age=timedelta(seconds=5), processed=False)

    handle = enqueue(jobs.sweep_stripe_events, queue="billing")

    db.session.expire_all()
    assert handle.result == 1
    assert db.session.get(StripeEvent, lost.id).processed_at is not None
    assert db.session.get(StripeEvent, fresh.id).processed_at is None


def test_it_prunes_old_stripe_events_and_spent_tokens(app, no_redis):
    stored_event("evt_old", age=timedelta(days=31), processed=True)
    stored_event("evt_recent", age=timedelta(days=1), processed=True)
    db.session.add_all(
        [
            UsedToken(jti="spent-and-expired", expires_at=utcnow() - timedelta(hours=1)),
            UsedToken(jti="spent-still-valid", expires_at=utcnow() + timedelta(hours=1)),
        ]
    )
    db.session.commit()

    handle = enqueue(jobs.prune)

    assert handle.result == {
        "stripe_events": 1,
        "spent_tokens": 1,
        "ended_carried_freezes": 0,
        "mail_stops": 0,
        "unconfirmed_accounts": 0,
    }
    assert db.session.scalars(sa.select(StripeEvent.event_id)).all() == ["evt_recent"]
    assert db.session.scalars(sa.select(UsedToken.jti)).all() == ["spent-still-valid"]


def test_it_reconciles_billing_with_nothing_to_repair(app, no_redis, alice):
    handle = enqueue(jobs.reconcile_billing, queue="billing")

    assert handle.status == "finished"
    assert handle.result == 0  # alice has no Stripe customer: nothing to ask Stripe


def test_it_reconciles_each_paying_member_in_a_job_of_their_own(app, fake_redis, alice, erin):
    for n, user in enumerate((alice, erin)):
        user.stripe_customer_id = f"cus_member_{n}"
    db.session.commit()

    queued = jobs.reconcile_billing()
    again = jobs.reconcile_billing()  # still waiting: not queued twice

    assert (queued, again) == (2, 0)
    assert get_queue("billing").job_ids == [
        f"reconcile-member-{alice.id}",
        f"reconcile-member-{erin.id}",
    ]
