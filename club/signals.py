"""Signals other packages connect to, so club never has to import them.

- ``account_exporting``: receivers return ``{section_name: json-ready data}`` for the
  member's data export (``collect_account_export`` merges them).
- ``account_deleting``: sent inside the deletion transaction, before the account row
  goes, with ``delete_comments`` (the member asked for their comments to go too);
  receivers remove or anonymise what they hold (billing cancels the Stripe
  subscription). Raise ``DeletionBlocked`` to stop the deletion with a message. The
  deletion may still roll back after a receiver ran: what cannot be undone waits for the
  commit (``club.transactions.call_after_commit``; billing deletes the Stripe customer so).
- ``account_contact_changed``: sent once a new email address or display name is
  committed; receivers pass it on to services that mail the member themselves (billing
  updates the Stripe customer, whose receipts and payment-failure mails go to that
  address and greet that name).
- ``demo_seeding``: sent by ``flask demo seed`` after the demo accounts exist, with
  ``accounts={"admin": User, "member": User, "frozen": User}``; receivers add demo
  content and commit nothing (the command commits once).

Every signal is sent with the Flask app as sender; receivers take ``(sender, **kwargs)``.
"""

from __future__ import annotations

from typing import Any

from blinker import Namespace
from flask import current_app

_signals = Namespace()

account_exporting = _signals.signal("account-exporting")
account_deleting = _signals.signal("account-deleting")
account_contact_changed = _signals.signal("account-contact-changed")
demo_seeding = _signals.signal("demo-seeding")


class DeletionBlocked(Exception):
    """A part of the site cannot let the account go yet.

    The message is the reason, shown to the member after "Your account was not deleted: ",
    so it need not say that again.
    """


def collect_account_export(user: Any) -> dict[str, Any]:
    """Return every section other packages contribute to ``user``'s data export."""
    sections: dict[str, Any] = {}
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for receiver, contribution in account_exporting.send(app, user=user):
        if not contribution:
            continue
        if not isinstance(contribution, dict):
            raise TypeError(f"{receiver!r} must return a dict of export sections")
        overlap = sections.keys() & contribution.keys()
        if overlap:
            raise ValueError(f"export sections contributed twice: {sorted(overlap)}")
        sections.update(contribution)
    return sections


def announce_account_deleting(user: Any, *, delete_comments: bool = False) -> None:
    """Let every package remove what it holds about ``user`` (same transaction)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    account_deleting.send(app, user=user, delete_comments=delete_comments)


def announce_contact_changed(user: Any) -> None:
    """Tell every package that ``user``'s new email address or name is committed."""
    account_contact_changed.send(current_app._get_current_object(), user=user)  # type: ignore[attr-defined]


def announce_demo_seeding(accounts: dict[str, Any]) -> None:
    """Let every package add its demo content for the demo ``accounts``."""
    demo_seeding.send(current_app._get_current_object(), accounts=accounts)  # type: ignore[attr-defined]
