"""A moderator's freeze beyond the account itself: appeals, and freezes carried over.

An appeal: one per freeze, decided by an admin. Accepting it lifts the freeze through
``membership.unfreeze``; rejecting it leaves the freeze and stores a reply the member
reads in settings. Every decision is audited; the caller commits.

A carried freeze: an account deleted while frozen leaves its freeze behind, keyed by a
hash of its address, and a new account on that address takes it up.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from club import audit, membership, transactions
from club.clock import utcnow
from club.extensions import db
from club.models import Appeal, CarriedFreeze, User


class AppealRefused(Exception):
    """The appeal cannot be sent or decided; the message says why."""


class ReplyRequired(AppealRefused):
    """A rejection needs a reply: the member reads it in their settings."""


def current_appeal(user: User) -> Appeal | None:
    """Return the appeal against ``user``'s current freeze, if they sent one."""
    if user.frozen_at is None:
        return None
    return db.session.scalar(
        sa.select(Appeal).where(
            Appeal.user_id == user.id, Appeal.freeze_started_at == user.frozen_at
        )
    )


def latest_decided_appeal(user: User) -> Appeal | None:
    """Return the member's most recently decided appeal (to show the admin's reply)."""
    return db.session.scalar(
        sa.select(Appeal)
        .where(Appeal.user_id == user.id, Appeal.status != "open")
        .order_by(Appeal.decided_at.desc(), Appeal.id.desc())
        .limit(1)
    )


def can_appeal(user: User) -> bool:
    """Tell whether ``user`` is under a moderator's freeze and has not appealed it yet."""
    frozen = membership.is_moderator_freeze_in_force(user, utcnow())
    return frozen and current_appeal(user) is None


def submit_appeal(user: User, text: str) -> Appeal:
    """Record ``user``'s one appeal against their current freeze."""
    if not membership.is_moderator_freeze_in_force(user, utcnow()):
        raise AppealRefused(
            "Your account is not frozen by a moderator, so there is nothing to appeal."
        )
    if current_appeal(user) is not None:
        raise AppealRefused("You have already appealed this freeze. An admin will reply here.")
    appeal = Appeal(user_id=user.id, freeze_started_at=user.frozen_at, text=text.strip())
    try:
        with db.session.begin_nested():
            db.session.add(appeal)
    except sa.exc.IntegrityError:
        raise AppealRefused("You have already appealed this freeze.") from None
    audit.record(user, "appeal.submit", user)
    return appeal


def _waiting_appeals(query: sa.Select) -> sa.Select:
    """Limit ``query`` to open appeals against a freeze still in place."""
    return query.join(User, User.id == Appeal.user_id).where(
        Appeal.status == "open",
        User.frozen_at == Appeal.freeze_started_at,
        # A freeze that ran out leaves nothing to decide.
        sa.or_(User.frozen_until.is_(None), User.frozen_until > utcnow()),
    )


def open_appeals() -> list[Appeal]:
    """Return appeals waiting for a decision on a freeze still in place, oldest first."""
    query = _waiting_appeals(sa.select(Appeal)).order_by(Appeal.created_at, Appeal.id)
    return list(db.session.scalars(query))


def open_appeal_count() -> int:
    """Return how many appeals ``open_appeals`` lists (for the dashboard)."""
    return db.session.scalar(_waiting_appeals(sa.select(sa.func.count(Appeal.id))))


def lift_freeze(user: User, *, by: User | None, note: str = "") -> None:
    """Unfreeze ``user`` and settle an appeal still open against that freeze.

    ValueError when no moderator's freeze is in force: nothing is written.
    """
    appeal = current_appeal(user)  # before the freeze it belongs to is lifted
    membership.unfreeze(user, by=by, note=note)
    if appeal is not None and appeal.status == "open":
        appeal.status = "accepted"
        appeal.reply = "The freeze has been lifted."
        appeal.decided_at = utcnow()
        appeal.decided_by_id = by.id if by else None
        audit.record(by, "appeal.accept", user, "settled by lifting the freeze")


def _decide(appeal: Appeal, status: str, by: User, reply: str | None) -> None:
    if appeal.status != "open":
        raise AppealRefused("This appeal has already been decided.")
    appeal.status = status
    appeal.reply = (reply or "").strip() or None
    appeal.decided_at = utcnow()
    appeal.decided_by_id = by.id


def accept_appeal(appeal: Appeal, *, by: User, reply: str | None = None) -> None:
    """Accept ``appeal``: lift the freeze it answers."""
    _decide(appeal, "accepted", by, reply)
    user = appeal.user
    still_frozen = membership.is_moderator_freeze_in_force(user, utcnow())
    if still_frozen and user.frozen_at == appeal.freeze_started_at:
        membership.unfreeze(user, by=by, note="appeal accepted")
    audit.record(by, "appeal.accept", appeal.user, appeal.reply or "")


def reject_appeal(appeal: Appeal, *, by: User, reply: str) -> None:
    """Reject ``appeal`` with a reply the member sees in settings."""
    if not reply or not reply.strip():
        raise ReplyRequired("Write a reply: the member sees it in their settings.")
    user = appeal.user
    if not (
        membership.is_moderator_freeze_in_force(user, utcnow())
        and user.frozen_at == appeal.freeze_started_at
    ):
        # "The freeze stays in place" would be false: the member can interact again.
        raise AppealRefused("That freeze has already ended, so there is nothing to reject.")
    _decide(appeal, "rejected", by, reply)
    audit.record(by, "appeal.reject", appeal.user, appeal.reply or "")


def notify_frozen(user: User) -> None:
    """Email ``user`` that a moderator froze the account, why, and how to appeal.

    Call it inside the freeze's transaction: the mail is written now and queued once the
    freeze commits (never if it does not), so an account deleted straight after, as the
    freeze let its deletion go on, does not have to be read again.
    """
    from club.accounts import absolute_url, greeting, queue_mail

    until = (
        f" until {user.frozen_until:%d %B %Y, %H:%M UTC}"
        if user.frozen_until
        else " with no end date"
    )
    transactions.call_after_commit(
        queue_mail,
        user.email,
        "Your account has been frozen",
        f"{greeting(user)}\n\nA moderator froze your account{until}. The reason "
        f"they gave:\n\n{user.frozen_reason}\n\nYou can still read everything, but you "
        "cannot comment or like while the freeze lasts. If you think this is a mistake, "
        f"you can send one appeal from your settings: {absolute_url('settings.index')}\n",
    )


def notify_unfrozen(user: User) -> None:
    """Email ``user`` that a moderator lifted the freeze, and what the account can do now.

    Call it inside the unfreeze's transaction, as ``notify_frozen``.
    """
    from club.accounts import absolute_url, greeting, queue_mail

    standing = membership.standing(user)
    if standing.can_interact:
        now = "You can comment, reply and like again."
    else:
        # Lifting a moderator's freeze does not pay for a membership.
        now = f"Your account is still read-only ({standing.reason}). {standing.action}"
    transactions.call_after_commit(
        queue_mail,
        user.email,
        "Your account is no longer frozen",
        f"{greeting(user)}\n\nA moderator lifted the freeze on your account. "
        f"{now}\n\nYour settings: {absolute_url('settings.index')}\n",
    )


def notify_appeal_decided(appeal: Appeal) -> None:
    """Email the member the admin's decision on their appeal.

    Call it inside the decision's transaction, as ``notify_frozen``.
    """
    from club.accounts import absolute_url, greeting, queue_mail

    outcome = (
        "accepted: your account is no longer frozen"
        if appeal.status == "accepted"
        else ("rejected: the freeze stays in place")
    )
    reply = f"\n\nThe admin's reply:\n\n{appeal.reply}" if appeal.reply else ""
    transactions.call_after_commit(
        queue_mail,
        appeal.user.email,
        f"Your appeal was {appeal.status}",
        f"{greeting(appeal.user)}\n\nYour appeal was {outcome}.{reply}\n\n"
        f"Your settings: {absolute_url('settings.index')}\n",
    )


# --- Freezes carried over a deleted account ------------------------------------------


def email_digest(email: str) -> str:
    """A keyed hash of a (normalised) address: it matches the address again, and without
    the site's secret key it cannot be turned back into one."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, email.encode(), hashlib.sha256).hexdigest()


def carry_freeze_of_deleted(user: User, now: datetime | None = None) -> None:
    """Keep the freeze in force on ``user``, an account being deleted, for its address."""
    now = now or utcnow()
    if not membership.is_moderator_freeze_in_force(user, now):
        return
    digest = email_digest(user.email)
    carried = db.session.get(CarriedFreeze, digest) or CarriedFreeze(email_digest=digest)
    carried.reason, carried.until = user.frozen_reason or "", user.frozen_until
    db.session.add(carried)


def apply_carried_freeze(user: User, now: datetime | None = None) -> bool:
    """Freeze a new account whose address left while frozen; True if it did."""
    now = now or utcnow()
    carried = db.session.get(CarriedFreeze, email_digest(user.email))
    if carried is None:
        return False
    db.session.delete(carried)  # the freeze lives on the account again
    if carried.until is not None and carried.until <= now:
        return False
    user.frozen_at, user.frozen_reason, user.frozen_until = now, carried.reason, carried.until
    db.session.flush()  # the audit row names the account's id
    detail = f"carried over from a deleted account: {carried.reason}"
    audit.record(None, "user.freeze", user, detail)
    return True


def prune_carried_freezes(now: datetime | None = None) -> int:
    """Forget carried freezes that have ended; return how many."""
    ended = sa.delete(CarriedFreeze).where(CarriedFreeze.until <= (now or utcnow()))
    return db.session.execute(ended).rowcount
