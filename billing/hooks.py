"""Billing's part in account-wide events club announces: deletion, email change, export,
demo data."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import Flask

from billing import gateway, local, plan, summary
from billing.models import StripeEvent
from club import membership, signals, transactions
from club.extensions import db
from club.models import User
from worker.queues import enqueue

log = logging.getLogger(__name__)


def on_account_deleting(sender: Flask, user: User, **_: Any) -> None:
    """Stop charging a member who deletes their account, before the account goes.

    Every running subscription is cancelled now; if Stripe cannot be reached the deletion
    stops, since an account must never vanish while its card is still being charged. The
    customer (and its stored cards) is deleted only once the deletion has committed: if it
    rolls back, the member keeps an account whose Checkout and portal need that customer.
    """
    if plan.is_local() or not user.stripe_customer_id:
        return
    customer_id = user.stripe_customer_id
    forget_events_about(customer_id)
    try:
        for subscription in gateway.list_subscriptions(customer_id):
            if subscription.get("status") not in membership.FINISHED_STATUSES:
                gateway.cancel_subscription(subscription["id"])
    except gateway.NotFound:
        log.info("stripe customer of user %s was already gone", user.id)
        return
    except gateway.BillingError as error:
        raise signals.DeletionBlocked(
            "we could not cancel your subscription with our payment provider. "
            "Nothing was charged; please try again in a few minutes."
        ) from error
    transactions.call_after_commit(delete_customer_of_deleted_account, customer_id)


def delete_customer_of_deleted_account(customer_id: str) -> None:
    """Delete the customer of an account whose deletion has committed.

    Charging has stopped already, so the account went whatever happens here: if Stripe
    fails now, a job on the billing queue tries again.
    """
    try:
        delete_customer(customer_id)
    except gateway.BillingError:
        log.warning("deleting stripe customer %s failed; a job will retry", customer_id)
        enqueue("worker.jobs.delete_stripe_customer", customer_id, queue="billing")


def delete_customer(customer_id: str) -> None:
    """Delete a Stripe customer and its stored cards; one already gone is fine."""
    try:
        gateway.delete_customer(customer_id)
    except gateway.NotFound:
        log.info("stripe customer %s was already gone", customer_id)


def forget_events_about(customer_id: str) -> None:
    """Delete the stored webhook events that name the customer (its email, name, address).

    In the deletion's transaction: if the deletion is refused, they stay. Events Stripe
    sends afterwards are emptied once processed (``webhooks.forget_if_no_member``).
    """
    db.session.execute(
        sa.delete(StripeEvent)
        .where(StripeEvent.payload.contains(f'"{customer_id}"', autoescape=True))
        .execution_options(synchronize_session=False)
    )


def on_account_contact_changed(sender: Flask, user: User, **_: Any) -> None:
    """Send Stripe the new address and name: its receipts and "payment failed" mails go
    there, addressed to that name.

    A job, retried by the billing queue, so a Stripe outage does not undo or fail the
    change the member just made; it pushes whatever the account holds when it runs.
    """
    if plan.is_local() or not user.stripe_customer_id:
        return
    try:
        enqueue(
            "worker.jobs.push_stripe_customer", user.id, queue="billing", inline_if_unavailable=True
        )
    except Exception:
        # The member's change is committed and must stand; an operator sees this in the log.
        log.exception("could not queue the Stripe customer update for user %s", user.id)


def on_account_exporting(sender: Flask, user: User, **_: Any) -> dict:
    """Add the membership as the settings page describes it to the data export."""
    described = summary.summarize(user)
    return {
        "membership": {
            "plan": described.plan,
            "price": described.price,
            "status": described.status,
            # A fixed key: the label ("Renews on", "Ends on", ...) changes with the state.
            "period_end": described.date.isoformat() if described.date else None,
            "period_end_label": described.date_label,
            "last_payment_problem": described.payment_problem,
            "payments_handled_by": "local test checkout" if described.local else "Stripe",
        }
    }


def on_demo_seeding(sender: Flask, accounts: dict[str, User], **_: Any) -> None:
    """Give the demo member a paid membership and the frozen demo a failed renewal.

    Both become local test-checkout subscriptions, as "Pay $1.00" and "Simulate a failed
    renewal" make them, so the Manage page can act on them (the frozen demo can pay the
    overdue renewal there). The frozen demo keeps the overdue date club's seed gave it,
    past the grace period. Accounts that already have a local subscription are left as
    they are, so seeding twice changes nothing; no mail is sent for demo accounts.
    """
    member, frozen = accounts.get("member"), accounts.get("frozen")
    if member is not None and not _has_local_subscription(member):
        local.record_local(member, "active", new=True)
    if frozen is not None and not _has_local_subscription(frozen):
        local.record_local(frozen, "past_due", new=True, payment_error=local.DECLINED)


def _has_local_subscription(user: User) -> bool:
    return (user.subscription_id or "").startswith(local.LOCAL_PREFIX)


def connect() -> None:
    """Subscribe to club's signals (weakly held, so keep module-level receivers)."""
    signals.account_deleting.connect(on_account_deleting)
    signals.account_contact_changed.connect(on_account_contact_changed)
    signals.account_exporting.connect(on_account_exporting)
    signals.demo_seeding.connect(on_demo_seeding)
