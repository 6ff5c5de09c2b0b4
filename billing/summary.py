"""What the settings page's billing section shows, in plain words."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from flask_login import current_user

from billing import plan
from club import membership
from club.clock import utcnow
from club.models import User

STATUS_WORDS = {
    None: "Not subscribed",
    "active": "Active",
    "trialing": "Active (trial)",
    "past_due": "Payment overdue",
    "unpaid": "Unpaid",
    "canceled": "Ended",
    "incomplete": "Waiting for the first payment",
    "incomplete_expired": "First payment failed",
    "paused": "Paused",
}


@dataclass(frozen=True)
class BillingSummary:
    plan: str
    price: str
    status: str
    date_label: str | None
    date: datetime | None
    payment_problem: str | None
    can_manage: bool
    # Stripe still bills it: the local Manage page may cancel, resume, end or fail it.
    running: bool
    # Cancelled by the member: access continues until the paid period ends.
    ending: bool
    note: str | None
    local: bool
    # Paying before the email is confirmed would buy nothing (the policy grants nothing).
    must_confirm_email: bool
    # Sent back with "Subscribe": a double click reuses Stripe's idempotency keys.
    attempt: str
    # An admin's gift: there is nothing to buy, so no "Subscribe" button.
    gifted: bool = False


def summarize(user: User) -> BillingSummary:
    """Describe ``user``'s membership for the settings page."""
    status = user.subscription_status
    words = STATUS_WORDS.get(status, "Unknown — please contact us")
    st = membership.standing(user)
    date_label = None
    if user.subscription_period_end and status not in (None, "incomplete", "incomplete_expired"):
        if status == "canceled":
            date_label = "Ended on"
        elif user.subscription_cancel_at_period_end:
            words = f"{words} — cancelled, ends at the end of the paid period"
            date_label = "Ends on"
        elif status in membership.PAID_STATUSES:  # the others wait for a payment
            date_label = "Renews on"
    if membership.cancellation_has_lapsed(user, utcnow()):
        # Stripe has ended it; until its webhook lands the record still says "active".
        words, date_label = STATUS_WORDS["canceled"], "Ended on"
    comped_only = user.complimentary and status in (None, *membership.FINISHED_STATUSES)
    if comped_only:  # an ended subscription's dates no longer say anything about access
        words, date_label = "Complimentary: nothing to pay", None
    price = None if comped_only else plan.current_price()
    return BillingSummary(
        plan="Complimentary membership"
        if comped_only
        else (price or {}).get("nickname") or "Monthly membership",
        price=plan.format_price(price) if price else "",
        status=words,
        date_label=date_label,
        date=shown_date(user) if date_label else None,
        payment_problem=user.last_payment_error,
        can_manage=status is not None
        and status not in membership.FINISHED_STATUSES
        and not membership.cancellation_has_lapsed(user, utcnow()),
        running=membership.subscription_running(user),
        ending=bool(user.subscription_cancel_at_period_end),
        note=_note(user, st, comped_only),
        local=plan.is_local(),
        must_confirm_email=must_confirm_email_first(user),
        attempt=secrets.token_urlsafe(12),
        gifted=user.complimentary,
    )


def _note(user: User, st: membership.Standing, comped_only: bool) -> str | None:
    """The line under the facts: what a freeze or a complimentary membership changes."""
    frozen = st.reason is membership.Reason.FROZEN_BY_MODERATOR
    if frozen and user.complimentary:
        return (
            "A moderator froze this account; your complimentary membership works again "
            "once the freeze ends."
        )
    if frozen:
        return "A moderator froze this account; paying does not lift a moderator's freeze."
    if comped_only:
        return (
            "An admin gave you a complimentary membership: the badge and everything "
            "members can do, free."
        )
    if user.complimentary:
        return (
            "You also have a complimentary membership, so you can cancel this subscription "
            "without losing anything."
        )
    return None


def must_confirm_email_first(user: User) -> bool:
    """Tell whether paying now would buy nothing: the policy grants no unconfirmed account.

    Asked of the address itself, not of the standing's reason: a moderator's freeze comes
    first there and would hide that the address is unproven.
    """
    return not user.is_email_confirmed


def shown_date(user: User) -> datetime | None:
    """The date beside the status: when an ended membership ended, else the period's end.

    A subscription ended at once keeps the period end it had (a month ahead); the site
    saw it end when it recorded the change.
    """
    end = user.subscription_period_end
    if user.subscription_status == "canceled" and user.subscription_updated_at and end:
        return min(end, user.subscription_updated_at)
    return end


def billing_summary() -> BillingSummary | None:
    """The ``billing_summary()`` template global: the signed-in account's summary."""
    if not getattr(current_user, "is_authenticated", False):
        return None
    return summarize(current_user)
