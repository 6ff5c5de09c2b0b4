"""Reports and moderators' decisions on them.

A comment reported by enough different members (three by default) is hidden until a
moderator decides: dismiss (it returns), remove (its text goes, its thread stays), or
remove it and freeze the author through the membership policy. Every decision writes an
audit row in the same transaction; its author and the members whose reports it upheld hear
of it once that transaction commits (``author_mail``, ``notifications``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from articles.models import Article
from club import audit, membership
from club.clock import utcnow
from club.community import author_mail, notifications
from club.community.comments import (
    COMMENT_GONE,
    find_comment,
    hold_accounts,
    lock_comment,
    set_visibility,
)
from club.community.errors import CommunityError, Conflict, NotFound
from club.community.formatting import clean_text
from club.community.likes import insert_once
from club.community.models import REPORT_REASONS, Comment, CommentStatus, Report, ReportStatus
from club.extensions import db
from club.models import User

MAX_DETAILS = 500


def hide_threshold() -> int:
    """Return how many different members' reports hide a comment."""
    return current_app.config["COMMUNITY_HIDE_AFTER_REPORTS"]


def report_comment(
    reporter: User, comment_id: int, reason: str | None, details: str = ""
) -> Report:
    """File ``reporter``'s report on a comment; enough of them hide it pending review."""
    # The reporter's account before the comment, as every write takes them (hold_accounts).
    hold_accounts(reporter.id)
    # Locked: reports on one comment are counted one at a time, so the one that reaches
    # the threshold hides the comment exactly once.
    comment = find_comment(comment_id, for_update=True)
    if not comment.is_visible:
        # What members cannot read they cannot report; and held, removed or deleted must
        # answer as an unused id does, or reporting would tell one state from another.
        raise NotFound(f"{COMMENT_GONE}.")
    if reason not in REPORT_REASONS:
        raise CommunityError("Choose a reason for your report.", field="reason")
    # As a comment is: a browser counts a line break as one character and sends two.
    details = clean_text(details or "")
    if len(details) > MAX_DETAILS:
        raise CommunityError(f"Keep the details under {MAX_DETAILS} characters.", field="details")
    if comment.is_owned_by(reporter):
        raise CommunityError("You cannot report your own comment; you can delete it instead.")
    report = Report(comment_id=comment.id, reporter_id=reporter.id, reason=reason, details=details)
    if not insert_once(report):
        report = _report_again(comment, reporter, reason, details)
    reporters = open_reporter_count(comment.id)
    # A moderator's comment waits in the queue like any other, but members' reports alone
    # must not silence the moderators.
    by_a_moderator = membership.can_administer(comment.author)
    if not comment.hidden and not by_a_moderator and reporters >= hide_threshold():
        set_visibility(comment, hidden=True)
        audit.record(None, "comment.auto_hidden", comment, f"{reporters} member(s) reported it")
        if author_mail.tells_author(comment, None):
            author_mail.hidden_by_reports(comment)
    return report


def _earlier_report(comment: Comment, reporter: User) -> Report | None:
    return db.session.scalar(
        sa.select(Report).where(Report.comment_id == comment.id, Report.reporter_id == reporter.id)
    )


def why_not_report(comment: Comment, reporter: User, earlier: Report | None = None) -> str | None:
    """Why ``reporter`` cannot report ``comment`` (again) now, or None if they can.

    The report page asks before showing its form, so nobody fills it in to be refused.
    """
    earlier = earlier or _earlier_report(comment, reporter)
    if earlier is None:
        return None
    if earlier.status == ReportStatus.OPEN:
        return "You already reported this comment. Moderators will look at it."
    edited_since = (
        comment.edited_at and earlier.decided_at and comment.edited_at > earlier.decided_at
    )
    if not edited_since:
        return (
            "You reported this comment before and a moderator decided on it. "
            "You can report it again if its author edits it."
        )
    return None


def _report_again(comment: Comment, reporter: User, reason: str, details: str) -> Report:
    """Reopen ``reporter``'s decided report if the comment was edited since the decision.

    One report per member per comment, but a comment a moderator kept can be rewritten:
    the members who reported it must be able to say so again.
    """
    earlier = _earlier_report(comment, reporter)
    refusal = why_not_report(comment, reporter, earlier)
    if refusal:
        raise Conflict(refusal)
    earlier.reason, earlier.details, earlier.status = reason, details, ReportStatus.OPEN
    earlier.created_at, earlier.decided_at, earlier.decided_by_id = utcnow(), None, None
    return earlier


def open_reporter_count(comment_id: int) -> int:
    """Return how many different members have an open report on the comment.

    A row per member (unique per comment and reporter), so the rows are counted: a
    reporter who has since left (a NULL reporter) still counts as the member they were.
    """
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            Report.comment_id == comment_id, Report.status == ReportStatus.OPEN
        )
    )


@dataclass
class QueueItem:
    """A reported comment with its open reports."""

    comment: Comment
    reports: list[Report]


def reported_comment_count() -> int:
    """How many comments ``report_queue`` lists (for the admin dashboard)."""
    open_reports = sa.select(sa.func.count(sa.distinct(Report.comment_id)))
    return db.session.scalar(open_reports.where(Report.status == ReportStatus.OPEN))


def report_queue() -> list[QueueItem]:
    """Return reported comments awaiting a decision: hidden first, then most reported."""
    reports = db.session.scalars(
        sa.select(Report)
        .where(Report.status == ReportStatus.OPEN)
        .options(
            joinedload(Report.reporter),
            joinedload(Report.comment).joinedload(Comment.author),
            joinedload(Report.comment).joinedload(Comment.article),
        )
        .order_by(Report.created_at, Report.id)
    ).all()
    items: dict[int, QueueItem] = {}
    for report in reports:
        items.setdefault(report.comment_id, QueueItem(report.comment, [])).reports.append(report)
    return sorted(items.values(), key=lambda i: (not i.comment.hidden, -len(i.reports)))


def authors_frozen_now(items: list[QueueItem]) -> set[int]:
    """The ids of the queue's authors a moderator's freeze holds now: the queue offers
    them no second freeze."""
    now = utcnow()
    authors = {item.comment.author for item in items if item.comment.author}
    return {a.id for a in authors if membership.is_moderator_freeze_in_force(a, now)}


def _close_reports(comment: Comment, moderator: User, status: str) -> int:
    result = db.session.execute(
        sa.update(Report)
        .where(Report.comment_id == comment.id, Report.status == ReportStatus.OPEN)
        .values(status=status, decided_at=utcnow(), decided_by_id=moderator.id)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def _open_reporter_ids(comment: Comment) -> set[int]:
    # A report outlives its reporter's account (reporter_id then NULL): nobody to tell.
    query = sa.select(Report.reporter_id).where(
        Report.comment_id == comment.id,
        Report.status == ReportStatus.OPEN,
        Report.reporter_id.is_not(None),
    )
    return set(db.session.scalars(query))


def _reported_comment(comment_id: int) -> Comment:
    # Locked, so a double-clicked decision or two moderators at once act once.
    comment = lock_comment(comment_id)
    if comment is None:
        raise CommunityError("That comment does not exist.")
    return comment


def dismiss_reports(moderator: User, comment_id: int) -> Comment:
    """Dismiss the open reports on a comment; a hidden comment returns."""
    comment = _reported_comment(comment_id)
    if comment.status != CommentStatus.VISIBLE:
        raise Conflict("That comment was already deleted or removed.")
    closed = _close_reports(comment, moderator, ReportStatus.DISMISSED)
    if not closed:
        raise Conflict("Those reports were already decided.")
    if comment.delete_when_decided:
        # Its author left asking for their comments to go: kept, it goes as they asked.
        set_visibility(comment, status=CommentStatus.DELETED, hidden=False)
        comment.body = ""
        detail = f"{closed} report(s); deleted, as its author asked when leaving"
        audit.record(moderator, "comment.reports_dismissed", comment, detail)
        return comment
    if comment.hidden and author_mail.tells_author(comment, moderator):
        author_mail.shown_again(comment)
    set_visibility(comment, hidden=False)
    audit.record(moderator, "comment.reports_dismissed", comment, f"{closed} report(s)")
    return comment


def remove_comment(
    moderator: User,
    comment_id: int,
    reason: str = "",
    *,
    author_frozen: bool = False,
    reported: bool = False,
) -> Comment:
    """Remove a comment: with replies it shows "[removed by a moderator]" so they keep
    their place; without, it leaves the thread.

    Its author is emailed what it said and ``reason`` (optional, from the moderator) once
    the removal commits; ``author_frozen`` says the same decision froze them. ``reported``
    says the moderator decided on its reports (the queue), which must still be open.
    """
    comment = _reported_comment(comment_id)
    if reported:
        _refuse_if_kept_meanwhile(comment)
    if comment.status == CommentStatus.REMOVED:
        raise Conflict("That comment was already removed.")
    if comment.status == CommentStatus.DELETED:
        # The author deleted it while the page with the Remove button was open: there is
        # nothing left to remove, to quote in a mail, or to bring back as "[removed]".
        raise Conflict("Its author deleted that comment, so there was nothing to remove.")
    reason = clean_text(reason or "")
    if len(reason) > MAX_DETAILS:
        raise CommunityError(f"Keep the reason under {MAX_DETAILS} characters.")
    reporter_ids = _open_reporter_ids(comment)
    closed = _close_reports(comment, moderator, ReportStatus.ACTIONED)
    notifications.notify_reporters_of_removal(
        moderator=moderator, comment=comment, reporter_ids=reporter_ids
    )
    if author_mail.tells_author(comment, moderator):
        # Written now, while the comment still has its text to quote.
        author_mail.removed(comment, reason, author_frozen=author_frozen)
    set_visibility(comment, status=CommentStatus.REMOVED, hidden=False)
    if comment.delete_when_decided:
        comment.body = ""  # its author left asking for their words to go
    audit.record(
        moderator, "comment.removed", comment, _removal_detail(closed, reason, author_frozen)
    )
    return comment


KEPT_MEANWHILE = (
    "Another moderator kept this comment after this page was drawn (its reports were "
    "dismissed), so nothing was done. Read it again before removing it."
)


def _refuse_if_kept_meanwhile(comment: Comment) -> None:
    """A queue page drawn before another moderator dismissed the reports must not undo
    their decision unseen, and mail its author the opposite within a second."""
    still_reported = db.session.scalar(
        sa.select(
            sa.exists().where(Report.comment_id == comment.id, Report.status == ReportStatus.OPEN)
        )
    )
    if comment.status == CommentStatus.VISIBLE and not still_reported:
        raise Conflict(KEPT_MEANWHILE)


def _removal_detail(closed: int, reason: str, author_frozen: bool) -> str:
    parts = [f"{closed} report(s)"] + ([f"reason: {reason}"] if reason else [])
    return "; ".join(parts + (["author frozen"] if author_frozen else []))


def freeze_author(
    moderator: User, comment_id: int, reason: str, until: datetime | None = None
) -> tuple[Comment, bool]:
    """Remove a comment and freeze its author through the membership policy; return the
    comment and whether this removed it (another moderator may have, meanwhile)."""
    # The author's account before the comment, the order their account deletion takes
    # them; locked as the freeze's update would lock it (FOR NO KEY UPDATE).
    author_id = db.session.scalar(sa.select(Comment.author_id).where(Comment.id == comment_id))
    author = None
    if author_id is not None:
        lock = {"key_share": True}
        author = db.session.get(User, author_id, with_for_update=lock, populate_existing=True)
    comment = _reported_comment(comment_id)
    if author is None or comment.author_id != author.id:
        raise CommunityError("The author deleted their account; remove the comment instead.")
    if not (reason or "").strip():
        raise CommunityError("Give a reason for the freeze; the member will see it.")
    _refuse_if_kept_meanwhile(comment)
    if membership.is_moderator_freeze_in_force(author, utcnow()):
        # Another freeze (maybe another moderator's, a moment ago) would be replaced by
        # this one, its reason and end date lost: amending it is the account page's job.
        raise Conflict(
            f"@{author.handle} is already frozen{freeze_end(author)}; nothing was changed. "
            "Remove the comment, or change the freeze on their account page."
        )
    try:
        membership.freeze(author, by=moderator, reason=reason, until=until)
    except ValueError as error:
        raise CommunityError(str(error).capitalize() + ".") from None
    removed_now = comment.status != CommentStatus.REMOVED
    if removed_now:
        remove_comment(moderator, comment.id, reason.strip(), author_frozen=True)
    return comment, removed_now


def freeze_end(user: User) -> str:
    """When ``user``'s freeze ends, in words that follow "frozen"."""
    if user.frozen_until is None:
        return " with no end date"
    return f" until {user.frozen_until:%d %B %Y %H:%M} UTC"


AUDIT_EXCERPT = 80


def describe_for_audit(comment_ids: set[int]) -> dict[int, str]:
    """Whose comment each id is, on which article, and how it starts (the audit log's
    note): read now, so a deleted account's name and words are not kept in the log."""
    rows = db.session.execute(
        sa.select(Comment.id, Comment.body, User.handle, Article.title)
        .join(Article, Article.id == Comment.article_id)
        .outerjoin(User, User.id == Comment.author_id)
        .where(Comment.id.in_(comment_ids))
    )
    notes = {}
    for comment_id, body, handle, title in rows:
        author = f"@{handle}" if handle else "a deleted account"
        text = body if len(body) <= AUDIT_EXCERPT else body[: AUDIT_EXCERPT - 1] + "…"
        said = f": “{text}”" if text else " (its text is gone)"
        notes[comment_id] = f"by {author} on “{title}”{said}"
    return notes
