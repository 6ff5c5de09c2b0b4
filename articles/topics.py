"""Topics: named, and as admins look after them: counted, renamed, merged, deleted.

Topics are made by name wherever an admin gives a feed or an article one
(``topic_for``). A topic's former address redirects to the topic it became
(``TopicRedirect``), so readers' bookmarks survive a rename or a merge. Every function
here adds and flushes; the caller commits once, with the audit row.
"""

from __future__ import annotations

import unicodedata
from dataclasses import astuple, dataclass

import sqlalchemy as sa

from articles.models import TOPIC_ORDER, Article, Feed, Topic, TopicRedirect, article_topics
from articles.text import slug_of, strip_control
from club.community.models import TopicFollow
from club.extensions import db


def topic_for(name: str) -> Topic | None:
    """Return the topic called ``name`` (by slug or name), creating it if new; it is held
    until the caller commits.

    A name a renamed or merged topic had makes a new topic, which takes over the former
    address. Commas become spaces: the article edit form lists topics separated by commas.
    """
    name = topic_name(name)
    if not _has_letter_or_digit(name):
        # "!!!" has no slug of its own (the forms and commands refuse it); one made before
        # that rule keeps working.
        return _topic_named(name)
    slug = slugify(name)
    # Held, a merge or deletion under way makes this wait and find the topic gone (made
    # anew below, as a moment later) instead of the caller's feed or article naming a
    # deleted topic, a database error; and none can start until the caller is done.
    held = sa.select(Topic).where(Topic.slug == slug).with_for_update(key_share=True)
    topic = db.session.scalar(held)
    if topic is None:
        # Another admin may be naming the same new topic at this moment.
        topic = _made(Topic(slug=slug, name=name)) or db.session.scalar(held)
    return topic


def _made(topic: Topic) -> Topic | None:
    """Add the new ``topic``; None if another admin's save made one at its address since
    it was looked for (their commit is then visible, so looking again finds it)."""
    try:
        with db.session.begin_nested():
            db.session.add(topic)
    except sa.exc.IntegrityError:
        return None
    return topic


TOPIC_NAME_MAX = 80  # the column's width; forms refuse longer names before this cuts them
# Each new name typed on an article makes a topic with a public page: one save of a long
# list made dozens. Ten covers any article; more says little about what it is about.
ARTICLE_TOPICS_MAX = 10


def topic_name(name: str | None) -> str:
    """``name`` as a topic is called: composed (NFC), without control characters, commas
    or runs of spaces. "Café" typed with a combining accent is then the same name."""
    return uncut_topic_name(name)[:TOPIC_NAME_MAX]


def uncut_topic_name(name: str | None) -> str:
    """``topic_name`` before it is cut to the column's width (forms refuse what it cuts)."""
    words = strip_control(name or "").replace(",", " ").split()
    return unicodedata.normalize("NFC", " ".join(words))


def topics_named(names: str) -> set[str]:
    """The topics a comma-separated list names, each once: "Heart, heart" names one."""
    named = (topic_name(name) for name in names.split(","))
    return {slugify(name) or name for name in named if name}


def is_topic_name(name: str) -> bool:
    """Tell whether ``name`` can name a topic: it needs a letter or digit for its address,
    unless a topic already has that name (made before this rule)."""
    return _has_letter_or_digit(name) or _topic_named(" ".join(name.split())) is not None


def _has_letter_or_digit(name: str) -> bool:
    return any(char.isalnum() for char in name)


def _topic_named(name: str) -> Topic | None:
    return db.session.scalar(sa.select(Topic).where(Topic.name == name).limit(1)) if name else None


def slugify(text: str) -> str:
    """Return a topic's address for ``text``, its name."""
    return slug_of(text, 60)


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
    rows = db.session.execute(query.order_by(*TOPIC_ORDER))
    return [TopicRow(*row) for row in rows]


def _counted(rows: sa.Select) -> sa.Subquery:
    """``rows`` (each naming a ``topic_id``) counted per topic."""
    inner = rows.subquery()
    return (
        sa.select(inner.c.topic_id, sa.func.count().label("n"))
        .group_by(inner.c.topic_id)
        .subquery()
    )


@dataclass(frozen=True)
class TopicUsage:
    """What is filed under a topic: what a merge moves, or a deletion takes the topic off.

    ``shared_articles`` and ``shared_followers`` are those already in the other topic of
    a merge (they end up in it once).
    """

    articles: int = 0
    published: int = 0
    feeds: int = 0
    followers: int = 0
    shared_articles: int = 0
    shared_followers: int = 0

    def __bool__(self) -> bool:
        return any((self.articles, self.feeds, self.followers))

    @property
    def fingerprint(self) -> str:
        """The counts as one string: a confirmation page carries it, so a merge or
        deletion confirmed on counts that changed since is noticed."""
        return "-".join(str(n) for n in astuple(self))

    def describe(self) -> str:
        """ "3 articles, 1 feed and 2 followers" (kinds there are none of left out)."""
        parts = [
            f"{n} {word}{'' if n == 1 else 's'}"
            for n, word in (
                (self.articles, "article"),
                (self.feeds, "feed"),
                (self.followers, "follower"),
            )
            if n
        ]
        if not parts:
            return "nothing"
        return " and ".join(filter(None, (", ".join(parts[:-1]), parts[-1])))


def usage(topic: Topic, other: Topic | None = None) -> TopicUsage:
    """Count what is filed under ``topic`` (and, of it, what ``other`` already has)."""
    tagged, following = _articles_of(topic), _followers_of(topic)
    published = tagged.join(Article, Article.id == article_topics.c.article_id).where(
        Article.status == "published"
    )
    feeds = sa.select(Feed.id).where(Feed.topic_id == topic.id)
    counts = [_count(tagged), _count(published), _count(feeds), _count(following)]
    if other is not None:
        counts += [
            _count(tagged.where(article_topics.c.article_id.in_(_articles_of(other)))),
            _count(following.where(TopicFollow.user_id.in_(_followers_of(other)))),
        ]
    return TopicUsage(*db.session.execute(sa.select(*counts)).one())


def _count(rows: sa.Select) -> sa.ScalarSelect:
    return sa.select(sa.func.count()).select_from(rows.subquery()).scalar_subquery()


def _articles_of(topic: Topic) -> sa.Select:
    return sa.select(article_topics.c.article_id).where(article_topics.c.topic_id == topic.id)


def _followers_of(topic: Topic) -> sa.Select:
    return sa.select(TopicFollow.user_id).where(TopicFollow.topic_id == topic.id)


def lock_topics(*topic_ids: int) -> dict[int, Topic]:
    """Lock the topics an admin is about to merge or delete; those still there, by id.

    The feeds filed under them first, then their articles, then the topics in id order,
    the order every merge takes them in: a refresh holds its feed, and an article edit its
    article, while it files them under a topic (``topic_for``), and two admins merging the
    same topics one way and the other must queue, not deadlock. A topic merged away
    meanwhile is not returned.
    """
    feeds = sa.select(Feed.id).where(Feed.topic_id.in_(topic_ids)).order_by(Feed.id)
    db.session.execute(feeds.with_for_update())
    tagged = sa.select(article_topics.c.article_id).where(article_topics.c.topic_id.in_(topic_ids))
    articles = sa.select(Article.id).where(Article.id.in_(tagged)).order_by(Article.id)
    db.session.execute(articles.with_for_update(key_share=True))
    topics = (
        sa.select(Topic)
        .where(Topic.id.in_(topic_ids))
        .order_by(Topic.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {topic.id: topic for topic in db.session.scalars(topics)}


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


def merge_topics(source: Topic, into: Topic) -> TopicUsage:
    """File everything under ``source`` under ``into`` instead and delete ``source``.

    Its articles, feeds and followers move (an article or member already in ``into``
    stays there once); its address, and any it had before, redirect to ``into``.
    Return what moved.
    """
    moved = usage(source, into)
    db.session.execute(
        sa.insert(article_topics).from_select(
            ["article_id", "topic_id"],
            sa.select(article_topics.c.article_id, sa.literal(into.id))
            .where(article_topics.c.topic_id == source.id)
            .where(article_topics.c.article_id.not_in(_articles_of(into))),
        )
    )
    db.session.execute(sa.update(Feed).where(Feed.topic_id == source.id).values(topic_id=into.id))
    db.session.execute(
        sa.insert(TopicFollow).from_select(
            ["user_id", "topic_id", "created_at"],
            sa.select(TopicFollow.user_id, sa.literal(into.id), TopicFollow.created_at)
            .where(TopicFollow.topic_id == source.id)
            .where(TopicFollow.user_id.not_in(_followers_of(into))),
        )
    )
    db.session.execute(
        sa.update(TopicRedirect).where(TopicRedirect.topic_id == source.id).values(topic_id=into.id)
    )
    if source.slug:
        _redirect(source.slug, into)
    _delete(source)
    return moved


def delete_topic(topic: Topic) -> TopicUsage:
    """Delete ``topic``: its articles and feeds lose it, its followers stop following it,
    and its addresses answer 404. Return what it was taken off."""
    lost = usage(topic)
    db.session.execute(sa.update(Feed).where(Feed.topic_id == topic.id).values(topic_id=None))
    _delete(topic)
    return lost


def _delete(topic: Topic) -> None:
    """Delete ``topic`` and every row that names it (its redirects go with it)."""
    db.session.execute(sa.delete(article_topics).where(article_topics.c.topic_id == topic.id))
    db.session.execute(sa.delete(TopicFollow).where(TopicFollow.topic_id == topic.id))
    db.session.execute(sa.delete(TopicRedirect).where(TopicRedirect.topic_id == topic.id))
    db.session.delete(topic)
    db.session.flush()


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
