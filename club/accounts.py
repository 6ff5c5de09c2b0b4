"""Accounts: loading the signed-in member for each request.

Sign-up, log-in, confirmation and reset views arrive with the foundation work (#2).
"""

from __future__ import annotations

import hmac

from flask import Flask

from club.extensions import db, login_manager
from club.models import User


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Return the account named by a session id, if its session token still matches."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not hmac.compare_digest(user.session_token, token):
        return None
    return user


def init_app(app: Flask) -> None:
    """Register the account views."""
