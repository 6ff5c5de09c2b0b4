"""Community tables: comments, likes, bookmarks, topic follows, reports, notifications.

Every "one per account" rule is a database constraint, so a double click or two web
processes racing cannot create a second row. Counters shown on cards
(``Article.comment_count``, ``Article.like_count``, ``Comment.like_count``) are kept by
the domain modules with atomic increments next to the row they count.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from articles.models import Article, Topic
from club.clock import UTCDateTime, utcnow
from club.extensions import NEVER_REUSE_IDS, db
from club.models import User

EDIT_WINDOW = timedelta(minutes=15)
MAX_DEPTH = 2  # 0-based: top level, reply, reply to a reply (three levels)


class CommentStatus:
    VISIBLE = "visible"
    DELETED = "deleted"  # by its author
    REMOVED = "removed"  # by a moderator


class Comment(db.Model):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(sa.ForeignKey("articles.id", ondelete="CASCADE"))
    # Deleting an account keeps its comments as "deleted member" (author becomes NULL).
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    depth: Mapped[int] = mapped_column(default=0)
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default=CommentStatus.VISIBLE)
    # Hidden while enough members have reported it and no moderator has decided yet.
    hidden: Mapped[bool] = mapped_column(default=False)
    # Its author left asking for their comments to go while this one waited for a
    # moderator: it goes when the moderator decides, whatever they decide.
    delete_when_decided: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    like_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The hidden form nonce: the same form submitted twice is the same comment.
    client_token: Mapped[str | None] = mapped_column(sa.String(64))

    article: Mapped[Article] = relationship()
    author: Mapped[User | None] = relationship()
    parent: Mapped[Comment | None] = relationship(remote_side=[id])

    __table_args__ = (
        sa.UniqueConstraint("author_id", "client_token"),
        sa.Index("ix_comments_article_created", "article_id", "created_at"),
        sa.CheckConstraint("depth >= 0 AND depth <= 2", name="depth_range"),
        sa.CheckConstraint("status IN ('visible', 'deleted', 'removed')", name="status_known"),
        NEVER_REUSE_IDS,
    )

    @property
    def is_visible(self) -> bool:
        """Tell whether readers see this comment's text."""
        return self.status == CommentStatus.VISIBLE and not self.hidden

    @property
    def counts(self) -> bool:
        """Tell whether this comment counts toward the article's comment count."""
        return self.is_visible

    @property
    def is_deleted(self) -> bool:
        return self.status == CommentStatus.DELETED

    @property
    def is_removed(self) -> bool:
        return self.status == CommentStatus.REMOVED

    def is_owned_by(self, user: User | None) -> bool:
        """Tell whether ``user`` wrote this comment."""
        return user is not None and self.author_id is not None and self.author_id == user.id

    def is_within_edit_window(self, now: datetime | None = None) -> bool:
        """Tell whether the 15-minute edit window is still open."""
        return (now or utcnow()) - self.created_at <= EDIT_WINDOW

    def is_editable_by(self, user: User | None, now: datetime | None = None) -> bool:
        """Tell whether ``user`` may edit this comment now."""
        return self.is_owned_by(user) and self.is_visible and self.is_within_edit_window(now)

    def accepts_replies(self) -> bool:
        """Tell whether a reply may attach to this comment."""
        return self.is_visible


class CommentLike(db.Model):
    __tablename__ = "comment_likes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    comment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("user_id", "comment_id"),)


class ArticleLike(db.Model):
    __tablename__ = "article_likes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(
        sa.ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("user_id", "article_id"),)


class Bookmark(db.Model):
    __tablename__ = "bookmarks"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(
        sa.ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    article: Mapped[Article] = relationship()

    __table_args__ = (sa.UniqueConstraint("user_id", "article_id"),)


class TopicFollow(db.Model):
    __tablename__ = "topic_follows"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    topic_id: Mapped[int] = mapped_column(
        sa.ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    topic: Mapped[Topic] = relationship()


class ReportStatus:
    OPEN = "open"
    DISMISSED = "dismissed"
    ACTIONED = "actioned"


REPORT_REASONS = {
    "spam": "Spam or advertising",
    "harassment": "Harassment or hate",
    "misinformation": "Dangerous health misinformation",
    "off_topic": "Off topic",
    "other": "Something else",
}


class Report(db.Model):
    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    reporter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(sa.String(32))
    details: Mapped[str] = mapped_column(sa.String(500), default="")
    status: Mapped[str] = mapped_column(sa.String(16), default=ReportStatus.OPEN, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    comment: Mapped[Comment] = relationship()
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id])

    # One report per member per comment: three reports means three different members.
    __table_args__ = (sa.UniqueConstraint("comment_id", "reporter_id"),)

    @property
    def reason_label(self) -> str:
        return REPORT_REASONS.get(self.reason, self.reason)


class NotificationKind:
    REPLY = "reply"
    LIKE = "like"
    # To each member whose report led a moderator to remove the comment (the actor).
    REPORT_ACTIONED = "report_actioned"


class Notification(db.Model):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    # For a reply: the reply; for a like: the liked comment.
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    comment: Mapped[Comment] = relationship()

    __table_args__ = (
        # Liking, unliking and liking again notifies once.
        sa.UniqueConstraint("user_id", "actor_id", "kind", "comment_id"),
        sa.Index("ix_notifications_user_unread", "user_id", "read_at"),
    )
