"""Accounts: sign-up, log-in checks, confirmation, reset, profile, export and deletion.

Views call these functions and commit once; nothing here commits. Mail goes out through
``worker.queues.enqueue`` (inline without Redis) with links built from ``BASE_URL``,
never from the request's Host header.
"""

from __future__ import annotations

import hmac
import logging
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from werkzeug.security import check_password_hash, generate_password_hash

from club import audit, mail, membership, moderation, signals, tokens, transactions
from club.clock import utcnow
from club.extensions import db, login_manager
from club.models import Appeal, AuditEntry, User, new_session_token

log = logging.getLogger(__name__)

# Compared against when no account matches, so a log-in for an unknown email costs the
# same hashing time as one for a real account.
_DUMMY_HASH = generate_password_hash("not-a-real-password-only-for-timing")


# A log-in lasts this long however often it is used: the session cookie is re-signed on
# every request, so its own age says nothing about when the account signed in.
SESSION_LIFETIME = timedelta(days=30)
CLOCK_SKEW = timedelta(minutes=5)
# Unconfirmed accounts deleted per prune run: the hourly job catches up on a backlog.
PURGE_BATCH = 500


def session_id(user: User, signed_in_at: datetime) -> str:
    """The id Flask-Login keeps in the session and writes into the remember cookie.

    The session token lets log-out and a password change end every copy; the log-in time
    ends each one ``SESSION_LIFETIME`` after it began.
    """
    return f"{user.get_id()}:{int(signed_in_at.timestamp())}"


def signed_in_at(session_id: str | None) -> datetime | None:
    """When the log-in behind ``session_id`` happened (None if it says no valid time)."""
    stamp = (session_id or "").rsplit(":", 1)[-1] if (session_id or "").count(":") == 2 else ""
    if not stamp.isdigit() or len(stamp) > 12:
        return None
    return datetime.fromtimestamp(int(stamp), UTC)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Return the account a session id names, if its token matches and it has not expired."""
    user_id, _, rest = session_id.partition(":")
    token = rest.rpartition(":")[0]
    started = signed_in_at(session_id)
    now = utcnow()
    if not user_id.isdigit() or not token or started is None:
        return None
    if not now - SESSION_LIFETIME <= started <= now + CLOCK_SKEW:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not hmac.compare_digest(user.session_token, token):
        return None
    return user


def normalise_email(email: str) -> str:
    """Return the form an address is stored and looked up in.

    NFC-composed as well as lower-cased: "jürgen@" typed with a combining accent is the
    same address as with a precomposed "ü", and must find the same account.
    """
    return unicodedata.normalize("NFC", email.strip().lower())


def find_by_email(email: str) -> User | None:
    """Return the account with ``email`` (case-insensitively), if any."""
    return db.session.scalar(
        sa.select(User).where(sa.func.lower(User.email) == normalise_email(email))
    )


def typed_handle(text: str) -> str:
    """``text`` as handles are stored: lower-case, and without the "@" the site shows
    them with, which "@alice" is typed with as often as "alice" without."""
    return text.strip().removeprefix("@").lower()


def find_by_handle(handle: str) -> User | None:
    """Return the account with ``handle``, if any."""
    return db.session.scalar(sa.select(User).where(User.handle == handle.strip().lower()))


def absolute_url(endpoint: str, **values: Any) -> str:
    """Return a link to ``endpoint`` on the configured site, for emails.

    Built from ``BASE_URL`` alone, so it works outside a request (commands, jobs) and a
    forged Host header can never reach an email.
    """
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["BASE_URL"] + path


def queue_mail(to: str, subject: str, body: str) -> None:
    """Queue one email (sent inline when no Redis is configured); ``club.mail`` sends it."""
    from worker.queues import enqueue

    enqueue("worker.jobs.send_mail", to, subject, body, queue="mail")


def greeting(user: User) -> str:
    """The first line of mail to ``user``: by name only once the address is proven theirs.

    Anyone can sign up with a stranger's address and any display name, so a name in mail
    to an unconfirmed address would carry the signer's words ("claim your refund at ...")
    to that stranger inside the site's genuine mail.
    """
    if user.email_confirmed_at is None:
        return "Hello,"
    return f"Hello {user.display_name},"


# --- Sign-up and log-in ----------------------------------------------------------------


class HandleTaken(Exception):
    """Someone already has that handle."""


@dataclass(frozen=True)
class SignUp:
    """What sign-up did: a new account, or a notice to the owner of an existing one."""

    user: User | None
    existing: User | None


def sign_up(*, email: str, handle: str, display_name: str, password: str) -> SignUp:
    """Create an unconfirmed account, or find the one that already owns ``email``.

    The caller must answer both outcomes identically (no account enumeration); handles
    are public, so a taken handle raises ``HandleTaken`` for the form to show.
    """
    email = normalise_email(email)
    # The handle is checked first and whatever the email: answering "handle taken" only
    # for unknown emails would tell an attacker which emails have accounts.
    if find_by_handle(handle) is not None:
        raise HandleTaken(handle)
    existing = find_by_email(email)
    if existing is not None:
        generate_password_hash(password)  # spend the same time as a real sign-up
        return SignUp(user=None, existing=existing)
    user = User(email=email, handle=handle.strip().lower(), display_name=display_name.strip())
    user.set_password(password)
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except sa.exc.IntegrityError:
        # Lost a race with a concurrent sign-up: decide again from what is stored now.
        existing = find_by_email(email)
        if existing is not None:
            return SignUp(user=None, existing=existing)
        raise HandleTaken(handle) from None
    moderation.apply_carried_freeze(user)
    return SignUp(user=user, existing=None)


def authenticate(email: str, password: str) -> User | None:
    """Return the account if ``password`` is its password; spend equal time either way."""
    user = find_by_email(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        log.info("log-in failed: no such account")
        return None
    if not user.check_password(password):
        log.info("log-in failed: wrong password for user %s", user.id)
        return None
    return user


def record_log_in(user: User) -> None:
    """Note a successful log-in: the account's owner knows the password, so an
    outstanding reset link (bound to this time) stops working."""
    user.last_login_at = utcnow()


def end_all_sessions(user: User) -> None:
    """Invalidate every session and remember cookie of ``user`` (all devices)."""
    user.session_token = new_session_token()


# --- Mail with links -------------------------------------------------------------------


def send_confirmation(user: User, next_url: str | None = None) -> None:
    """Email ``user`` a link that confirms their address, then leads on to ``next_url``
    (a path on this site, checked by the caller and again when the link is opened)."""
    token = tokens.issue(tokens.CONFIRM_EMAIL, user)
    link = absolute_url("auth.confirm_email", token=token, next=next_url)
    site = current_app.config["SITE_NAME"]
    removal = removal_date(user)
    queue_mail(
        user.email,
        f"Confirm your email for {site}",
        f"{greeting(user)}\n\nConfirm your email address by opening this link "
        f"within 3 days:\n\n{link}\n\n"
        f"An account whose address is not confirmed by the end of {removal:%d %B %Y} (UTC) "
        "is deleted; "
        "you can ask for a new link in your settings until then.\n\n"
        f"If you did not sign up for {site}, ignore this message.\n",
    )


def send_signup_notice(user: User, next_url: str | None = None) -> None:
    """Tell the owner of an address that someone tried to sign up with it again; its
    log-in link leads on to ``next_url``, as the confirmation link would have."""
    site = current_app.config["SITE_NAME"]
    queue_mail(
        user.email,
        f"You already have a {site} account",
        f"Someone (perhaps you) tried to create a new {site} account with this email "
        f"address, but it already has one.\n\nLog in: {absolute_url('auth.login', next=next_url)}\n"
        f"Forgot your password? {absolute_url('auth.forgot_password')}\n\n"
        "If this was not you, you can ignore this message; nothing has changed.\n",
    )


def send_password_reset(email: str) -> None:
    """Email a reset link if an account has ``email``; do nothing visible otherwise."""
    user = find_by_email(email)
    if user is None:
        log.info("password reset asked for an unknown address")
        return
    link = absolute_url("auth.reset_password", token=tokens.issue(tokens.RESET_PASSWORD, user))
    site = current_app.config["SITE_NAME"]
    queue_mail(
        user.email,
        f"Reset your {site} password",
        f"{greeting(user)}\n\nSet a new password by opening this link within "
        f"one hour:\n\n{link}\n\nThe link works once. If you did not ask for it, ignore "
        "this message; your password has not changed.\n",
    )


def confirm_email(token: str) -> User:
    """Spend a confirmation token and mark its address confirmed; raise ``TokenError``."""
    claims = tokens.spend(tokens.CONFIRM_EMAIL, token)
    if claims.user.email_confirmed_at is None:
        claims.user.email_confirmed_at = utcnow()
    return claims.user


def reset_password(token: str, password: str) -> User:
    """Spend a reset token and set the new password; raise ``TokenError``.

    Opening the emailed link proves the address, so it also counts as confirmation.
    """
    claims = tokens.spend(tokens.RESET_PASSWORD, token)
    claims.user.set_password(password)
    if claims.user.email_confirmed_at is None:
        claims.user.email_confirmed_at = utcnow()
    return claims.user


# --- Email change ----------------------------------------------------------------------


class EmailTaken(Exception):
    """Another account has the address."""


def request_email_change(user: User, new_email: str) -> None:
    """Email a confirmation link to ``new_email``; the address changes when it is used.

    If another account already has the address, its owner gets a notice instead and the
    member sees the same answer (no enumeration through settings either).
    """
    new_email = normalise_email(new_email)
    owner = find_by_email(new_email)
    site = current_app.config["SITE_NAME"]
    if owner is not None:
        queue_mail(
            new_email,
            f"Someone tried to move a {site} account to this address",
            f"Someone asked to change the email of a {site} account to this address, "
            "which already belongs to an account, so nothing has changed.\n",
        )
        return
    token = tokens.issue(tokens.CHANGE_EMAIL, user, data=new_email)
    queue_mail(
        new_email,
        f"Confirm your new email for {site}",
        # The new address is not proven yet: no name, for the reason in greeting().
        "Hello,\n\nOpen this link within a day to make this address "
        f"your account's email:\n\n{absolute_url('settings.change_email', token=token)}\n\n"
        "If you did not ask for this, ignore this message.\n",
    )


def note_email_change_asked(user: User, new_email: str) -> None:
    """Remember the address ``user`` asked to move to, whether or not a link went there
    (a taken address gets a notice instead): settings shows the same either way."""
    user.pending_email, user.pending_email_at = normalise_email(new_email), utcnow()


def pending_email_change(user: User) -> tuple[str, datetime] | None:
    """The address ``user`` asked to move to and when, while its link may still work."""
    asked_at = user.pending_email_at
    if not user.pending_email or asked_at is None:
        return None
    if asked_at + tokens.LIFETIMES[tokens.CHANGE_EMAIL] <= utcnow():
        return None
    return user.pending_email, asked_at


def change_email(user: User, token: str) -> str:
    """Spend an email-change token of ``user``'s and switch the address; return the old one.

    Raises ``TokenError`` (also for another account's link) or ``EmailTaken``.
    """
    claims = tokens.spend(tokens.CHANGE_EMAIL, token)
    if claims.user.id != user.id or not claims.data:
        raise tokens.TokenInvalid("This link belongs to another account.")
    new_email = normalise_email(claims.data)
    if find_by_email(new_email) is not None:
        raise EmailTaken(new_email)
    old_email = user.email
    user.email = new_email
    user.email_confirmed_at = utcnow()
    user.pending_email = user.pending_email_at = None
    try:
        with db.session.begin_nested():
            db.session.flush()
    except sa.exc.IntegrityError:
        raise EmailTaken(new_email) from None
    return old_email


def send_email_changed_notice(old_email: str, user: User) -> None:
    """Tell the previous address that the account moved away from it."""
    site = current_app.config["SITE_NAME"]
    support = current_app.config["SUPPORT_EMAIL"]
    # Not "reset your password": a reset link would now go to the new address, which is
    # exactly where whoever made an unwanted change reads mail.
    ask = f"write to {support} from this address" if support else "contact the site's team"
    queue_mail(
        old_email,
        f"Your {site} email was changed",
        f"The email of your {site} account (@{user.handle}) is now {user.email}.\n\n"
        f"If you did not make this change, someone else knows your password, and password "
        f"resets now go to the new address. Please {ask}: an administrator can freeze the "
        f"account at once and help you get it back.\n",
    )


def send_password_changed_notice(user: User) -> None:
    """Tell the account's address that its password changed (in settings or by a reset)."""
    site = current_app.config["SITE_NAME"]
    queue_mail(
        user.email,
        f"Your {site} password was changed",
        f"{greeting(user)}\n\nThe password of your {site} account (@{user.handle}) "
        "was just changed, and every other session was signed out.\n\n"
        "If you did not change it, someone else may have had access: choose a new password "
        f"now from {absolute_url('auth.forgot_password')} (the link goes to this address).\n",
    )


# --- Profile, export, deletion ---------------------------------------------------------


def update_profile(user: User, *, display_name: str, handle: str, bio: str) -> None:
    """Change what others see of ``user``; raise ``HandleTaken`` or ``PermissionError``."""
    if not membership.can_edit_profile(user):
        raise PermissionError("profile editing is closed while a moderator's freeze is in force")
    handle = handle.strip().lower()
    if handle != user.handle:
        owner = find_by_handle(handle)
        if owner is not None and owner.id != user.id:
            raise HandleTaken(handle)
    user.display_name = display_name.strip()
    user.handle = handle
    user.bio = bio.strip()
    try:
        with db.session.begin_nested():
            db.session.flush()
    except sa.exc.IntegrityError:
        raise HandleTaken(handle) from None


def export_account(user: User) -> dict[str, Any]:
    """Return everything the site holds about ``user``, ready for ``json.dumps``."""
    st = membership.standing(user)
    appeals = db.session.scalars(
        sa.select(Appeal).where(Appeal.user_id == user.id).order_by(Appeal.id)
    )
    data: dict[str, Any] = {
        "exported_at": utcnow().isoformat(),
        "site": current_app.config["SITE_NAME"],
        "account": {
            "id": user.id,
            "email": user.email,
            "email_confirmed_at": _iso(user.email_confirmed_at),
            "handle": user.handle,
            "display_name": user.display_name,
            "bio": user.bio,
            "created_at": _iso(user.created_at),
            "last_login_at": _iso(user.last_login_at),
            "email_change_asked_for": user.pending_email,
            "email_change_asked_at": _iso(user.pending_email_at),
            "is_admin": user.is_admin,
            "complimentary_membership": user.complimentary,
        },
        "standing": {
            "can_interact": st.can_interact,
            "badge": st.badge,
            "reason": str(st.reason) if st.reason else None,
            "moderator_freeze": {
                "frozen_at": _iso(user.frozen_at),
                "reason": user.frozen_reason,
                "until": _iso(user.frozen_until),
            }
            if user.frozen_at
            else None,
        },
        "subscription": {
            "stripe_customer_id": user.stripe_customer_id,
            "subscription_id": user.subscription_id,
            "status": user.subscription_status,
            "period_end": _iso(user.subscription_period_end),
            "cancel_at_period_end": user.subscription_cancel_at_period_end,
            "past_due_since": _iso(user.past_due_since),
            "last_payment_error": user.last_payment_error,
            "has_paid_before": user.has_paid,
        },
        "account_history": _account_history(user),
        "appeals": [
            {
                "sent_at": _iso(a.created_at),
                "text": a.text,
                "status": a.status,
                "reply": a.reply,
                "decided_at": _iso(a.decided_at),
            }
            for a in appeals
        ],
    }
    data.update(signals.collect_account_export(user))
    return data


def _account_history(user: User) -> list[dict[str, Any]]:
    """What admins and the site did to the account (freezes and their reasons, appeals
    decided, memberships granted), oldest first: the admin's page of the account shows
    it. The admins who acted are not named, as the mails and pages do not name them."""
    entries = db.session.scalars(
        sa.select(AuditEntry)
        .where(AuditEntry.target_type == "user", AuditEntry.target_id == str(user.id))
        .order_by(AuditEntry.id)
    )
    return [
        {"at": _iso(e.created_at), "action": audit.describe(e.action), "detail": e.detail}
        for e in entries
    ]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def is_last_admin(user: User) -> bool:
    """Tell whether ``user`` is the only admin left (the site needs one to moderate)."""
    if not user.is_admin:
        return False
    # Locked: two admins leaving at the same moment must not both see the other stay.
    admins = sa.select(User.id).where(User.is_admin).with_for_update()
    return set(db.session.scalars(admins)) <= {user.id}


def delete_account(
    user: User, *, why: str = "deleted by its owner", delete_comments: bool = False
) -> None:
    """Delete ``user`` and their personal data; content they wrote stays, authorless,
    unless ``delete_comments`` and the policy lets them take it along (then their
    comments are deleted as each could be).

    Other packages remove or anonymise their rows through ``signals.account_deleting``
    (content keeps a NULL author, shown as "deleted member"); appeals go with the
    account (ON DELETE CASCADE). May raise ``signals.DeletionBlocked``.
    """
    # Locked first (PostgreSQL): a like or comment the account sends meanwhile waits on
    # its row, then finds the account gone, instead of landing between the removal of its
    # reactions and the row's own delete, with its count never lowered.
    db.session.execute(sa.select(User.id).where(User.id == user.id).with_for_update())
    if is_last_admin(user):
        raise signals.DeletionBlocked(
            "you are the site's only admin, and someone must be able to moderate it. "
            "Ask the operator to make another account an admin "
            "(flask --app club users admin EMAIL), then delete this one."
        )
    delete_comments = delete_comments and membership.can_delete_own_comments_when_leaving(user)
    signals.announce_account_deleting(user, delete_comments=delete_comments)
    # A moderator's freeze must not end by leaving and signing up again.
    moderation.carry_freeze_of_deleted(user)
    audit.record(None, "user.delete", user, why)
    # Its own address only: a pending one may be another member's (a change asked for an
    # address already taken waits there too), whose mail must not go with this account.
    # The stop catches what Redis does not hold now: mail that failed in a web process
    # while Redis was down (handed to RQ later), or all of it while Redis is unreachable.
    mail.stop_mail_to(user.email)
    transactions.call_after_commit(forget_queued_mail, user.email)
    db.session.delete(user)
    db.session.flush()


def forget_queued_mail(address: str) -> None:
    """Drop the mail still queued for a deleted account's address, and its words, from
    Redis (see the worker); ``mail.stop_mail_to`` stops whatever this misses."""
    from worker.queues import forget_mail_to

    forget_mail_to(address)


def unconfirmed_lifetime() -> timedelta:
    """How long an account may wait for its address to be confirmed before it is deleted."""
    return timedelta(days=current_app.config["UNCONFIRMED_ACCOUNT_DAYS"])


def removal_date(user: User) -> datetime:
    """The day after which ``user``, if still unconfirmed, is deleted (the mail and the
    settings page name it; the whole day is the member's)."""
    return user.created_at + unconfirmed_lifetime()


def purge_unconfirmed(now: datetime | None = None) -> int:
    """Delete accounts whose address was never confirmed in time; return how many.

    Such an account cannot interact or pay, so it holds nothing but its handle, which a
    sign-up with an address nobody reads would otherwise keep from everyone for ever
    (Discourse purges them the same way). Admin and complimentary accounts are kept: an
    operator made them on purpose. So is any account with a Stripe customer.
    """
    now = now or utcnow()
    # Deleted once the day ``removal_date`` names is over, not at its hour and minute.
    cutoff = now.replace(hour=0, minute=0, second=0, microsecond=0) - unconfirmed_lifetime()
    expired = sa.and_(
        User.email_confirmed_at.is_(None),
        User.created_at < cutoff,
        User.is_admin.is_(False),
        User.complimentary.is_(False),
        User.stripe_customer_id.is_(None),
    )
    candidates = db.session.scalars(
        sa.select(User.id).where(expired).order_by(User.id).limit(PURGE_BATCH)
    ).all()
    days = current_app.config["UNCONFIRMED_ACCOUNT_DAYS"]
    removed = 0
    for user_id in candidates:
        # Read again, locked: the member may have confirmed since the list was made.
        user = db.session.scalar(
            sa.select(User)
            .where(User.id == user_id, expired)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if user is not None:
            delete_account(user, why=f"its email address was not confirmed within {days} days")
            removed += 1
    return removed


def init_app(app: Flask) -> None:
    """Register the account views."""
    from club import auth, settings

    app.register_blueprint(auth.bp)
    settings.init_app(app)
