"""A member's community data in their export, and what happens to it when they leave.

Connected to ``club.signals``: the export gets a "community" section; on deletion the
member's comments stay with no author (shown as "deleted member", so threads keep
their shape), or are deleted if the member asks, while their likes, saves, follows and
notifications go. The likes are deleted here, not by the database's cascade, so the
counts they added are lowered too.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import sqlalchemy as sa

from articles.models import Article, Topic
from club.accounts import absolute_url
from club.community.comments import delete_all_written_by
from club.community.models import (
    ArticleLike,
    Bookmark,
    Comment,
    CommentLike,
    Notification,
    NotificationKind,
    Report,
    TopicFollow,
)
from club.extensions import db, in_batches
from club.models import User


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def export_community_data(user: User) -> dict[str, Any]:
    """Return the member's comments, reactions, reports and notifications for their export.

    Each item says when it happened; articles carry their title and address, so the
    export reads on its own. Other members appear only by their public handle.
    """

    def rows(query):
        return db.session.execute(query).all()

    def articles(model) -> list[dict[str, Any]]:
        query = (
            sa.select(Article.id, Article.title, Article.url, model.created_at)
            .join(model, model.article_id == Article.id)
            .where(model.user_id == user.id)
            .order_by(model.created_at)
        )
        return [
            {"article_id": i, "title": title, "url": url, "at": _iso(at)}
            for i, title, url, at in rows(query)
        ]

    def on_article(query, comment_id):
        """``query`` with the title of the article the comment ``comment_id`` is on."""
        return (
            query.add_columns(Article.id, Article.title)
            .join(Comment, Comment.id == comment_id)
            .join(Article, Article.id == Comment.article_id)
        )

    comments = (
        sa.select(Comment, Article.id, Article.title)
        .join(Article, Article.id == Comment.article_id)
        .where(Comment.author_id == user.id)
    )
    liked_comments = on_article(
        sa.select(CommentLike.comment_id, CommentLike.created_at), CommentLike.comment_id
    ).where(CommentLike.user_id == user.id)
    followed = (
        sa.select(Topic.id, Topic.name, TopicFollow.created_at)
        .join(TopicFollow, TopicFollow.topic_id == Topic.id)
        .where(TopicFollow.user_id == user.id)
    )
    reports = on_article(sa.select(Report), Report.comment_id).where(Report.reporter_id == user.id)
    notifications = on_article(
        sa.select(Notification, User.handle).outerjoin(User, User.id == Notification.actor_id),
        Notification.comment_id,
    ).where(Notification.user_id == user.id)
    return {
        "comments": [
            {
                **_about_comment(c.id, article_id, title),
                "in_reply_to": c.parent_id,
                "text": c.body,
                "status": c.status,
                "hidden_while_reported": c.hidden,
                "created_at": _iso(c.created_at),
                "edited_at": _iso(c.edited_at),
            }
            for c, article_id, title in rows(comments.order_by(Comment.id))
        ],
        "liked_articles": articles(ArticleLike),
        "liked_comments": [
            {**_about_comment(i, article_id, title), "at": _iso(at)}
            for i, at, article_id, title in rows(liked_comments.order_by(CommentLike.created_at))
        ],
        "saved_articles": articles(Bookmark),
        "followed_topics": [
            {"topic_id": i, "name": name, "at": _iso(at)} for i, name, at in rows(followed)
        ],
        "reports_filed": [
            {
                **_about_comment(r.comment_id, article_id, title),
                "reason": r.reason,
                "details": r.details,
                "status": r.status,
                "created_at": _iso(r.created_at),
            }
            for r, article_id, title in rows(reports.order_by(Report.id))
        ],
        "notifications": [
            {
                "kind": n.kind,
                **_about_comment(n.comment_id, article_id, title),
                # A report's outcome comes from "Moderators", as the page says: not one.
                "from_member": f"@{handle}"
                if handle and n.kind != NotificationKind.REPORT_ACTIONED
                else None,
                "created_at": _iso(n.created_at),
                "read_at": _iso(n.read_at),
            }
            for n, handle, article_id, title in rows(notifications.order_by(Notification.id))
        ],
    }


def _about_comment(comment_id: int, article_id: int, article_title: str) -> dict[str, Any]:
    """Where a comment is: its id, its link on the site and the article it is under."""
    return {
        "comment_id": comment_id,
        "comment_url": absolute_url("community.permalink", comment_id=comment_id),
        "article_id": article_id,
        "article_title": article_title,
    }


def _remove_likes(user: User, like, model, key) -> None:
    """Delete the member's likes of ``model`` rows and lower exactly those rows' counts.

    The likes go first, then the counts, in the order an unlike takes them: the other
    order deadlocked with an unlike sent during the deletion.
    """
    liked = sorted(
        db.session.scalars(sa.delete(like).where(like.user_id == user.id).returning(key))
    )
    for chunk in in_batches(liked):
        db.session.execute(
            sa.update(model)
            .where(model.id.in_(chunk))
            .values(like_count=model.like_count - 1)
            .execution_options(synchronize_session=False)
        )


def _remove_article_likes_and_comments(user: User, comments_gone: Counter[int]) -> None:
    """Delete the member's article likes, then lower each article's like and comment
    counts in one pass, article by article in id order.

    Two passes (likes, then comments), each in order, are not one order: two members
    leaving at once could each hold an article the other's second pass waits for.
    """
    liked = set(
        db.session.scalars(
            sa.delete(ArticleLike)
            .where(ArticleLike.user_id == user.id)
            .returning(ArticleLike.article_id)
        )
    )
    for article_id in sorted(liked | comments_gone.keys()):
        db.session.execute(
            sa.update(Article)
            .where(Article.id == article_id)
            .values(
                like_count=Article.like_count - (1 if article_id in liked else 0),
                comment_count=Article.comment_count - comments_gone[article_id],
            )
            .execution_options(synchronize_session=False)
        )


def forget_member(user: User, *, delete_comments: bool = False) -> None:
    """Remove the member's reactions and keep their comments authorless (or, with
    ``delete_comments``, delete those they could delete themselves).

    Comments before articles, the order every comment write takes them (after the
    account, which ``delete_account`` locked first): a removal or a reply holding a
    comment and waiting for its article must not meet a deletion holding the article.
    """
    _remove_likes(user, CommentLike, Comment, CommentLike.comment_id)
    deleted = delete_all_written_by(user) if delete_comments else Counter()
    # Their words stay readable in the threads (the deleted-account choice documented
    # in README), but nothing links them to the person any more.
    db.session.execute(
        sa.update(Comment)
        .where(Comment.author_id == user.id)
        .values(author_id=None, client_token=None)
        .execution_options(synchronize_session=False)
    )
    if deleted:
        _remove_article_likes_and_comments(user, deleted)
    else:
        _remove_likes(user, ArticleLike, Article, ArticleLike.article_id)
    for model in (Bookmark, TopicFollow):
        db.session.execute(sa.delete(model).where(model.user_id == user.id))
    db.session.execute(sa.delete(Notification).where(Notification.user_id == user.id))
    # Their likes are gone, so are the notices of them ("deleted member liked your
    # comment" beside a count of 0); their replies stay, and so do notices of those.
    db.session.execute(
        sa.delete(Notification).where(
            Notification.actor_id == user.id, Notification.kind == NotificationKind.LIKE
        )
    )


def on_account_exporting(sender, user: User, **extra) -> dict[str, Any]:
    return {"community": export_community_data(user)}


def on_account_deleting(sender, user: User, delete_comments: bool = False, **extra) -> None:
    forget_member(user, delete_comments=delete_comments)
