"""Billing's part in account-wide events that club announces (deletion, export, demo)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def connect() -> None:
    """Subscribe to club's signals when club provides them (it may not yet)."""
    try:
        from club import signals  # noqa: F401
    except ImportError:
        return
