"""Bookmarks: members save articles to read later; ``/saved`` lists them newest first."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from articles.models import Article
from club.community.comments import find_article
from club.community.likes import insert_once
from club.community.models import Bookmark
from club.extensions import db
from club.models import User


def set_bookmark(user: User, article_id: int, on: bool) -> bool:
    """Save (``on``) or unsave an article; return whether it is saved now.

    Asking for the state it is already in writes nothing (see ``club.community.likes``).
    """
    article = find_article(article_id)
    if on:
        insert_once(Bookmark(user_id=user.id, article_id=article.id))
        return True
    db.session.execute(
        sa.delete(Bookmark).where(Bookmark.user_id == user.id, Bookmark.article_id == article.id)
    )
    return False


def is_saved(user: User | None, article_id: int) -> bool:
    """Tell whether ``user`` saved the article."""
    if user is None or not user.is_authenticated:
        return False
    found = db.session.scalar(
        sa.select(Bookmark.id).where(Bookmark.user_id == user.id, Bookmark.article_id == article_id)
    )
    return found is not None


def saved_articles(
    user: User, *, before: int | None = None, limit: int = 20
) -> tuple[list[Bookmark], int | None]:
    """Return ``user``'s bookmarks of published articles, newest first, and the next keyset."""
    query = (
        sa.select(Bookmark)
        .join(Article, Article.id == Bookmark.article_id)
        .where(Bookmark.user_id == user.id, Article.status == "published")
        .options(
            joinedload(Bookmark.article).joinedload(Article.feed),
            joinedload(Bookmark.article).selectinload(Article.topics),
        )
        .order_by(Bookmark.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(Bookmark.id < before)
    rows = list(db.session.scalars(query).unique())
    next_before = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], next_before


def unavailable_count(user: User) -> int:
    """How many of ``user``'s bookmarks point at articles not published at the moment.

    They are kept (an article an admin hides may come back, and the bookmark with it),
    so the saved list says they exist rather than look emptier than it is.
    """
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Bookmark)
        .join(Article, Article.id == Bookmark.article_id)
        .where(Bookmark.user_id == user.id, Article.status != "published")
    )
