"""Account models: members, the audit log, appeals and spent one-time tokens.

Access is never decided here: ``club.membership`` reads these columns and is the only
place that says what an account may do. Subscription columns are written only through
``club.membership``'s writer functions.
"""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from club.clock import UTCDateTime, utcnow
from club.extensions import NEVER_REUSE_IDS, db

HANDLE_PATTERN = r"^[a-z0-9_]{3,30}$"


def new_session_token() -> str:
    """Return a fresh random token; changing it signs out every copy of a session."""
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    handle: Mapped[str] = mapped_column(sa.String(30), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(60))
    bio: Mapped[str] = mapped_column(sa.Text, default="")
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    session_token: Mapped[str] = mapped_column(sa.String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An email change asked for and not confirmed yet, so settings can say it waits.
    pending_email: Mapped[str | None] = mapped_column(sa.String(254))
    pending_email_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_admin: Mapped[bool] = mapped_column(default=False)
    complimentary: Mapped[bool] = mapped_column(default=False)

    # Moderator freeze: written only by membership.freeze/unfreeze.
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    frozen_reason: Mapped[str | None] = mapped_column(sa.String(500))
    frozen_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    frozen_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    # Subscription state as Stripe last reported it: written only by
    # membership.apply_subscription, which billing calls.
    stripe_customer_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    subscription_id: Mapped[str | None] = mapped_column(sa.String(255))
    subscription_status: Mapped[str | None] = mapped_column(sa.String(32))
    subscription_period_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    subscription_cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    subscription_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    past_due_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A membership was paid for once: a later subscription is a return, however it began.
    has_paid: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    last_payment_error: Mapped[str | None] = mapped_column(sa.String(500))

    __table_args__ = (
        # Email is unique case-insensitively; it is also stored lower-cased.
        sa.Index("uq_users_email_lower", sa.func.lower(email), unique=True),
        NEVER_REUSE_IDS,
    )

    def set_password(self, password: str) -> None:
        """Hash and store ``password``; every other session of this account ends."""
        self.password_hash = generate_password_hash(password)
        self.session_token = new_session_token()

    def check_password(self, password: str) -> bool:
        """Tell whether ``password`` is this account's password."""
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        # Flask-Login stores this in the session and the remember cookie, so rotating
        # session_token invalidates every copy of both.
        return f"{self.id}:{self.session_token}"

    @property
    def is_email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    def __repr__(self) -> str:
        return f"<User {self.id} @{self.handle}>"


class AuditEntry(db.Model):
    """One admin or system action, kept for review at /admin/audit."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # Who acted, once their account is gone: an admin's handle (moderation stays
    # accountable), "" for a member (a person, not the system; no personal data kept),
    # None for the system and the command line.
    actor_handle: Mapped[str | None] = mapped_column(sa.String(30))
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(sa.String(32))
    target_id: Mapped[str | None] = mapped_column(sa.String(64))
    detail: Mapped[str] = mapped_column(sa.Text, default="")

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])

    # A member's admin page lists the actions on their account and on their comments.
    __table_args__ = (sa.Index("ix_audit_entries_target", "target_type", "target_id"),)


class Appeal(db.Model):
    """A member's appeal against a moderator's freeze; one open appeal per freeze."""

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Which freeze this appeal answers: one appeal per freeze (unique with user_id).
    freeze_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    text: Mapped[str] = mapped_column(sa.String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(sa.String(16), default="open")  # open|accepted|rejected
    reply: Mapped[str | None] = mapped_column(sa.String(2000))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    __table_args__ = (sa.UniqueConstraint("user_id", "freeze_started_at"),)


class CarriedFreeze(db.Model):
    """A moderator's freeze outliving the account it was on, so it cannot be dodged by
    deleting the account and signing up again with the same address.

    Only a keyed hash of the email is kept (``moderation.email_digest``), with the end and
    the moderator's reason: no address, handle or name from the account. The reason is the
    moderator's own words, kept as written because whoever signs up with the address again
    is shown it (a moderator who named the member there named them here too).
    """

    __tablename__ = "carried_freezes"

    email_digest: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(sa.String(500))
    until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MailStop(db.Model):
    """Mail queued to a deleted account's address before it left, not to be sent.

    Written by the deletion; the mail job checks here before sending, for the mail Redis
    did not hold then (unreachable, or a failure a web process had yet to hand over). A
    keyed hash of the address (``moderation.email_digest``), kept ``club.mail.MAIL_STOP_KEPT``.
    """

    __tablename__ = "mail_stops"

    email_digest: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class UsedToken(db.Model):
    """A one-time link token that has been spent; the unique id makes reuse fail."""

    __tablename__ = "used_tokens"

    jti: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
