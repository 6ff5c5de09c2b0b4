"""The admin's feed list: filters by status, topic and words, and pages of 50 on a keyset.

Keyset, not OFFSET: pausing, resuming or fixing a feed moves it in the list (failing feeds
come first), and with an offset the next page would then skip or repeat a feed. A key
continues after the last feed the admin saw, wherever the others went meanwhile.

Every function is one statement, so the page costs the same queries for 5 feeds or 5,000.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from articles.models import TOPIC_ORDER, Article, Feed, Topic
from club.extensions import db, unicode_lower
from club.web import parse_id

PAGE_SIZE = 50
FEED_STATUSES = ("active", "paused", "failing")
MAX_TEXT = 300  # as long as a feed's title may be
# Failing feeds first (they want attention), then active, then paused.
STATUS_ORDER = {"failing": 0, "active": 1}
LAST_RANK = 2
STATUS_RANK = sa.case(STATUS_ORDER, value=Feed.status, else_=LAST_RANK)
LIST_ORDER = (STATUS_RANK, Feed.title, Feed.id)


@dataclass(frozen=True)
class FeedFilters:
    """What the admin narrowed the feed list to; each field None or empty for "any"."""

    status: str | None = None
    topic_id: int | None = None
    text: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str], topics: Iterable[Topic]) -> FeedFilters:
        """Read the filters from a query string; anything unknown or malformed is ignored."""
        status = args.get("status")
        topic_id = parse_id(args.get("topic"))
        text = (args.get("q") or "").replace("\x00", "").strip()[:MAX_TEXT]
        return cls(
            status=status if status in FEED_STATUSES else None,
            topic_id=topic_id if topic_id in {t.id for t in topics} else None,
            text=text,
        )

    @property
    def is_filtered(self) -> bool:
        return bool(self.status or self.topic_id or self.text)

    def params(self, **changed: object) -> dict[str, object]:
        """The query-string arguments for these filters (``changed`` replacing some)."""
        chosen = replace(self, **changed) if changed else self
        return {"status": chosen.status, "topic": chosen.topic_id, "q": chosen.text or None}

    def apply(self, query: sa.Select, *, status: bool = True) -> sa.Select:
        """Narrow ``query`` on feeds to these filters (leaving the status out if asked)."""
        if status and self.status:
            query = query.where(Feed.status == self.status)
        if self.topic_id:
            query = query.where(Feed.topic_id == self.topic_id)
        if self.text:
            needle = self.text.lower()
            query = query.where(
                sa.or_(
                    *(
                        unicode_lower(column).contains(needle, autoescape=True)
                        for column in (Feed.title, Feed.url, Feed.site_url)
                    )
                )
            )
        return query


@dataclass(frozen=True)
class FeedKey:
    """A feed's place in the list: (status rank, title, id), as the list is ordered."""

    rank: int
    title: str
    feed_id: int

    @classmethod
    def of(cls, feed: Feed) -> FeedKey:
        return cls(STATUS_ORDER.get(feed.status, LAST_RANK), feed.title, feed.id)

    def encode(self) -> str:
        # The title last: it may hold any character, a dash included.
        return f"{self.rank}-{self.feed_id}-{self.title}"

    @classmethod
    def decode(cls, raw: str | None) -> FeedKey | None:
        """Parse a key from a URL; anything malformed means "first page"."""
        rank, _, rest = (raw or "").partition("-")
        ident, dash, title = rest.partition("-")
        feed_id = parse_id(ident)
        if rank not in {"0", "1", "2"} or feed_id is None or not dash:
            return None
        # No stored title is longer, or holds a NUL (which PostgreSQL refuses to compare).
        if len(title) > MAX_TEXT or "\x00" in title:
            return None
        return cls(int(rank), title, feed_id)

    def values(self) -> sa.Tuple:
        return sa.tuple_(
            sa.literal(self.rank),
            sa.literal(self.title, Feed.title.type),
            sa.literal(self.feed_id),
        )


@dataclass
class FeedPage:
    feeds: list[Feed]
    next_key: FeedKey | None
    previous_key: FeedKey | None


def feed_page(
    filters: FeedFilters,
    *,
    after: FeedKey | None = None,
    before: FeedKey | None = None,
    size: int = PAGE_SIZE,
) -> FeedPage:
    """One page of the filtered feeds after ``after``, or before ``before``, in one query."""
    # The rows show each feed's topic: load it in the same query, not one query per row.
    query = filters.apply(sa.select(Feed).options(joinedload(Feed.topic)))
    if before is not None:
        # Walk backwards from the key, then put the page back in the list's order.
        query = query.where(sa.tuple_(*LIST_ORDER) < before.values())
        backwards = query.order_by(*(column.desc() for column in LIST_ORDER))
        rows = list(db.session.scalars(backwards.limit(size + 1)))
        earlier, rows = len(rows) > size, rows[:size][::-1]
        later = bool(rows)  # the page the admin came back from
    else:
        if after is not None:
            query = query.where(sa.tuple_(*LIST_ORDER) > after.values())
        rows = list(db.session.scalars(query.order_by(*LIST_ORDER).limit(size + 1)))
        later, rows = len(rows) > size, rows[:size]
        earlier = after is not None and bool(rows)
    return FeedPage(
        rows,
        next_key=FeedKey.of(rows[-1]) if later else None,
        previous_key=FeedKey.of(rows[0]) if earlier else None,
    )


def names_told_apart(feeds: Iterable[Feed]) -> dict[int, str]:
    """Each feed's name, with its address after it where another of ``feeds`` has that name.

    Two feeds may share a title; a choice list or a button's spoken name ("Edit …") that
    reads the same twice would let an admin act on the wrong one.
    """
    feeds = list(feeds)
    counted = Counter(feed.name for feed in feeds)
    return {
        feed.id: feed.name
        if counted[feed.name] == 1
        else f"{feed.name} ({feed.url.partition('://')[2]})"
        for feed in feeds
    }


def status_counts(filters: FeedFilters) -> dict[str, int]:
    """How many feeds each status link would list (``all`` too), under the other filters."""
    query = sa.select(Feed.status, sa.func.count(Feed.id)).group_by(Feed.status)
    counts = dict.fromkeys(FEED_STATUSES, 0)
    counts.update(db.session.execute(filters.apply(query, status=False)).all())
    return {"all": sum(counts.values()), **counts}


def recent_counts(feed_ids: list[int], since: datetime) -> dict[int, int]:
    """How many articles each of ``feed_ids`` stored since ``since``."""
    query = (
        sa.select(Article.feed_id, sa.func.count(Article.id))
        .where(Article.feed_id.in_(feed_ids), Article.fetched_at >= since)
        .group_by(Article.feed_id)
    )
    return dict(db.session.execute(query).all())


def pending_counts(feed_ids: list[int]) -> dict[int, int]:
    """How many articles from each of ``feed_ids`` wait in the review queue."""
    query = (
        sa.select(Article.feed_id, sa.func.count(Article.id))
        .where(Article.feed_id.in_(feed_ids), Article.status == "pending")
        .group_by(Article.feed_id)
    )
    return dict(db.session.execute(query).all())


def topics_with_feeds() -> list[Topic]:
    """The topics some feed files its articles under, by name (the topic filter's choices)."""
    used = sa.select(Feed.topic_id).where(Feed.topic_id.is_not(None))
    return list(
        db.session.scalars(sa.select(Topic).where(Topic.id.in_(used)).order_by(*TOPIC_ORDER))
    )
