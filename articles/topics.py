"""Topics as admins look after them: counted and renamed.

Topics are made by name wherever an admin gives a feed or an article one
(``curation.topic_for``). A topic's former address redirects to the topic it became
(``TopicRedirect``), so readers' bookmarks survive a rename or a merge. Every function
here adds and flushes; the caller commits once, with the audit row.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from articles.curation import slugify, topic_name
from articles.models import Article, Feed, Topic, TopicRedirect, article_topics
from club.community.models import TopicFollow
from club.extensions import db


@dataclass(frozen=True)
class TopicRow:
    """One line of the admin's topic list."""

    topic: Topic
    published: int
    feeds: int
    followers: int


def topic_rows() -> list[TopicRow]:
    """Every topic by name, with its published articles, feeds and followers counted.

    One statement however many topics: each count is grouped once and joined.
    """
    published = _counted(
        sa.select(article_topics.c.topic_id.label("topic_id"))
        .join(Article, Article.id == article_topics.c.article_id)
        .where(Article.status == "published")
    )
    feeds = _counted(sa.select(Feed.topic_id.label("topic_id")).where(Feed.topic_id.is_not(None)))
    followers = _counted(sa.select(TopicFollow.topic_id.label("topic_id")))
    query = sa.select(
        Topic,
        sa.func.coalesce(published.c.n, 0),
        sa.func.coalesce(feeds.c.n, 0),
        sa.func.coalesce(followers.c.n, 0),
    )
    for counts in (published, feeds, followers):
        query = query.outerjoin(counts, counts.c.topic_id == Topic.id)
    rows = db.session.execute(query.order_by(sa.func.lower(Topic.name), Topic.id))
    return [TopicRow(*row) for row in rows]


def _counted(rows: sa.Select) -> sa.Subquery:
    """``rows`` (each naming a ``topic_id``) counted per topic."""
    inner = rows.subquery()
    return (
        sa.select(inner.c.topic_id, sa.func.count().label("n"))
        .group_by(inner.c.topic_id)
        .subquery()
    )


class TopicNameTaken(ValueError):
    """Another topic already has the name (or its address): merge instead."""

    def __init__(self, taken: Topic) -> None:
        super().__init__(f"“{taken.name}” is already a topic")
        self.taken = taken


def rename_topic(topic: Topic, name: str) -> dict[str, tuple[str, str]]:
    """Call ``topic`` ``name``; return what changed ({"name": (old, new), "slug": ...}).

    When the name gives a new address, the old one redirects to it. Raise
    ``TopicNameTaken`` when another topic has that name or address.
    """
    name = topic_name(name)
    if not name:
        raise ValueError("a topic needs a name")
    # A name of no letters (made before names needed one) keeps the address it has.
    slug = slugify(name) or topic.slug
    taken = db.session.scalar(
        sa.select(Topic)
        .where(Topic.id != topic.id, sa.or_(Topic.slug == slug, Topic.name == name))
        .limit(1)
    )
    if taken is not None:
        raise TopicNameTaken(taken)
    changed = {}
    if name != topic.name:
        changed["name"] = (topic.name, name)
        topic.name = name
    if slug != topic.slug:
        changed["slug"] = (topic.slug, slug)
        # The new address is this topic's own now, whatever it redirected to before.
        db.session.execute(sa.delete(TopicRedirect).where(TopicRedirect.slug == slug))
        _redirect(topic.slug, topic)
        topic.slug = slug
    db.session.flush()
    return changed


def _redirect(slug: str, topic: Topic) -> None:
    """Send ``/topics/<slug>`` to ``topic`` (the latest topic to leave an address has it)."""
    db.session.execute(sa.delete(TopicRedirect).where(TopicRedirect.slug == slug))
    db.session.add(TopicRedirect(slug=slug, topic_id=topic.id))
    db.session.flush()


def topic_moved_from(slug: str) -> Topic | None:
    """The topic that had the address ``slug`` before a rename or merge, if any."""
    return db.session.scalar(
        sa.select(Topic)
        .join(TopicRedirect, TopicRedirect.topic_id == Topic.id)
        .where(TopicRedirect.slug == slug)
    )
