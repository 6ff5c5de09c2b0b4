"""Notifications: a reply to your comment, a like on it, or a moderator upholding your
report tells you so."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, contains_eager, joinedload

from articles.models import Article
from club.clock import utcnow
from club.community.models import Comment, CommentStatus, Notification, NotificationKind
from club.extensions import db
from club.models import User


def _notify(recipient_id: int | None, actor_id: int, kind: str, comment_id: int) -> None:
    if recipient_id is None or recipient_id == actor_id:
        return  # nobody to tell, or telling people about their own actions
    row = Notification(user_id=recipient_id, actor_id=actor_id, kind=kind, comment_id=comment_id)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        pass  # already notified (a like, an unlike and a like again notify once)


def notify_reply(*, reply: Comment, to: Comment) -> None:
    """Tell the author of ``to`` that ``reply`` answers it."""
    _notify(to.author_id, reply.author_id, NotificationKind.REPLY, reply.id)


def notify_like(*, liker: User, comment: Comment) -> None:
    """Tell the author of ``comment`` that ``liker`` likes it."""
    _notify(comment.author_id, liker.id, NotificationKind.LIKE, comment.id)


def notify_reporters_of_removal(*, moderator: User, comment: Comment, reporter_ids: set[int]):
    """Tell the members whose reports a moderator upheld that the comment was removed,
    as Discourse does: a report that seems to vanish teaches members not to report."""
    for reporter_id in sorted(reporter_ids):
        _notify(reporter_id, moderator.id, NotificationKind.REPORT_ACTIONED, comment.id)


# A reply its author deleted, a comment a moderator removed or hid, or one on an article
# taken off the site no longer tells anyone anything (its link would be a 404); the
# notification comes back if the comment or the article is restored.
_ON_A_PUBLISHED_ARTICLE = Comment.article_id.in_(
    sa.select(Article.id).where(Article.status == "published")
)
_SHOWN = sa.and_(
    Comment.status == CommentStatus.VISIBLE, Comment.hidden.is_(False), _ON_A_PUBLISHED_ARTICLE
)


def _about_a_shown_comment(notification: type[Notification] = Notification) -> sa.ColumnElement:
    """Join a notification to its comment only while it still tells the member something.

    A report's outcome is about a comment that is gone by design: it links to the article.
    ``notification`` may be an alias, so ``mark_all_read`` can ask the same question in a
    subquery of the table it updates.
    """
    is_report = notification.kind == NotificationKind.REPORT_ACTIONED
    return sa.and_(
        notification.comment_id == Comment.id,
        sa.or_(sa.and_(~is_report, _SHOWN), sa.and_(is_report, _ON_A_PUBLISHED_ARTICLE)),
    )


def unread_count(user: User) -> int:
    """Return how many of ``user``'s notifications are unread."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .join(Comment, _about_a_shown_comment())
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def list_for(
    user: User, *, before: int | None = None, limit: int = 30
) -> tuple[list[Notification], int | None]:
    """Return ``user``'s notifications, newest first, and the keyset for the next page."""
    query = (
        sa.select(Notification)
        .join(Comment, _about_a_shown_comment())
        .where(Notification.user_id == user.id)
        .options(
            joinedload(Notification.actor),
            contains_eager(Notification.comment).joinedload(Comment.article),
        )
        .order_by(Notification.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(Notification.id < before)
    rows = list(db.session.scalars(query))
    next_before = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], next_before


def mark_all_read(user: User, *, up_to: int | None = None) -> int:
    """Mark ``user``'s unread notifications read (those up to id ``up_to``); return how many."""
    unread = aliased(Notification)
    # Only what the member could see: one about a hidden reply comes back unread.
    shown = (
        sa.select(unread.id)
        .join(Comment, _about_a_shown_comment(unread))
        .where(unread.user_id == user.id, unread.read_at.is_(None))
    )
    if up_to is not None:
        # Only what the member has seen: one that arrived since stays unread.
        shown = shown.where(unread.id <= up_to)
    query = sa.update(Notification).where(Notification.id.in_(shown))
    result = db.session.execute(
        query.values(read_at=utcnow()).execution_options(synchronize_session=False)
    )
    return result.rowcount
