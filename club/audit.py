"""The audit log: one row for every admin, moderator and system action."""

from __future__ import annotations

from typing import Any

from club.extensions import db
from club.models import AuditEntry, User


def record(actor: User | None, action: str, target: Any = None, detail: str = "") -> AuditEntry:
    """Add an audit row in the caller's transaction; the caller commits."""
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=type(target).__name__.lower() if target is not None else None,
        target_id=str(getattr(target, "id", "")) if target is not None else None,
        detail=detail,
    )
    db.session.add(entry)
    return entry
