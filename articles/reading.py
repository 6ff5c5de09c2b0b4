"""Reading queries: the pages' article lists, each a fixed number of SQL statements.

Lists use keyset pagination on (published_at, id), newest first, so "Older" costs the
same on page 1 and page 500. Cards need nothing beyond the article row (the source's
name and the comment count are columns), so a page of cards is one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from articles.models import TOPIC_ORDER, Article, Topic, article_topics
from club.extensions import db
from club.web import parse_id

PAGE_SIZE = 20
FEATURED_LIMIT = 6
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)
# A literal, not a parameter: a prepared statement's generic plan can use the partial
# index over video rows only when the condition is spelled out in the statement.
IS_VIDEO = Article.kind == sa.literal_column("'video'")


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: strictly older than (published_at, id)."""

    published_at: datetime
    article_id: int

    def encode(self) -> str:
        # Whole microseconds in integers: a float product can land one microsecond short,
        # and the page would then skip the articles sharing that time.
        micros = (self.published_at - EPOCH) // ONE_MICROSECOND
        return f"{micros}-{self.article_id}"

    @classmethod
    def decode(cls, raw: str | None) -> Cursor | None:
        """Parse a cursor from a URL; anything malformed means "first page"."""
        # The stamp is negative for an article dated before 1970.
        stamp, _, ident = (raw or "").rpartition("-")
        digits = stamp.removeprefix("-")
        article_id = parse_id(ident)
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 20 or article_id is None:
            return None
        try:
            when = EPOCH + int(stamp) * ONE_MICROSECOND
        except (OverflowError, ValueError, OSError):
            return None
        return cls(when, article_id)


@dataclass
class ArticlePage:
    articles: list[Article]
    next_cursor: Cursor | None


# The id breaks ties: a document's undated entries share a time to the microsecond.
NEWEST_FIRST = (Article.published_at.desc(), Article.id.desc())


def published() -> sa.Select:
    """Published articles, newest first."""
    return sa.select(Article).where(Article.status == "published").order_by(*NEWEST_FIRST)


def featured_articles(limit: int = FEATURED_LIMIT) -> list[Article]:
    """The pinned articles shown first on the home page."""
    return list(db.session.scalars(published().where(Article.featured.is_(True)).limit(limit)))


def latest_page(
    cursor: Cursor | None,
    *,
    topic: Topic | None = None,
    videos_only: bool = False,
    exclude: Sequence[int] = (),
    size: int = PAGE_SIZE,
) -> ArticlePage:
    """One page of the latest published articles, optionally filtered.

    ``exclude`` names articles shown elsewhere on the page (the featured block); a
    featured article past that block takes its place among the latest.
    """
    query = published()
    if topic is not None:
        query = query.join(article_topics, article_topics.c.article_id == Article.id).where(
            article_topics.c.topic_id == topic.id
        )
    if videos_only:
        query = query.where(IS_VIDEO)
    if exclude:
        query = query.where(Article.id.not_in(exclude))
    return keyset_page(query, cursor, size)


def keyset_page(query: sa.Select, cursor: Cursor | None, size: int) -> ArticlePage:
    """One page of ``query`` (ordered ``NEWEST_FIRST``) from ``cursor`` on, in one query."""
    if cursor is not None:
        query = query.where(
            sa.tuple_(Article.published_at, Article.id)
            < sa.tuple_(
                sa.literal(cursor.published_at, Article.published_at.type), cursor.article_id
            )
        )
    rows = list(db.session.scalars(query.limit(size + 1)))
    next_cursor = None
    if len(rows) > size:
        last = rows[size - 1]
        next_cursor = Cursor(last.published_at, last.id)
    return ArticlePage(rows[:size], next_cursor)


def article_for_page(article_id: int) -> Article | None:
    """Load one article with its feed and topics (two statements)."""
    return db.session.scalar(
        sa.select(Article)
        .options(joinedload(Article.feed), selectinload(Article.topics))
        .where(Article.id == article_id)
    )


def topic_by_slug(slug: str) -> Topic | None:
    return db.session.scalar(sa.select(Topic).where(Topic.slug == slug))


def all_topics() -> list[Topic]:
    """Return the topics with at least one published article, by name.

    A topic an admin just typed on a pending article would otherwise be linked
    everywhere, to a page that says it has no articles.
    """
    published = (
        sa.select(article_topics.c.topic_id)
        .join(Article, Article.id == article_topics.c.article_id)
        .where(Article.status == "published")
    )
    query = sa.select(Topic).where(Topic.id.in_(published)).order_by(*TOPIC_ORDER)
    return list(db.session.scalars(query))
