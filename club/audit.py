"""The audit log: one row for every admin, moderator and system action."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

from club.extensions import db
from club.models import AuditEntry, User

# What each recorded action means, in the words the admin pages show. The codes stay in
# the database (stable for queries); an unknown code is shown as it is.
ACTION_LABELS = {
    "user.freeze": "Account frozen",
    "user.unfreeze": "Freeze lifted",
    "user.comp_grant": "Complimentary membership granted",
    "user.comp_revoke": "Complimentary membership revoked",
    "user.admin_grant": "Made an admin",
    "user.admin_revoke": "Admin role removed",
    "user.delete": "Account deleted",
    "appeal.submit": "Appeal sent",
    "appeal.accept": "Appeal accepted",
    "appeal.reject": "Appeal rejected",
    "comment.removed": "Comment removed",
    "comment.auto_hidden": "Comment hidden after reports",
    "comment.reports_dismissed": "Reports on a comment dismissed",
    "feed.add": "Feed added",
    "feed.edit": "Feed edited",
    "feed.delete": "Feed deleted",
    "feed.pause": "Feed paused",
    "feed.resume": "Feed resumed",
    "feed.refresh": "Feed refreshed",
    "feed.moved": "Feed moved to a new address by its source",
    "feed.import_opml": "OPML imported",
    "rule.add": "Keyword rule added",
    "rule.delete": "Keyword rule removed",
    "article.approve": "Article approved",
    "article.unhide": "Article shown again",
    "article.reject": "Article rejected",
    "article.hide": "Article hidden",
    "article.feature": "Article featured",
    "article.unfeature": "Article unfeatured",
    "article.edit": "Article edited",
    "topic.rename": "Topic renamed",
    "topic.merge": "Topic merged into another",
    "topic.delete": "Topic deleted",
    "job.requeue": "Failed job queued again",
    "job.delete": "Failed job deleted",
}


def record(actor: User | None, action: str, target: Any = None, detail: str = "") -> AuditEntry:
    """Add an audit row in the caller's transaction; the caller commits."""
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        actor_handle=actor_handle(actor),
        action=action,
        target_type=type(target).__name__.lower() if target is not None else None,
        target_id=str(getattr(target, "id", "")) if target is not None else None,
        detail=detail,
    )
    db.session.add(entry)
    return entry


def actor_handle(actor: User | None) -> str | None:
    """What the log keeps of ``actor`` for after their account is deleted (see the model)."""
    if actor is None:
        return None
    return actor.handle if actor.is_admin else ""


def actor_name(entry: AuditEntry) -> str:
    """Who did what ``entry`` records, in the admin pages' words."""
    if entry.actor is not None:
        return f"@{entry.actor.handle}"
    if entry.actor_handle:
        return f"@{entry.actor_handle} (account deleted)"
    return "a deleted account" if entry.actor_handle == "" else "system"


# The parts of the site the actions are about, by their codes' first word: the audit
# log's filter. Another part's codes (one registered later) are listed under none.
ACTION_AREAS = {
    "feed": "Feeds",
    "article": "Articles",
    "rule": "Keyword rules",
    "topic": "Topics",
    "comment": "Comments",
    "user": "Accounts",
    "appeal": "Appeals",
    "job": "Jobs",
}


def actions_in(area: str) -> list[str]:
    """The recorded action codes about ``area`` ("feed": "feed.add", "feed.edit", …)."""
    return [code for code in ACTION_LABELS if code.split(".", 1)[0] == area]


def describe(action: str) -> str:
    """The admin pages' words for a recorded ``action``."""
    return ACTION_LABELS.get(action, action)


# Given target ids, what each still is, in a few words; ids no longer found are left out.
Describer = Callable[[set[int]], dict[int, str]]


def add_target_notes(app: Flask, target_type: str, describe_targets: Describer) -> None:
    """Let the audit log say what rows about ``target_type`` are about (whose comment, on
    which article), read when the page is shown: the log keeps ids, and a deleted
    account's words and name must not outlive it in the log."""
    app.extensions.setdefault("club_audit_notes", {})[target_type] = describe_targets


def target_notes(entries: list[AuditEntry]) -> dict[int, str]:
    """The note on what each of ``entries`` is about, by entry id (one query per type)."""
    describers: dict[str, Describer] = current_app.extensions.get("club_audit_notes", {})
    notes: dict[int, str] = {}
    for target_type, describe_targets in describers.items():
        about = [e for e in entries if e.target_type == target_type and str(e.target_id).isdigit()]
        if not about:
            continue
        found = describe_targets({int(e.target_id) for e in about})
        notes.update({e.id: found[int(e.target_id)] for e in about if int(e.target_id) in found})
    return notes
