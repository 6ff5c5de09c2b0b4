"""The membership policy: the one place that decides what an account may do, and why.

``standing(user)`` answers every access question; views, templates, jobs and the
app-wide write guard all ask it. The writer functions at the bottom are the only way
the columns it reads change: moderators freeze and unfreeze, admins grant
complimentary memberships, and billing reports what Stripe said through
``apply_subscription``. This module imports nothing from ``billing`` or ``articles``.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask, abort, current_app, g, jsonify, render_template, request
from flask_login import current_user

from club import audit
from club.clock import utcnow
from club.extensions import db
from club.models import Appeal, User
from club.text import DIRECTION_CONTROLS

log = logging.getLogger(__name__)

FROZEN_TITLE = "Account Frozen"
FROZEN_MESSAGE = (
    "Your account is frozen. You can still view content but cannot interact with it. "
    "Please go to your settings to update your account status."
)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Stripe subscription statuses, grouped by what they mean for access.
PAID_STATUSES = frozenset({"active", "trialing"})
GRACE_STATUSES = frozenset({"past_due"})
PAYMENT_FAILED_STATUSES = frozenset({"unpaid", "incomplete_expired", "paused"})
ENDED_STATUSES = frozenset({"canceled"})
NOT_STARTED_STATUSES = frozenset({"incomplete"})
# Over for good: Stripe never bills these again; nothing to manage or cancel, only replace.
FINISHED_STATUSES = ENDED_STATUSES | frozenset({"incomplete_expired"})
LIVE_STATUSES = PAID_STATUSES | GRACE_STATUSES
# A subscription in these can be paid again and carry on (Stripe retries, the member pays).
RECOVERABLE_STATUSES = GRACE_STATUSES | frozenset({"unpaid", "paused"})


class Reason(enum.StrEnum):
    """Why an account cannot interact."""

    NOT_SIGNED_IN = "not signed in"
    EMAIL_NOT_CONFIRMED = "email not confirmed"
    NOT_SUBSCRIBED = "not subscribed"
    FIRST_PAYMENT_PENDING = "first payment pending"
    PAYMENT_FAILED = "payment failed"
    SUBSCRIPTION_ENDED = "subscription ended"
    FROZEN_BY_MODERATOR = "frozen by a moderator"


# What a subscription (a new one, or a payment on the running one) puts right.
MENDED_BY_PAYING = {Reason.NOT_SUBSCRIBED, Reason.PAYMENT_FAILED, Reason.SUBSCRIPTION_ENDED}


class Grant(enum.StrEnum):
    """Why an account can interact."""

    ADMIN = "admin"
    COMPLIMENTARY = "complimentary membership"
    SUBSCRIPTION = "paid membership"


ACTIONS = {
    Reason.NOT_SIGNED_IN: "Sign up to join the conversation.",
    Reason.EMAIL_NOT_CONFIRMED: (
        "Confirm your email address with the link we sent you; "
        "you can ask for a new link in your settings."
    ),
    # The banner adds the price, which billing reads from Stripe's price object.
    Reason.NOT_SUBSCRIBED: (
        "Subscribe in your settings to comment, like and earn the verified badge."
    ),
    # Stripe's "incomplete": Checkout was paid with a method that settles later (a bank
    # debit), or the bank still wants a confirmation. Subscribing again would pay twice.
    Reason.FIRST_PAYMENT_PENDING: (
        "Your first payment is still being processed. Your membership starts as soon as it "
        "goes through; we will email you."
    ),
    # Settings offers "Manage subscription" then, not Subscribe: the subscription still runs
    # and is paid again once a payment goes through.
    Reason.PAYMENT_FAILED: (
        "Your payment failed. Update your payment method under Manage subscription in settings."
    ),
    Reason.SUBSCRIPTION_ENDED: "Your membership has ended. Subscribe again in settings.",
    Reason.FROZEN_BY_MODERATOR: "A moderator froze your account.",
}
# What a moderator-frozen account can do next: one appeal per freeze (club.moderation).
APPEAL_NEXT = {
    None: "You can appeal in settings.",
    "open": "Your appeal is with the admins; their answer will show in settings.",
}
APPEAL_ANSWERED = "An admin has answered your appeal; their reply is in settings."


def appeal_next(status: str | None) -> str:
    """What a moderator-frozen account can do next, given its appeal's ``status``."""
    return APPEAL_NEXT.get(status, APPEAL_ANSWERED)


# A first payment that never went through: there is no running subscription whose card
# could be updated, so settings offers only Subscribe.
NEVER_STARTED = (
    "Your first payment failed, so your membership never started. Subscribe again in settings."
)


@dataclass(frozen=True)
class Standing:
    """What one account may do at one moment, and why."""

    signed_in: bool
    can_interact: bool
    badge: bool
    reason: Reason | None = None
    grant: Grant | None = None
    grace_ends_at: datetime | None = None
    access_ends_at: datetime | None = None
    moderator_reason: str | None = None
    # Where the appeal against a moderator's freeze stands: None before one is sent. Read
    # for the signed-in account only (``current_standing``), not for every name shown.
    appeal_status: str | None = None
    frozen_since: datetime | None = None
    frozen_until: datetime | None = None
    # A payment failed before the membership ever started (Stripe's incomplete_expired):
    # the member subscribes again rather than updating a card on a running subscription.
    never_started: bool = False

    @property
    def frozen(self) -> bool:
        """A signed-in account that cannot interact is frozen (read-only)."""
        return self.signed_in and not self.can_interact

    @property
    def title(self) -> str | None:
        """The banner's title: every signed-in account that cannot interact is frozen.

        The product treats "never subscribed" and "email not confirmed" as frozen,
        read-only mode too; ``action`` says what each of those accounts should do.
        """
        return FROZEN_TITLE if self.frozen else None

    @property
    def message(self) -> str | None:
        """The banner's message, the same for every frozen account."""
        return FROZEN_MESSAGE if self.frozen else None

    @property
    def action(self) -> str | None:
        """What the account can do about its standing, in the site's words."""
        if self.reason is None:
            return None
        if self.reason is Reason.FROZEN_BY_MODERATOR:
            return f"{self._freeze_said()} {appeal_next(self.appeal_status)}"
        if self.reason is Reason.PAYMENT_FAILED and self.never_started:
            return NEVER_STARTED
        return ACTIONS[self.reason]

    def _freeze_said(self) -> str:
        """The moderator's freeze: until when, and why."""
        if self.moderator_reason:
            # The end as the freeze email and settings write it: midnight UTC that day.
            until = (
                f" until {self.frozen_until:%d %B %Y, %H:%M} UTC"
                if self.frozen_until
                else " with no end date"
            )
            # Stripped of direction controls too: one saved before they were refused
            # (a stray end-of-isolate) would close the isolate early.
            said = DIRECTION_CONTROLS.sub("", self.moderator_reason).rstrip()
            stop = "" if said.endswith((".", "!", "?", "…")) else "."
            # Isolated (FSI … PDI), the reason's own direction cannot turn the site's words.
            return f"A moderator froze your account{until}: \u2068{said}{stop}\u2069"
        return ACTIONS[Reason.FROZEN_BY_MODERATOR]

    @property
    def settings_url(self) -> str:
        """Where in settings this account can change its standing: billing for what paying
        mends, else its status (a moderator's freeze is appealed there, an email confirmed)."""
        return "/settings#billing" if self.reason in MENDED_BY_PAYING else "/settings#status"

    @property
    def in_grace(self) -> bool:
        return self.grace_ends_at is not None

    @property
    def grace_label(self) -> str:
        """What the grace period's end takes away, as a heading for its date."""
        return "Badge removed on" if self.grant is Grant.ADMIN else "Freezes on"

    @property
    def grace_warning(self) -> str | None:
        """What happens when the grace period ends unpaid, in one sentence.

        An admin's access never depends on paying: only the badge their payment earns goes.
        """
        if self.grace_ends_at is None:
            return None
        when = f"{self.grace_ends_at:%d %B %Y at %H:%M} UTC"
        if self.grant is Grant.ADMIN:
            return (
                f"Your verified badge will be removed on {when} unless the payment goes "
                "through; your admin access does not depend on it."
            )
        return f"Your account will be frozen on {when} unless the payment goes through."


VISITOR = Standing(signed_in=False, can_interact=False, badge=False, reason=Reason.NOT_SIGNED_IN)


@dataclass(frozen=True)
class _Billing:
    """The subscription's verdict before freezes and grants are considered."""

    ok: bool
    reason: Reason | None = None
    grace_ends_at: datetime | None = None
    access_ends_at: datetime | None = None
    never_started: bool = False


def grace_period() -> timedelta:
    """Return how long a past-due account keeps interacting."""
    return timedelta(days=current_app.config["BILLING_GRACE_DAYS"])


def is_moderator_freeze_in_force(user: User, now: datetime) -> bool:
    """Tell whether a moderator's freeze applies now; one past its end date does not."""
    if user.frozen_at is None:
        return False
    return user.frozen_until is None or user.frozen_until > now


def cancellation_has_lapsed(user: User, now: datetime) -> bool:
    """Tell whether a subscription cancelled at its period's end has reached that end.

    Stripe ends it then; until its webhook lands the record still says "active".
    """
    ends = user.subscription_period_end
    return bool(user.subscription_cancel_at_period_end) and ends is not None and ends <= now


def subscription_running(user: User, now: datetime | None = None) -> bool:
    """Tell whether ``user`` has a subscription still running: one to manage, not to buy."""
    return user.subscription_status in LIVE_STATUSES and not cancellation_has_lapsed(
        user, now or utcnow()
    )


def _billing_verdict(user: User, now: datetime) -> _Billing:
    status = user.subscription_status
    if status in PAID_STATUSES:
        if cancellation_has_lapsed(user, now):
            return _Billing(ok=False, reason=Reason.SUBSCRIPTION_ENDED)
        ends = user.subscription_period_end if user.subscription_cancel_at_period_end else None
        return _Billing(ok=True, access_ends_at=ends)
    if status in GRACE_STATUSES:
        # Without a known start the grace period cannot be placed: fail closed.
        since = user.past_due_since or user.subscription_updated_at
        if since is None:
            return _Billing(ok=False, reason=Reason.PAYMENT_FAILED)
        grace_ends = since + grace_period()
        if now < grace_ends:
            return _Billing(ok=True, grace_ends_at=grace_ends)
        return _Billing(ok=False, reason=Reason.PAYMENT_FAILED)
    if status in ENDED_STATUSES:
        return _Billing(ok=False, reason=Reason.SUBSCRIPTION_ENDED)
    if status is None:
        return _Billing(ok=False, reason=Reason.NOT_SUBSCRIBED)
    if status in NOT_STARTED_STATUSES:
        return _Billing(ok=False, reason=Reason.FIRST_PAYMENT_PENDING)
    if status not in PAYMENT_FAILED_STATUSES:
        # A status Stripe adds later must never grant access by accident.
        log.warning("unknown subscription status %r for user %s", status, user.id)
    never_started = status == "incomplete_expired"
    return _Billing(ok=False, reason=Reason.PAYMENT_FAILED, never_started=never_started)


def paid_membership_ended(user: User, now: datetime | None = None) -> bool:
    """Whether ``user``'s own, paid-for membership has ended: news to them even while a
    moderator's freeze keeps the account read-only (the freeze may be lifted first). An
    admin's access and a complimentary membership carry on without it."""
    if user.is_admin or user.complimentary:
        return False
    return _billing_verdict(user, now or utcnow()).reason is Reason.SUBSCRIPTION_ENDED


def standing(user: Any, now: datetime | None = None) -> Standing:
    """Return what ``user`` (a User, an anonymous user or None) may do at ``now``."""
    if user is None or not getattr(user, "is_authenticated", False):
        return VISITOR
    now = now or utcnow()
    billing = _billing_verdict(user, now)
    paid = billing.ok and user.is_email_confirmed
    if user.is_admin:
        grant = Grant.COMPLIMENTARY if user.complimentary else Grant.ADMIN
        return Standing(
            signed_in=True,
            can_interact=True,
            badge=user.complimentary or paid,
            grant=grant,
            # A complimentary admin keeps the badge whatever the payment does.
            grace_ends_at=billing.grace_ends_at if paid and not user.complimentary else None,
        )
    if is_moderator_freeze_in_force(user, now):
        return Standing(
            signed_in=True,
            can_interact=False,
            badge=False,
            reason=Reason.FROZEN_BY_MODERATOR,
            moderator_reason=user.frozen_reason,
            frozen_since=user.frozen_at,
            frozen_until=user.frozen_until,
        )
    if user.complimentary:
        return Standing(signed_in=True, can_interact=True, badge=True, grant=Grant.COMPLIMENTARY)
    if not user.is_email_confirmed:
        return Standing(
            signed_in=True, can_interact=False, badge=False, reason=Reason.EMAIL_NOT_CONFIRMED
        )
    if billing.ok:
        return Standing(
            signed_in=True,
            can_interact=True,
            badge=True,
            grant=Grant.SUBSCRIPTION,
            grace_ends_at=billing.grace_ends_at,
            access_ends_at=billing.access_ends_at,
        )
    return Standing(
        signed_in=True,
        can_interact=False,
        badge=False,
        reason=billing.reason,
        never_started=billing.never_started,
    )


def appeal_status(user: User) -> str | None:
    """Where ``user``'s appeal against their current freeze stands: None before one."""
    if user.id is None or user.frozen_at is None:
        return None
    return db.session.scalar(
        sa.select(Appeal.status).where(
            Appeal.user_id == user.id, Appeal.freeze_started_at == user.frozen_at
        )
    )


def can_administer(user: Any) -> bool:
    """Tell whether ``user`` may use the admin pages."""
    return bool(getattr(user, "is_authenticated", False) and user.is_admin)


def can_edit_profile(user: Any, now: datetime | None = None) -> bool:
    """Tell whether ``user`` may change what others see of them (name, handle, bio).

    Billing-frozen accounts may; an account a moderator froze may not, so a freeze for
    abuse cannot be dodged by rewriting the profile.
    """
    if not getattr(user, "is_authenticated", False):
        return False
    return user.is_admin or not is_moderator_freeze_in_force(user, now or utcnow())


def can_delete_own_comments_when_leaving(user: Any) -> bool:
    """Tell whether ``user``, deleting their account, may have their comments deleted too.

    Every account may, whatever its standing, a moderator's freeze included: deleting one
    comment is an interaction a frozen account is refused, but what a member wrote is
    theirs to take with them when they go (the README's deletion promise). It does not
    erase evidence: each comment goes only as its author could delete it, so one a
    moderator has yet to review stays until they decide.
    """
    return bool(getattr(user, "is_authenticated", False))


# --- The request-time view of the policy ------------------------------------------------


def current_standing() -> Standing:
    """Return the signed-in account's standing, computed once per request."""
    if "standing" not in g:
        g.standing = with_appeal(standing(current_user), current_user)
    return g.standing


def with_appeal(st: Standing, user: User) -> Standing:
    """``st`` with where ``user``'s appeal stands, for what the site tells them about it."""
    if st.reason is not Reason.FROZEN_BY_MODERATOR:
        return st
    return dataclasses.replace(st, appeal_status=appeal_status(user))


F = TypeVar("F", bound=Callable[..., Any])


def allowed_while_frozen(view: F) -> F:
    """Mark a view that a signed-in account may write to whatever its standing."""
    view.allowed_while_frozen = True
    return view


def public_write(view: F) -> F:
    """Mark a view that accepts writes from visitors (log-in, sign-up, webhooks)."""
    view.public_write = True
    return view


def view_marker(endpoint: str | None) -> str | None:
    """Return "public", "frozen_ok" or None for the view behind ``endpoint``."""
    view = current_app.view_functions.get(endpoint) if endpoint else None
    if view is None:
        return None
    if getattr(view, "public_write", False):
        return "public"
    if getattr(view, "allowed_while_frozen", False):
        return "frozen_ok"
    return None


def wants_json() -> bool:
    """Tell whether the client asked for JSON rather than a page."""
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.is_json or best == "application/json"


def refuse(st: Standing):
    """Return the response that refuses a write: JSON for scripts, the error page otherwise."""
    user_id = current_user.get_id().split(":", 1)[0] if current_user.is_authenticated else "-"
    log.info("refused %s %s for user %s: %s", request.method, request.path, user_id, st.reason)
    if wants_json():
        body = {
            "error": "forbidden",
            "reason": str(st.reason),
            "message": st.message or "",
            "settings": st.settings_url,
        }
        if st.action:
            body["action"] = st.action
        return jsonify(body), 403
    return render_template("errors/403.html", refused=st), 403


def enforce_standing():
    """Refuse every state-changing request that the account's standing does not allow.

    Fails closed: a write endpoint is open only if it is explicitly marked.
    """
    if request.method not in WRITE_METHODS:
        return None
    marker = view_marker(request.endpoint)
    if marker == "public" or request.endpoint is None:
        return None  # unknown endpoints fall through to 404/405
    if not current_user.is_authenticated:
        abort(401)  # the error page, or JSON that says how to log in again
    if marker == "frozen_ok":
        return None
    st = current_standing()
    if not st.can_interact:
        return refuse(st)
    return None


def init_app(app: Flask) -> None:
    """Install the app-wide write guard and the ``standing`` template global."""
    app.before_request(enforce_standing)

    @app.context_processor
    def inject_standing() -> dict:
        return {"standing": current_standing(), "FROZEN_TITLE": FROZEN_TITLE}


# --- Writers: the only way the columns above change ------------------------------------


def freeze(user: User, *, by: User | None, reason: str, until: datetime | None = None) -> None:
    """Freeze ``user`` by a moderator's decision, optionally until a date."""
    reason = reason.strip()
    if not reason:
        raise ValueError("a freeze needs a reason")
    if user.is_admin:
        raise ValueError("an admin cannot be frozen; revoke the admin role first")
    now = utcnow()
    if until is not None and until <= now:
        raise ValueError("the end date must be in the future")
    if not is_moderator_freeze_in_force(user, now):
        # A freeze already in force is amended, not restarted: an appeal the member sent
        # against it (tied to its start) stays open for an admin to answer.
        user.frozen_at = now
    user.frozen_reason = reason
    user.frozen_until = until
    user.frozen_by_id = by.id if by else None
    detail = reason + (f" (until {until:%Y-%m-%d %H:%M} UTC)" if until else "")
    audit.record(by, "user.freeze", user, detail)


def unfreeze(user: User, *, by: User | None, note: str = "") -> None:
    """Lift a moderator's freeze; ValueError when none is in force (nothing is written)."""
    if not is_moderator_freeze_in_force(user, utcnow()):
        raise ValueError("this account is not frozen by a moderator")
    # Which freeze was lifted: the columns that say so are cleared below.
    lifted = f"freeze of {user.frozen_at:%Y-%m-%d}: {user.frozen_reason}"
    user.frozen_at = None
    user.frozen_reason = None
    user.frozen_until = None
    user.frozen_by_id = None
    audit.record(by, "user.unfreeze", user, lifted + (f" ({note})" if note else ""))


def set_complimentary(user: User, granted: bool, *, by: User | None) -> None:
    """Grant or revoke a complimentary membership."""
    user.complimentary = granted
    audit.record(by, "user.comp_grant" if granted else "user.comp_revoke", user)


def set_admin(user: User, is_admin: bool, *, by: User | None) -> None:
    """Give or take the admin role."""
    user.is_admin = is_admin
    audit.record(by, "user.admin_grant" if is_admin else "user.admin_revoke", user)


def link_customer(user: User, customer_id: str | None) -> None:
    """Remember which Stripe customer pays for ``user`` (None once Stripe deleted it)."""
    user.stripe_customer_id = customer_id


@dataclass(frozen=True)
class SubscriptionChange:
    """What ``apply_subscription`` did, for billing to decide which mail to send."""

    applied: bool
    was_interacting: bool
    now_interacting: bool
    previous_status: str | None
    status: str | None
    paid_before: bool = False

    @property
    def started(self) -> bool:
        return self.applied and self.now_interacting and not self.was_interacting

    @property
    def recovered(self) -> bool:
        """Access came back to a membership that had stopped being paid (an overdue
        renewal paid, a pause lifted): the member is not new, and is not welcomed as such."""
        return self.started and self.previous_status in RECOVERABLE_STATUSES

    @property
    def rejoined(self) -> bool:
        """A member whose membership had ended subscribed again: welcomed back, not as new.

        Known by an earlier payment, not by the status just before: the new subscription
        often waits "incomplete" first (a bank's check, a declined card tried again).
        """
        return self.started and self.paid_before and not self.recovered

    @property
    def ended(self) -> bool:
        """Access ended here, or the subscription did.

        A cancellation at the period's end has already made the account read-only (the
        paid period is over) by the time Stripe reports the subscription ended.
        """
        if not self.applied or self.now_interacting:
            return False
        finished = self.previous_status in LIVE_STATUSES and self.status not in LIVE_STATUSES
        return self.was_interacting or finished


def apply_subscription(
    user: User,
    *,
    subscription_id: str | None,
    status: str | None,
    period_end: datetime | None,
    cancel_at_period_end: bool = False,
    observed_at: datetime | None = None,
    payment_error: str | None = None,
) -> SubscriptionChange:
    """Record the subscription state Stripe reported for ``user``.

    ``observed_at`` is when Stripe's state was read; an older observation than the one
    already stored is ignored, so a late event never overwrites newer state. The end of
    an old subscription never ends a newer, live one.
    """
    now = utcnow()
    observed_at = observed_at or now
    before = standing(user, now)
    previous = user.subscription_status
    stale = user.subscription_updated_at is not None and observed_at < user.subscription_updated_at
    another = subscription_id is not None and user.subscription_id not in (None, subscription_id)
    replaced_ending = another and (
        (previous in LIVE_STATUSES and status not in LIVE_STATUSES)
        # A late word of an old subscription's end must not hide a newer one Stripe may
        # still bill (a first payment settling, an unpaid one the member can pay).
        or (previous not in FINISHED_STATUSES and status in FINISHED_STATUSES)
    )
    if stale or replaced_ending:
        return SubscriptionChange(
            False, before.can_interact, before.can_interact, previous, previous
        )
    if status in GRACE_STATUSES and previous not in GRACE_STATUSES:
        user.past_due_since = observed_at
    elif status not in GRACE_STATUSES:
        user.past_due_since = None
    if status in PAID_STATUSES:
        user.last_payment_error = None
    elif payment_error:
        user.last_payment_error = payment_error[:500]
    user.subscription_id = subscription_id
    user.subscription_status = status
    user.subscription_period_end = period_end
    user.subscription_cancel_at_period_end = cancel_at_period_end
    user.subscription_updated_at = observed_at
    paid_before = user.has_paid
    user.has_paid = paid_before or status in PAID_STATUSES
    after = standing(user, now)
    return SubscriptionChange(
        True, before.can_interact, after.can_interact, previous, status, paid_before
    )


def requires_interaction(view: F) -> F:
    """Refuse a view (any method) to accounts that cannot interact.

    The app-wide guard already covers writes; use this on GET pages that exist only to
    write, such as an edit form.
    """

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any):
        st = current_standing()
        if not current_user.is_authenticated:
            abort(401)
        if not st.can_interact:
            return refuse(st)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]
