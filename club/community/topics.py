"""Following topics and the "For you" list built from them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from articles.models import Article, Topic, article_topics
from club.community.errors import NotFound
from club.community.likes import insert_once
from club.community.models import TopicFollow
from club.extensions import db
from club.models import User


def set_follow(user: User, topic_id: int, on: bool) -> bool:
    """Follow (``on``) or unfollow a topic; return whether it is followed now.

    Asking for the state it is already in writes nothing (see ``club.community.likes``).
    """
    # Held until commit: a merge or deletion under way makes this wait and find it gone,
    # instead of the follow failing on the database after it was checked.
    topic = db.session.get(Topic, topic_id, with_for_update={"key_share": True})
    if topic is None:
        raise NotFound(
            "That topic does not exist: it may have been merged into another or deleted."
        )
    if on:
        insert_once(TopicFollow(user_id=user.id, topic_id=topic.id))
        return True
    db.session.execute(
        sa.delete(TopicFollow).where(
            TopicFollow.user_id == user.id, TopicFollow.topic_id == topic.id
        )
    )
    return False


def followed_topic_ids(user: User | None) -> set[int]:
    """Return the ids of the topics ``user`` follows."""
    if user is None or not user.is_authenticated:
        return set()
    return set(
        db.session.scalars(sa.select(TopicFollow.topic_id).where(TopicFollow.user_id == user.id))
    )


def for_you(
    user: User, *, before: tuple[datetime, int] | None = None, limit: int = 20
) -> tuple[list[Article], tuple[datetime, int] | None]:
    """Return published articles in the topics ``user`` follows, newest first, and the keyset."""
    followed = sa.select(TopicFollow.topic_id).where(TopicFollow.user_id == user.id)
    in_followed = sa.select(article_topics.c.article_id).where(
        article_topics.c.topic_id.in_(followed)
    )
    query = (
        sa.select(Article)
        .where(Article.status == "published", Article.id.in_(in_followed))
        .options(joinedload(Article.feed), selectinload(Article.topics))
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        published_at, article_id = before
        query = query.where(
            sa.or_(
                Article.published_at < published_at,
                sa.and_(Article.published_at == published_at, Article.id < article_id),
            )
        )
    rows = list(db.session.scalars(query))
    last = rows[limit - 1] if len(rows) > limit else None
    return rows[:limit], (last.published_at, last.id) if last else None
