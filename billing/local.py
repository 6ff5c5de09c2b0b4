"""The local test checkout: Stripe-shaped subscriptions made on this machine.

With no Stripe key the site still works end to end: "Pay $1.00", "Decline card" and the
local Manage page build a subscription object shaped like Stripe's and record it through
``mapping.apply_stripe_subscription`` — the very function Stripe's events go through.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from billing import mapping, notices
from club import membership
from club.clock import utcnow
from club.extensions import db
from club.models import User

LOCAL_PREFIX = "sub_local_"
PERIOD = timedelta(days=30)
DECLINED = "Card declined on the test checkout — no real payment"


class NotLive(Exception):
    """The Manage page was asked to change a subscription that is not running."""


def subscription_object(
    user: User, status: str, *, cancel_at_period_end: bool = False, new: bool = False
) -> dict:
    """Return a Stripe-shaped subscription for ``user`` (a fresh one if ``new``)."""
    now = utcnow()
    current = user.subscription_id or ""
    if new or not current.startswith(LOCAL_PREFIX):
        current = f"{LOCAL_PREFIX}{user.id}_{secrets.token_hex(4)}"
        ends = now + PERIOD
    else:
        ends = user.subscription_period_end or now + PERIOD
    return {
        "id": current,
        "object": "subscription",
        "status": status,
        "current_period_end": int(ends.timestamp()),
        "cancel_at_period_end": cancel_at_period_end,
    }


def record_local(
    user: User,
    status: str,
    *,
    cancel_at_period_end: bool = False,
    new: bool = False,
    payment_error: str | None = None,
) -> list[notices.Mail]:
    """Record a local subscription state for ``user``; return the mail it calls for.

    The caller commits (and sends the mail once it has).
    """
    locked = mapping.lock_member(user.id)
    subscription = subscription_object(
        locked, status, cancel_at_period_end=cancel_at_period_end, new=new
    )
    change = mapping.apply_stripe_subscription(
        locked, subscription, observed_at=utcnow(), payment_error=payment_error
    )
    mails = notices.for_change(locked, change)
    if payment_error and notices.awaits_payment(locked):
        mails.append(notices.payment_failed(locked))
    return mails


def apply_local(user: User, status: str, **options) -> None:
    """Record a local subscription state for ``user``, commit, and send its mail."""
    mails = record_local(user, status, **options)
    db.session.commit()
    notices.send(mails)


def pay(user: User) -> None:
    """Start (or restart) a paid monthly membership, as a successful Checkout would."""
    apply_local(user, "active", new=not membership.subscription_running(user))


def decline(user: User) -> None:
    """Record a first payment that the card refused: no membership, reason "payment failed"."""
    apply_local(user, "incomplete_expired", new=True, payment_error=DECLINED)


def manage(user: User, action: str) -> None:
    """Apply one action from the local Manage page, to a running subscription only.

    Like Stripe's portal, it cannot touch an ended or never-paid subscription: recording
    "past_due" on one would revive it into the grace period without a payment.
    """
    if action not in MANAGE_ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    user = mapping.lock_member(user.id)
    if not membership.subscription_running(user):
        raise NotLive("You have no running test subscription to change. Subscribe from settings.")
    if action == "cancel":
        apply_local(user, user.subscription_status or "active", cancel_at_period_end=True)
    elif action == "resume":
        apply_local(user, user.subscription_status or "active", cancel_at_period_end=False)
    elif action == "end":
        apply_local(user, "canceled")
    elif action == "fail_renewal":
        apply_local(user, "past_due", payment_error=DECLINED)
    elif action == "pay_overdue":
        # As paying the open invoice on Stripe's page (or the portal's new card) does.
        apply_local(user, "active")


MANAGE_ACTIONS = frozenset({"cancel", "resume", "end", "fail_renewal", "pay_overdue"})
# What each action tells the member once done.
MANAGE_DONE = {
    "cancel": "Your test subscription will end at the end of the paid period.",
    "resume": "Your test subscription renews again.",
    "end": "Your test membership has ended.",
    "fail_renewal": "The renewal failed (simulated): your membership is in its grace period.",
    "pay_overdue": "Payment received (test): your membership is active again.",
}
