"""Reconciliation and housekeeping: repair drift from missed webhooks, prune old events.

The worker schedules ``reconcile`` daily, ``prune_events`` hourly, and re-enqueues
``unprocessed_event_ids`` (events stored while the queue was down, or whose job failed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from billing import gateway, mapping, notices
from billing.models import StripeEvent
from club import membership
from club.clock import utcnow
from club.extensions import db
from club.models import User

log = logging.getLogger(__name__)


def running_subscription(customer_id: str) -> dict | None:
    """Return the customer's subscription Stripe still bills, if any."""
    try:
        running = mapping.current_subscription(gateway.list_subscriptions(customer_id))
    except gateway.NotFound:  # no such customer any more
        return None
    if running is None or running.get("status") not in membership.LIVE_STATUSES:
        return None
    return running


def billed_subscription(customer_id: str) -> dict | None:
    """Return the membership subscription Stripe bills the customer for or may yet bill.

    A running one first; else one whose first payment has not gone through ("incomplete":
    a bank debit settling for days, a declined card, a bank's check), which a second
    Checkout would bill again once both went through.
    """
    try:
        subscriptions = gateway.list_subscriptions(customer_id)
    except gateway.NotFound:  # no such customer any more
        return None
    running = mapping.current_subscription(subscriptions)
    if running is not None and running.get("status") in membership.LIVE_STATUSES:
        return running
    settling = [
        s
        for s in subscriptions
        if mapping.sells_membership(s) and s.get("status") in membership.NOT_STARTED_STATUSES
    ]
    return max(settling, key=lambda s: s.get("created") or 0, default=None)


def _state(user: User) -> tuple:
    return (
        user.subscription_id,
        user.subscription_status,
        user.subscription_period_end,
        user.subscription_cancel_at_period_end,
    )


def _stripe_state(subscription: dict | None) -> tuple:
    if subscription is None:
        return (None, None, None, False)
    ends, stops = mapping.access_end(subscription)
    return (subscription.get("id"), subscription.get("status"), ends, stops)


def _describe(user: User, before: tuple) -> str:
    after = _state(user)
    parts = [
        f"{name} {old!s} -> {new!s}"
        for name, old, new in zip(
            ("subscription", "status", "period end", "cancel at period end"),
            before,
            after,
            strict=True,
        )
        if old != new
    ]
    return f"{user.email}: " + ", ".join(parts)


def reconcile_member(user_id: int) -> str | None:
    """Bring one member in line with Stripe; return what changed, or None."""
    user = db.session.get(User, user_id)
    if user is None or not user.stripe_customer_id:
        return None
    customer = stripe_customer(user.stripe_customer_id)
    if customer is None:
        if not forget_customer(user_id, user.stripe_customer_id):
            return None  # replaced meanwhile: the next pass checks the new one
        return f"{user.email}: Stripe deleted the customer; membership ended, customer unlinked"
    # The email first: if Stripe failed after the subscription was repaired (and
    # committed), the account would be reported as not checked.
    changes = [_reconcile_customer_email(user_id, customer), _reconcile_subscription(user_id)]
    return "; ".join(change for change in changes if change) or None


def stripe_customer(customer_id: str) -> dict | None:
    """Return the Stripe customer, or None if Stripe deleted it.

    Stripe answers for a deleted customer with its id and ``deleted: true``. "No such
    customer" (404) says something else: this key cannot see it (a test key on the live
    site, another account's key). Read as "deleted", it would end every member's access
    while their cards are still charged; it raises ``gateway.NotFound`` instead.
    """
    try:
        customer = gateway.retrieve_customer(customer_id)
    except gateway.NotFound:
        log.error(
            "Stripe has no customer %s for this key: is STRIPE_SECRET_KEY the account's, "
            "and in the right mode?",
            customer_id,
        )
        raise
    return None if customer.get("deleted") else customer


def forget_customer_if_gone(user_id: int, customer_id: str) -> bool:
    """Tell whether Stripe deleted ``customer_id``, the customer a request used for the
    account; if so, end access and unlink it, unless the account holds another by now.

    Its customer.deleted webhook may have been lost: every Subscribe and Manage would
    fail on the deleted customer, and paid access would never end.
    """
    if stripe_customer(customer_id) is not None:
        return False
    forget_customer(user_id, customer_id)
    return True


def forget_customer(user_id: int, customer_id: str) -> bool:
    """Record that Stripe deleted the account's customer ``customer_id``: access ends, the
    link goes. False if the account is gone or holds another customer by now."""
    forgotten = mapping.forget_deleted_customer(user_id, customer_id)
    if forgotten is None:
        db.session.rollback()  # the row lock goes with it
        return False
    log.warning("user %s: its stripe customer is gone; unlinked", user_id)
    user, change = forgotten
    db.session.commit()
    notices.send(notices.for_change(user, change))
    return True


def _reconcile_customer_email(user_id: int, customer: dict) -> str | None:
    """Send the customer the account's email (and name) if Stripe holds another address.

    The push after an email change is a job that gives up after its retries; a Stripe
    outage then would leave receipts going to the old address for good.
    """
    user = db.session.get(User, user_id)
    if customer.get("email") == user.email:
        return None
    push_customer(user_id)
    return f"{user.email}: Stripe customer's email updated"


def _reconcile_subscription(user_id: int) -> str | None:
    user = db.session.get(User, user_id)
    customer_id = user.stripe_customer_id
    observed_at = utcnow()
    subscriptions = gateway.list_subscriptions(customer_id)
    subscription = mapping.current_subscription(subscriptions, user.subscription_id)
    if _state(user) == _stripe_state(subscription):
        return None  # in line already: write nothing, so a second pass changes nothing
    user = mapping.lock_member(user_id)
    before = _state(user)
    if subscription is not None:
        change = mapping.apply_stripe_subscription(user, subscription, observed_at=observed_at)
    else:
        change = membership.apply_subscription(
            user, subscription_id=None, status=None, period_end=None, observed_at=observed_at
        )
    db.session.commit()
    notices.send(notices.for_change(user, change))
    return _describe(user, before) if _state(user) != before else None


def customer_account_ids(email: str | None = None) -> list[int]:
    """Return the ids of the accounts that have a Stripe customer (or the one with ``email``)."""
    query = sa.select(User.id).where(User.stripe_customer_id.is_not(None)).order_by(User.id)
    if email:
        query = query.where(sa.func.lower(User.email) == email.strip().lower())
    return list(db.session.scalars(query))


@dataclass
class Reconciliation:
    """What one reconciliation pass did: the repairs, and the accounts it could not check."""

    checked: int = 0
    changes: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)


def reconcile(email: str | None = None) -> Reconciliation:
    """Compare every account that has a Stripe customer with Stripe; report the repairs."""
    report = Reconciliation()
    for user_id in customer_account_ids(email):
        try:
            line = reconcile_member(user_id)
        except gateway.BillingError as error:
            db.session.rollback()
            cause = type(error.__cause__ or error).__name__
            report.unchecked.append(f"account {user_id}: not checked ({cause}: {error})")
            log.warning("reconcile %s failed: %s", user_id, error)
            continue
        report.checked += 1
        if line:
            report.changes.append(line)
    return report


def push_customer(user_id: int) -> bool:
    """Copy the account's email and name to its Stripe customer; tell whether it did.

    Idempotent: it sends what the account holds now, so a retried or late job is right.
    """
    user = db.session.get(User, user_id)
    if user is None or not user.stripe_customer_id:
        return False
    try:
        gateway.update_customer(user.stripe_customer_id, email=user.email, name=user.display_name)
    except gateway.NotFound:
        log.info("stripe customer of user %s is gone; nothing to update", user_id)
        return False
    return True


def prune_events(older_than: timedelta) -> int:
    """Delete processed events received more than ``older_than`` ago; return how many."""
    cutoff = utcnow() - older_than
    result = db.session.execute(
        sa.delete(StripeEvent).where(
            StripeEvent.processed_at.is_not(None), StripeEvent.received_at < cutoff
        )
    )
    db.session.commit()
    return result.rowcount


def unprocessed_event_ids(older_than: timedelta) -> list[int]:
    """Return stored events still unprocessed after ``older_than``, oldest first."""
    cutoff = utcnow() - older_than
    return list(
        db.session.scalars(
            sa.select(StripeEvent.id)
            .where(StripeEvent.processed_at.is_(None), StripeEvent.received_at < cutoff)
            .order_by(StripeEvent.received_at)
        )
    )
