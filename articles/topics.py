"""Topics as admins look after them.

Topics are made by name wherever an admin gives a feed or an article one
(``curation.topic_for``). A topic's former address redirects to the topic it became
(``TopicRedirect``), so readers' bookmarks survive a rename or a merge.
"""

from __future__ import annotations

import sqlalchemy as sa

from articles.models import Topic, TopicRedirect
from club.extensions import db


def topic_moved_from(slug: str) -> Topic | None:
    """The topic that had the address ``slug`` before a rename or merge, if any."""
    return db.session.scalar(
        sa.select(Topic)
        .join(TopicRedirect, TopicRedirect.topic_id == Topic.id)
        .where(TopicRedirect.slug == slug)
    )
