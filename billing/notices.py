"""Mail about membership: welcome (or welcome back), active again, payment failed or to
confirm, ended.

Mail is decided from what ``membership.apply_subscription`` reports changed (started,
ended), not from which event arrived, so the three or four events one sign-up produces
send a single welcome. It is enqueued only after the state it describes is committed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app

from club import membership
from club.accounts import greeting
from club.models import User
from worker.queues import enqueue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def _settings_url() -> str:
    return f"{current_app.config['BASE_URL']}/settings"


def _site() -> str:
    return current_app.config["SITE_NAME"]


def welcome(user: User) -> Mail:
    """Return the mail that greets a member whose membership just started."""
    body = (
        f"{greeting(user)}\n\n"
        f"Welcome to {_site()}! Your membership is active: you can comment, like and "
        "bookmark, and your name now carries the verified badge.\n\n"
        f"You can manage your membership at any time in your settings: {_settings_url()}\n"
    )
    return Mail(user.email, f"Welcome to {_site()}", body)


def welcome_back(user: User) -> Mail:
    """Return the mail that greets a former member who subscribed again."""
    body = (
        f"{greeting(user)}\n\n"
        f"Welcome back to {_site()}! Your membership is active again: you can comment, "
        "like and bookmark, and your name carries the verified badge again.\n\n"
        f"You can manage your membership at any time in your settings: {_settings_url()}\n"
    )
    return Mail(user.email, f"Welcome back to {_site()}", body)


def back_again(user: User) -> Mail:
    """Return the mail that tells a member their overdue payment went through."""
    body = (
        f"{greeting(user)}\n\n"
        f"Thank you: your payment went through and your {_site()} membership is active "
        "again. You can comment, like and bookmark, and your name carries the verified "
        "badge again.\n\n"
        f"You can manage your membership at any time in your settings: {_settings_url()}\n"
    )
    return Mail(user.email, "Payment received: your membership is active again", body)


def _until_paid(user: User) -> str:
    """What happens to the account until the payment goes through."""
    st = membership.standing(user)
    if st.reason is membership.Reason.FROZEN_BY_MODERATOR:
        # Paying mends the membership, not the freeze: say so, or the mail promises more.
        return (
            "Your membership needs this payment to carry on. Paying it keeps your "
            "membership, but does not lift the moderator's freeze on your account. "
            f"{membership.appeal_next(membership.appeal_status(user))}\n\n"
        )
    if st.grace_ends_at:
        return f"{st.grace_warning}\n\n"
    if st.grant is membership.Grant.COMPLIMENTARY:
        return COMPLIMENTARY_KEEPS_ACCESS
    if st.grant is membership.Grant.ADMIN:
        return (
            "Your admin access does not depend on it; your verified badge shows once the "
            "payment goes through.\n\n"
        )
    return "Your account is read-only until the payment goes through.\n\n"


# A complimentary member who also subscribed loses nothing when a payment fails.
COMPLIMENTARY_KEEPS_ACCESS = (
    "Your complimentary membership keeps your account and its verified badge as they are, "
    "so you may cancel this subscription in your settings instead of paying.\n\n"
)


# Statuses in which Stripe is still trying to collect: a failed payment is news then. A
# first payment refused outright ends the subscription ("incomplete_expired"): there is no
# membership whose payment method to update, and the page that refused it said so.
AWAITING_PAYMENT = frozenset({"past_due", "unpaid", "incomplete"})


def awaits_payment(user: User) -> bool:
    """Tell whether ``user``'s subscription still waits for a payment that failed."""
    return user.subscription_status in AWAITING_PAYMENT


def payment_failed(user: User, amount: str | None = None) -> Mail:
    """Return the mail that tells a member a payment failed and how to fix it.

    ``amount`` is what was asked for, as "1.00 USD", when the invoice says.
    """
    what = f"membership payment of {amount}" if amount else "membership payment"
    body = (
        f"{greeting(user)}\n\n"
        f"We could not collect your {_site()} {what}. {_until_paid(user)}"
        f"Update your payment method in your settings: {_settings_url()}\n"
    )
    return Mail(user.email, "Your membership payment failed", body)


def payment_needs_confirmation(user: User, confirm_url: str | None) -> Mail:
    """Return the mail that asks a member to confirm a payment their bank held (3-D Secure)."""
    where = confirm_url or _settings_url()
    body = (
        f"{greeting(user)}\n\n"
        f"Your bank asks you to confirm your {_site()} membership payment before it goes "
        f"through. {_until_paid(user)}"
        f"Confirm the payment here: {where}\n\n"
        f"You can also change your payment method in your settings: {_settings_url()}\n"
    )
    return Mail(user.email, "Please confirm your membership payment", body)


def ended(user: User) -> Mail:
    """Return the mail that tells a member their membership has ended."""
    body = (
        f"{greeting(user)}\n\n"
        f"Your {_site()} membership has ended. You can still read everything; to comment "
        f"and like again, subscribe in your settings: {_settings_url()}\n"
        f"{_freeze_stays(user)}"
    )
    return Mail(user.email, "Your membership has ended", body)


def _freeze_stays(user: User) -> str:
    """For an account a moderator froze: subscribing again does not lift the freeze."""
    if membership.standing(user).reason is not membership.Reason.FROZEN_BY_MODERATOR:
        return ""
    return (
        "\nA moderator has also frozen your account: subscribing again does not lift the "
        f"freeze. {membership.appeal_next(membership.appeal_status(user))}\n"
    )


def for_change(user: User, change: membership.SubscriptionChange) -> list[Mail]:
    """Return the mail a subscription change calls for (usually none)."""
    if change.recovered:
        return [back_again(user)]
    if change.rejoined:
        return [welcome_back(user)]
    if change.started:
        return [welcome(user)]
    if change.ended and membership.paid_membership_ended(user):
        return [ended(user)]
    return []


def send(mails: list[Mail]) -> None:
    """Enqueue ``mails``; a mail that cannot be queued is logged, never raised."""
    for mail in mails:
        try:
            enqueue(
                "worker.jobs.send_mail",
                mail.to,
                mail.subject,
                mail.body,
                queue="mail",
                inline_if_unavailable=True,
            )
        except Exception:
            # The state change is committed; a lost notice must not fail the event.
            log.exception("could not send the mail %r", mail.subject)
