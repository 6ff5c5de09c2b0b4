"""Likes on articles and comments: one per account (a database constraint), with counts.

A form says which state it wants (``on``/``off``) rather than "toggle", so a resubmitted
or double-clicked form cannot undo itself. Asking for the state you already have (a
double click, or a tab opened before you liked it elsewhere) writes nothing and answers
with the current state, so the button catches up instead of showing an error.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from articles.models import Article
from club.community import notifications
from club.community.comments import (
    COMMENT_GONE,
    find_article,
    find_visible_comment,
    hold_accounts,
)
from club.community.errors import CommunityError, NotFound
from club.community.models import ArticleLike, Comment, CommentLike
from club.extensions import db
from club.models import User


@dataclass(frozen=True)
class LikeState:
    """The outcome of a like or unlike: whether the viewer likes it now, and the count."""

    liked: bool
    count: int


def insert_once(row: db.Model) -> bool:
    """Insert ``row`` in a savepoint; return False if a unique constraint refused it."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return False
    return True


def _bump(model, row_id: int, delta: int) -> int:
    """Move the row's like count by ``delta`` (0: leave it) and return the count."""
    if delta:
        db.session.execute(
            sa.update(model)
            .where(model.id == row_id)
            .values(like_count=model.like_count + delta)
            .execution_options(synchronize_session=False)
        )
    return db.session.scalar(sa.select(model.like_count).where(model.id == row_id))


def set_article_like(user: User, article_id: int, on: bool) -> LikeState:
    """Like (``on``) or unlike an article."""
    article = find_article(article_id)
    if on:
        added = insert_once(ArticleLike(user_id=user.id, article_id=article.id))
        return LikeState(True, _bump(Article, article.id, int(added)))
    deleted = db.session.execute(
        sa.delete(ArticleLike).where(
            ArticleLike.user_id == user.id, ArticleLike.article_id == article.id
        )
    ).rowcount
    return LikeState(False, _bump(Article, article.id, -deleted))


def set_comment_like(user: User, comment_id: int, on: bool) -> LikeState:
    """Like (``on``) or unlike a comment; a new like notifies its author.

    Only a comment readers see: a held, removed or deleted one answers as an unused id,
    its like count unread.
    """
    comment = find_visible_comment(comment_id)
    if on:
        # The liker and the author the like notifies, before the comment's row is locked;
        # then the comment again, as the author's account deletion may have left it.
        hold_accounts(user.id, comment.author_id)
        db.session.refresh(comment)
        if not comment.is_visible:
            raise NotFound(f"{COMMENT_GONE}.")
        if comment.is_owned_by(user):
            # A like says someone else found it worth reading; it ranks "Most liked".
            raise CommunityError("You cannot like your own comment.")
        added = insert_once(CommentLike(user_id=user.id, comment_id=comment.id))
        count = _bump(Comment, comment.id, int(added))
        if added:
            notifications.notify_like(liker=user, comment=comment)
        return LikeState(True, count)
    deleted = db.session.execute(
        sa.delete(CommentLike).where(
            CommentLike.user_id == user.id, CommentLike.comment_id == comment.id
        )
    ).rowcount
    return LikeState(False, _bump(Comment, comment.id, -deleted))


def article_state(user: User | None, article: Article) -> LikeState:
    """Return whether ``user`` likes ``article`` and its like count."""
    liked = False
    if user is not None and user.is_authenticated:
        liked = (
            db.session.scalar(
                sa.select(ArticleLike.id).where(
                    ArticleLike.user_id == user.id, ArticleLike.article_id == article.id
                )
            )
            is not None
        )
    return LikeState(liked, article.like_count)
