"""Feeds, articles, topics and their former addresses, tombstones, keyword rules and
per-host fetch slots.

Uniqueness that matters is a database constraint: an article is unique per (feed, GUID)
and per canonical URL across feeds, so two workers storing the same feed at once cannot
create a duplicate. The full-text search index is declared here too (PostgreSQL) or
attached by ``articles.search.create_sqlite_search_index`` (SQLite FTS5).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from club.clock import UTCDateTime, utcnow
from club.extensions import NEVER_REUSE_IDS, db, unicode_lower
from club.text import has_visible_text

ARTICLE_STATUSES = ("pending", "published", "rejected", "hidden")
DEFAULT_INTERVAL_MINUTES = 30
MIN_INTERVAL_MINUTES = 5

article_topics = sa.Table(
    "article_topics",
    db.metadata,
    sa.Column("article_id", sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("topic_id", sa.ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True),
    # Topic pages look articles up by topic; the primary key leads with article_id.
    sa.Index("ix_article_topics_topic_id", "topic_id"),
)


class Topic(db.Model):
    __tablename__ = "topics"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80))

    def __repr__(self) -> str:
        return f"<Topic {self.slug}>"


# Every list of topics, by name as a reader sorts names: case aside, on either database.
TOPIC_ORDER = (unicode_lower(Topic.name), Topic.id)


class TopicRedirect(db.Model):
    """An address a topic had before an admin renamed it or merged it into another.

    Readers' bookmarks and links elsewhere keep working: ``/topics/<slug>`` redirects to
    the topic's page now. A live topic's own slug wins over a redirect.
    """

    __tablename__ = "topic_redirects"

    slug: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    topic_id: Mapped[int] = mapped_column(
        sa.ForeignKey("topics.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Feed(db.Model):
    __tablename__ = "feeds"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(2048), unique=True)
    title: Mapped[str] = mapped_column(sa.String(300), default="")
    site_url: Mapped[str | None] = mapped_column(sa.String(2048))
    topic_id: Mapped[int | None] = mapped_column(sa.ForeignKey("topics.id", ondelete="SET NULL"))
    auto_publish: Mapped[bool] = mapped_column(default=False)
    full_content: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="active")  # active|paused|failing
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Conditional GET validators the source gave us last time.
    etag: Mapped[str | None] = mapped_column(sa.String(300))
    last_modified: Mapped[str | None] = mapped_column(sa.String(100))
    # Scheduling: the admin's interval, what the source asked for, and when to go next.
    interval_minutes: Mapped[int] = mapped_column(default=DEFAULT_INTERVAL_MINUTES)
    source_ttl_minutes: Mapped[int | None] = mapped_column()
    last_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_fetch_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Health.
    consecutive_errors: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    parse_warning: Mapped[str | None] = mapped_column(sa.String(500))
    # What the last fetch that read the document stored and skipped, and why (a feed
    # whose first fetch found only old entries has no articles to show for it).
    last_result: Mapped[str | None] = mapped_column(sa.String(500))
    fetch_count: Mapped[int] = mapped_column(default=0)
    error_count: Mapped[int] = mapped_column(default=0)
    article_count: Mapped[int] = mapped_column(default=0)

    topic: Mapped[Topic | None] = relationship()

    @property
    def name(self) -> str:
        """The source's name as readers see it: its address if its title shows nothing."""
        shown = self.title and has_visible_text(self.title)
        return self.title if shown else (self.site_url or self.url)

    @property
    def is_paused(self) -> bool:
        return self.status == "paused"

    @property
    def interval(self) -> timedelta:
        return timedelta(minutes=max(self.interval_minutes or 0, MIN_INTERVAL_MINUTES))

    def __repr__(self) -> str:
        return f"<Feed {self.id} {self.url}>"


# PostgreSQL's text search configuration: English stemming on words with their accents
# removed, so "meniere" finds "Ménière" as SQLite's FTS5 does (``articles.search``
# creates it with the table, and the migration that introduced it).
SEARCH_CONFIG = "club_search"


def search_config() -> sa.ColumnElement:
    """The text search configuration, as a literal the GIN index expression can hold."""
    return sa.literal_column(f"'{SEARCH_CONFIG}'::regconfig")


def search_document(columns: Any = None) -> sa.ColumnElement:
    """Return the weighted tsvector PostgreSQL indexes and searches (same expression both ways)."""
    config = search_config()

    def weighted(column: sa.ColumnElement, weight: str) -> sa.ColumnElement:
        vector = sa.func.to_tsvector(config, sa.func.coalesce(column, ""))
        return sa.func.setweight(vector, sa.literal_column(f"'{weight}'::\"char\""))

    # The model's own index passes its class-body columns; queries use the table's.
    table = columns if columns is not None else Article.__table__.c
    return (
        weighted(table.title, "A")
        .op("||")(weighted(table.summary, "B"))
        .op("||")(weighted(table.body_text, "C"))
    )


class Article(db.Model):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int | None] = mapped_column(sa.ForeignKey("feeds.id", ondelete="SET NULL"))
    guid: Mapped[str] = mapped_column(sa.String(1024))
    # The normalised canonical URL (tracking parameters and fragment removed).
    url: Mapped[str] = mapped_column(sa.String(2048), unique=True)
    title: Mapped[str] = mapped_column(sa.String(500))
    summary: Mapped[str] = mapped_column(sa.Text, default="")  # plain text
    content: Mapped[str] = mapped_column(sa.Text, default="")  # sanitised HTML
    body_text: Mapped[str] = mapped_column(sa.Text, default="")  # content as text, for search
    author: Mapped[str | None] = mapped_column(sa.String(200))
    # Copied from the feed so attribution survives the source's removal.
    source_name: Mapped[str] = mapped_column(sa.String(300), default="")
    source_removed: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    image_url: Mapped[str | None] = mapped_column(sa.String(2048))
    image_credit: Mapped[str | None] = mapped_column(sa.String(300))
    kind: Mapped[str] = mapped_column(sa.String(16), default="article")  # article|video|audio
    video_id: Mapped[str | None] = mapped_column(sa.String(32))  # YouTube id
    video_url: Mapped[str | None] = mapped_column(sa.String(2048))  # video/* enclosure
    audio_url: Mapped[str | None] = mapped_column(sa.String(2048))  # audio/* enclosure
    reviewed_by: Mapped[str | None] = mapped_column(sa.String(300))
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    featured: Mapped[bool] = mapped_column(default=False)
    edited_fields: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # Maintained by club.community so cards show counts without a query per card.
    comment_count: Mapped[int] = mapped_column(default=0)
    like_count: Mapped[int] = mapped_column(default=0)

    feed: Mapped[Feed | None] = relationship()
    topics: Mapped[list[Topic]] = relationship(secondary=article_topics)

    # Few indexes on purpose: every one is paid for on each stored entry.
    __table_args__ = (
        # Also serves lookups by feed alone (the leading column).
        sa.UniqueConstraint("feed_id", "guid"),
        # The reading pages' keyset order: newest first, id breaks ties.
        sa.Index("ix_articles_status_published_id", "status", "published_at", "id"),
        # The videos page: a partial index, so storing an ordinary article never pays
        # for it. Queries name the kind as a literal (``reading.IS_VIDEO``). The kind
        # leads, though every row has the same: matched too, it makes this index plainly
        # better than the one above to a planner with no statistics (SQLite, by default),
        # which otherwise took either.
        sa.Index(
            "ix_articles_videos_kind_status_published_id",
            "kind",
            "status",
            "published_at",
            "id",
            sqlite_where=sa.text("kind = 'video'"),
            postgresql_where=sa.text("kind = 'video'"),
        ),
        # Full-text search on PostgreSQL; SQLite searches an FTS5 table (articles.search).
        sa.Index(
            "ix_articles_search",
            search_document(SimpleNamespace(title=title, summary=summary, body_text=body_text)),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
        NEVER_REUSE_IDS,
    )

    @property
    def is_published(self) -> bool:
        return self.status == "published"

    @property
    def is_video(self) -> bool:
        return self.kind == "video"

    @property
    def is_audio(self) -> bool:
        return self.kind == "audio"

    def is_edited(self, field: str) -> bool:
        """Tell whether an admin edited ``field`` (so fetches leave it alone)."""
        return field in (self.edited_fields or [])

    def __repr__(self) -> str:
        return f"<Article {self.id} {self.status} {self.url}>"


class Tombstone(db.Model):
    """A rejected or deleted entry: the same entry must never come back.

    It outlives its feed (no longer tied to one), and still buries the entry by URL when
    the feed is added again.
    """

    __tablename__ = "article_tombstones"

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int | None] = mapped_column(sa.ForeignKey("feeds.id", ondelete="SET NULL"))
    guid: Mapped[str] = mapped_column(sa.String(1024))
    url: Mapped[str] = mapped_column(sa.String(2048), index=True)
    reason: Mapped[str] = mapped_column(sa.String(32))  # rejected|deleted|hidden
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("feed_id", "guid"),)


class KeywordRule(db.Model):
    """Block entries mentioning a phrase, or require one, on one feed or on all of them."""

    __tablename__ = "keyword_rules"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("feeds.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(16))  # block|require
    phrase: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    feed: Mapped[Feed | None] = relationship()

    @property
    def scope(self) -> str:
        return self.feed.name if self.feed else "all feeds"

    @property
    def kind_label(self) -> str:
        """The rule's kind as the admin pages say it: "Block" or "Only keep"."""
        return "Block" if self.kind == "block" else "Only keep"

    @property
    def described(self) -> str:
        """The rule in words, as a confirmation or a message names it: block “phrase”."""
        return f"{self.kind_label.lower()} “{self.phrase}”"


class FetchSlot(db.Model):
    """A lease on one of the two concurrent fetch slots a host gets (across all workers)."""

    __tablename__ = "feed_fetch_slots"

    host: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    slot: Mapped[int] = mapped_column(primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


@sa.event.listens_for(Article, "before_insert")
def _credit_the_source(mapper, connection, article: Article) -> None:
    """Copy the feed's name onto an article created outside the pipeline (admin, tests)."""
    if not article.source_name and article.feed is not None:
        article.source_name = article.feed.name[:300]
