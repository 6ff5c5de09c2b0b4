"""Signed, expiring, single-use tokens for the links we email.

A token is the app's SECRET_KEY signature (itsdangerous, one salt per purpose) over the
account id, a random id (``jti``) and an expiry. Spending a token stores its ``jti`` in
``used_tokens``, whose primary key makes a second use fail even when two requests race.
A token is also bound to the account's state: the address it was sent to (and, for a
reset, a fingerprint of the password hash and the last log-in), so it dies the moment
those change. It carries that binding as a keyed digest, so the address it was sent to
is not readable from the link (a link is URL-safe base64, compressed). An email-change
link does carry the new address it confirms, the one it is mailed to; the logs leave out
every link's token (``club.log_redaction``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from club.clock import utcnow
from club.extensions import db
from club.models import UsedToken, User

CONFIRM_EMAIL = "confirm-email"
RESET_PASSWORD = "reset-password"  # noqa: S105 - a token purpose, not a secret
CHANGE_EMAIL = "change-email"
LIFETIMES = {
    CONFIRM_EMAIL: timedelta(days=3),
    RESET_PASSWORD: timedelta(hours=1),
    CHANGE_EMAIL: timedelta(days=1),
}


class TokenError(Exception):
    """The link is not usable; the message says why in the site's words."""


class TokenInvalid(TokenError):
    pass


class TokenExpired(TokenError):
    pass


class TokenUsed(TokenError):
    pass


@dataclass(frozen=True)
class Claims:
    """What a valid token says."""

    user: User
    jti: str
    expires_at: datetime
    data: str | None = None


def _serializer(purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"club.{purpose}")


def password_fingerprint(user: User) -> str:
    """Return a short keyed digest of the password hash (changes when the password does)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:16]


def _binding(purpose: str, user: User) -> str:
    """Return what ties a token to the account's current state."""
    if purpose == RESET_PASSWORD:
        # A reset link dies when the password changes, when the address it was sent to
        # stops being the account's, or when the owner logs in with the password after all.
        last_login = user.last_login_at.isoformat() if user.last_login_at else ""
        return f"{password_fingerprint(user)}:{user.email}:{last_login}"
    return user.email


def _sealed_binding(purpose: str, user: User) -> str:
    """The binding as the token carries it: a keyed digest (any address, any script)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, _binding(purpose, user).encode(), hashlib.sha256).hexdigest()


def _still_bound(bind: object, purpose: str, user: User) -> bool:
    carried = str(bind).encode()
    if hmac.compare_digest(carried, _sealed_binding(purpose, user).encode()):
        return True
    # Links mailed before bindings were sealed (before 2026-11-27) carry the binding itself,
    # compared as bytes: compare_digest refuses str with non-ASCII characters. They all
    # expire within 3 days, after which this fallback no longer matches any live link.
    return hmac.compare_digest(carried, _binding(purpose, user).encode())


def issue(purpose: str, user: User, now: datetime | None = None, data: str | None = None) -> str:
    """Return a new token for ``purpose`` and ``user``, valid for the purpose's lifetime.

    ``data`` travels signed inside the token (the new address of an email change).
    """
    expires_at = (now or utcnow()) + LIFETIMES[purpose]
    payload = {
        "uid": user.id,
        "jti": secrets.token_urlsafe(16),
        "exp": int(expires_at.timestamp()),
        "bind": _sealed_binding(purpose, user),
        "data": data,
    }
    return _serializer(purpose).dumps(payload)


def read(purpose: str, token: str) -> Claims:
    """Return the claims of an unspent, unexpired token, or raise ``TokenError``."""
    try:
        payload = _serializer(purpose).loads(token)
        user_id, jti, exp, bind = (payload[k] for k in ("uid", "jti", "exp", "bind"))
    except (BadSignature, KeyError, TypeError, ValueError):
        raise TokenInvalid("This link is not valid. Check that you copied all of it.") from None
    expires_at = datetime.fromtimestamp(int(exp), tz=utcnow().tzinfo)
    if expires_at <= utcnow():
        raise TokenExpired("This link has expired. Ask for a new one.")
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not _still_bound(bind, purpose, user):
        raise TokenUsed("This link has already been used or is no longer valid.")
    if db.session.get(UsedToken, jti) is not None:
        raise TokenUsed("This link has already been used or is no longer valid.")
    return Claims(user=user, jti=jti, expires_at=expires_at, data=payload.get("data"))


def bound_holder(purpose: str, token: str) -> User | None:
    """The account a genuine token was issued to, if still bound to it; spent or expired.

    For telling someone who opens a spent or old link what became of it ("already
    confirmed"), never for acting on it: ``read`` and ``spend`` decide that.
    """
    try:
        payload = _serializer(purpose).loads(token)
        user_id, bind = payload["uid"], payload["bind"]
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    return user if user is not None and _still_bound(bind, purpose, user) else None


def spend(purpose: str, token: str) -> Claims:
    """Read the token and mark it spent in the caller's transaction (the caller commits).

    The insert is flushed in a savepoint so that a concurrent spend of the same token
    fails here, before the caller changes anything.
    """
    claims = read(purpose, token)
    try:
        with db.session.begin_nested():
            db.session.add(UsedToken(jti=claims.jti, expires_at=claims.expires_at))
    except sa.exc.IntegrityError:
        raise TokenUsed("This link has already been used or is no longer valid.") from None
    return claims


def purge_spent(now: datetime | None = None) -> int:
    """Delete spent-token rows whose tokens have expired anyway; return how many."""
    result = db.session.execute(
        sa.delete(UsedToken).where(UsedToken.expires_at <= (now or utcnow()))
    )
    return result.rowcount or 0
