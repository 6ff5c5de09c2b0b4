"""Work that must wait until the database transaction it belongs to has committed.

Domain functions add and flush; their caller commits, or rolls back, later. A change
outside the database (deleting a Stripe customer, say) cannot be rolled back with it: done
before the commit, a rollback would leave it done for rows that still exist.
``call_after_commit`` holds such a call on the session until the transaction that asked
for it commits, and forgets it if that transaction ends any other way. A savepoint counts
as its own transaction: rolled back, it takes the calls made inside it along; released,
it hands them to the transaction around it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, SessionTransaction

from club.extensions import db

log = logging.getLogger(__name__)

# session.info key: [(the transaction that asked, the call), ...]
PENDING = "club_after_commit"


def call_after_commit(callback: Callable[..., Any], *args: Any) -> None:
    """Call ``callback(*args)`` once the current transaction commits, never if it does not.

    It runs inside ``commit()``, after the database has committed, so it must not use
    this session (a job's own app context, or no database at all, is fine); an exception
    it raises is logged, since the committed work stands either way.
    """
    session = db.session()
    if not session.in_transaction():
        session.begin()
    pending = session.info.setdefault(PENDING, [])
    pending.append((_innermost(session), functools.partial(callback, *args)))


def _innermost(session: Session) -> SessionTransaction | None:
    return session.get_nested_transaction() or session.get_transaction()


@sa.event.listens_for(db.session, "after_commit")
def _run_or_hand_up(session: Session) -> None:
    """On a commit, run the calls it held; on a savepoint's release, pass them outwards."""
    committed = _innermost(session)
    pending = session.info.get(PENDING, [])
    held = [call for owner, call in pending if owner is committed]
    if not held:
        return
    others = [(owner, call) for owner, call in pending if owner is not committed]
    if committed.parent is not None:
        session.info[PENDING] = others + [(committed.parent, call) for call in held]
        return
    session.info[PENDING] = others
    for call in held:
        try:
            call()
        except Exception:
            log.exception("a call waiting for the commit failed: %r", call)


@sa.event.listens_for(db.session, "after_transaction_end")
def _forget_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    """Let go of the calls of a transaction that ended without a commit (rolled back or
    closed): they are keyed to it, so no later commit could run them."""
    pending = session.info.get(PENDING)
    if pending:
        session.info[PENDING] = [
            (owner, call) for owner, call in pending if owner is not transaction
        ]
