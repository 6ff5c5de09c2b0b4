"""Stripe's subscription object → the fields the membership policy reads.

``apply_stripe_subscription`` is the one function every path uses — webhooks, the
success page, reconciliation and the local test checkout — so a subscription means the
same thing however it arrives. It records what Stripe said; ``club.membership`` alone
decides what that allows.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app

from billing import plan
from billing.models import FORGOTTEN_PAYLOAD, StripeEvent
from club import membership
from club.clock import utcnow
from club.extensions import db
from club.models import User


def _timestamp(value: object) -> datetime | None:
    if value in (None, ""):
        return None
    return datetime.fromtimestamp(int(value), UTC)  # type: ignore[arg-type]


def object_id(value: object) -> str | None:
    """Return the id of a reference that may be an id string or an expanded object."""
    if isinstance(value, dict):
        return value.get("id")
    return value if isinstance(value, str) and value else None


def period_end(subscription: dict) -> datetime | None:
    """Return when the paid period ends.

    API versions before 2025-03-31 keep ``current_period_end`` on the subscription;
    later ones keep it on each subscription item. Read whichever is present.
    """
    if subscription.get("current_period_end"):
        return _timestamp(subscription["current_period_end"])
    items = (subscription.get("items") or {}).get("data") or []
    ends = [item["current_period_end"] for item in items if item.get("current_period_end")]
    return _timestamp(max(ends)) if ends else None


def access_end(subscription: dict) -> tuple[datetime | None, bool]:
    """Return (the date access is paid until, whether it stops there).

    The portal may cancel with ``cancel_at`` (a date) rather than
    ``cancel_at_period_end``; both mean "access until then, then no more". A ``cancel_at``
    past the current period (a cancellation set for a later date) is the end too: Stripe
    renews until then, and a renewal that fails shows in the status.
    """
    cancel_at = _timestamp(subscription.get("cancel_at"))
    if cancel_at is not None:
        return cancel_at, True
    return period_end(subscription), bool(subscription.get("cancel_at_period_end"))


def apply_stripe_subscription(
    user: User,
    subscription: dict,
    *,
    observed_at: datetime,
    payment_error: str | None = None,
) -> membership.SubscriptionChange:
    """Record a Stripe subscription object (as read at ``observed_at``) on ``user``."""
    ends, stops = access_end(subscription)
    return membership.apply_subscription(
        user,
        subscription_id=subscription.get("id"),
        status=subscription.get("status"),
        period_end=ends,
        cancel_at_period_end=stops,
        observed_at=observed_at,
        payment_error=payment_error,
    )


def sells_membership(subscription: dict) -> bool:
    """Tell whether a Stripe subscription is the membership.

    One of its items must be on the membership's price (``STRIPE_PRICE_ID``) or on
    another price of the same product: members keep an older price when the price
    changes. The Stripe account may sell other things, and the Customer Portal may offer
    other plans; paying for one of those grants neither access nor the badge.
    """
    prices = [item.get("price") or item.get("plan") for item in _items(subscription)]
    if any(object_id(price) == current_app.config.get("STRIPE_PRICE_ID") for price in prices):
        return True  # the usual case: no need to ask Stripe which product that is
    product = plan.membership_product()  # raises while Stripe cannot say: retried later
    return bool(product) and any(
        isinstance(price, dict) and object_id(price.get("product")) == product for price in prices
    )


def _items(subscription: dict) -> list[dict]:
    items = subscription.get("items")
    data = items.get("data") if isinstance(items, dict) else None
    return [item for item in data or [] if isinstance(item, dict)]


def current_subscription(subscriptions: list[dict], recorded_id: str | None = None) -> dict | None:
    """Pick the membership subscription that decides access when a customer holds several.

    A paid one first, then one in its grace period (a paid one must not be frozen because
    a second, past-due one was created later), newest first; when none runs, the one on
    record (``recorded_id``), so its end is seen, else the newest. Subscriptions to
    anything but the membership do not count.
    """
    subscriptions = [s for s in subscriptions if sells_membership(s)]
    if not subscriptions:
        return None
    ordered = sorted(subscriptions, key=lambda s: s.get("created") or 0, reverse=True)
    for statuses in (membership.PAID_STATUSES, membership.LIVE_STATUSES):
        running = [s for s in ordered if s.get("status") in statuses]
        if running:
            return running[0]
    recorded = [s for s in ordered if recorded_id and s.get("id") == recorded_id]
    return (recorded or ordered)[0]


def is_worth_recording(user: User, subscription: object) -> bool:
    """Tell whether a finished Checkout's subscription should be applied to ``user``.

    Only one that sells the membership; and not an ended one on an account with no
    customer: that is an old success URL revisited, or a late webhook, after the customer
    was deleted, and linking that customer again would make every later Checkout fail on it.
    """
    if not isinstance(subscription, dict) or not sells_membership(subscription):
        return False
    return bool(user.stripe_customer_id) or subscription.get("status") in membership.LIVE_STATUSES


def forget_deleted_customer(
    user_id: int, customer_id: str
) -> tuple[User, membership.SubscriptionChange] | None:
    """Stripe deleted the customer ``customer_id``, and every subscription with it: end
    the account's access and unlink it. The caller commits and sends the notices.

    None, and nothing changed, if the account is gone or holds another customer by now:
    a Subscribe in another tab may have replaced the deleted one already, and unlinking
    that one would leave its Checkout billing a customer no account holds.
    """
    user = lock_member(user_id)
    if user is None or user.stripe_customer_id != customer_id:
        return None
    change = membership.apply_subscription(
        user,
        subscription_id=user.subscription_id,
        status="canceled" if user.subscription_status else None,
        period_end=user.subscription_period_end,
        observed_at=utcnow(),
    )
    forget_processed_events_about(user.stripe_customer_id)
    membership.link_customer(user, None)
    return user, change


def forget_processed_events_about(customer_id: str | None) -> None:
    """Empty the processed events that name a customer no account will hold any more.

    What Stripe sent about it (the member's email, name, address) would otherwise outlive
    the account: once unlinked, deleting the account has no customer left to find it by.
    An event not yet processed keeps its payload until it is, and is emptied then
    (``webhooks.forget_if_no_member``).
    """
    if not customer_id:
        return
    db.session.execute(
        sa.update(StripeEvent)
        .where(
            StripeEvent.processed_at.is_not(None),
            StripeEvent.payload.contains(f'"{customer_id}"', autoescape=True),
        )
        .values(payload=FORGOTTEN_PAYLOAD)
        .execution_options(synchronize_session=False)
    )


def checkout_account_id(session: dict) -> int | None:
    """The id of the account a Checkout Session was opened for, if this site opened it.

    The site names the account twice when it creates a session, in ``client_reference_id``
    and ``metadata.user_id`` (``gateway.create_checkout_session``). A Payment Link takes
    ``client_reference_id`` from its URL, where anyone can write any account's id; its
    metadata is the link's own. Only a session naming the account both ways counts.
    """
    reference = str(session.get("client_reference_id") or "")
    metadata = session.get("metadata") or {}
    if not (reference.isdigit() and len(reference) <= 18) or metadata.get("user_id") != reference:
        return None
    return int(reference)


def member_for_customer(customer_id: str | None) -> User | None:
    """Return the account a Stripe customer pays for, if any."""
    if not customer_id:
        return None
    return db.session.scalar(sa.select(User).where(User.stripe_customer_id == customer_id))


def lock_member(user_id: int) -> User | None:
    """Reload ``user_id`` holding its row lock until the caller commits.

    Two events for one member (a sign-up sends several at once) are then applied one
    after the other, each seeing what the other wrote. SQLite has no row locks, so a
    no-op UPDATE takes its database write lock instead.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(sa.update(User).where(User.id == user_id).values(id=User.id))
    return db.session.scalar(
        sa.select(User)
        .where(User.id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
