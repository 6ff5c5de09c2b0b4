"""Feeds, articles, topics and tombstones."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from club.clock import UTCDateTime, utcnow
from club.extensions import db

article_topics = sa.Table(
    "article_topics",
    db.metadata,
    sa.Column("article_id", sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("topic_id", sa.ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True),
)


class Topic(db.Model):
    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80))


class Feed(db.Model):
    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(2048), unique=True)
    title: Mapped[str] = mapped_column(sa.String(300), default="")
    site_url: Mapped[str | None] = mapped_column(sa.String(2048))
    topic_id: Mapped[int | None] = mapped_column(sa.ForeignKey("topics.id", ondelete="SET NULL"))
    auto_publish: Mapped[bool] = mapped_column(default=False)
    full_content: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="active")  # active|paused|failing
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    topic: Mapped[Topic | None] = relationship()


class Article(db.Model):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("feeds.id", ondelete="SET NULL"), index=True
    )
    guid: Mapped[str] = mapped_column(sa.String(1024))
    url: Mapped[str] = mapped_column(sa.String(2048), unique=True)
    title: Mapped[str] = mapped_column(sa.String(500))
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    content: Mapped[str] = mapped_column(sa.Text, default="")
    author: Mapped[str | None] = mapped_column(sa.String(200))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending", index=True)
    featured: Mapped[bool] = mapped_column(default=False)
    # Maintained by club.community so cards show counts without a query per card.
    comment_count: Mapped[int] = mapped_column(default=0)
    like_count: Mapped[int] = mapped_column(default=0)

    feed: Mapped[Feed | None] = relationship()
    topics: Mapped[list[Topic]] = relationship(secondary=article_topics)

    __table_args__ = (sa.UniqueConstraint("feed_id", "guid"),)

    @property
    def is_published(self) -> bool:
        return self.status == "published"
