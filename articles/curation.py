"""Curation: keyword rules, the review queue's actions, and feed removal.

Every function here adds and flushes; the caller (a view or a command) commits once and
has already written the audit row through ``club.audit.record``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa

from articles import discover, fetch
from articles.models import (
    DEFAULT_INTERVAL_MINUTES,
    MIN_INTERVAL_MINUTES,
    Article,
    Feed,
    KeywordRule,
    Tombstone,
    Topic,
    article_topics,
)
from articles.text import strip_control, tidy
from articles.topics import topic_for
from articles.urls import canonical_url, safe_url
from club.community.models import ArticleLike, Bookmark, Comment
from club.extensions import db, in_batches, unicode_lower

PREVIEW_LIMIT = 50


@dataclass(frozen=True)
class Phrase:
    """A rule's phrase as the admin wrote it, and how it is matched."""

    text: str
    pattern: re.Pattern

    def is_in(self, text: str) -> bool:
        return self.pattern.search(text) is not None


@dataclass(frozen=True)
class RuleSet:
    """The block and require phrases that apply to one feed."""

    block: tuple[Phrase, ...] = ()
    require: tuple[Phrase, ...] = ()

    def verdict(self, title: str, summary: str) -> str | None:
        """Return why an entry is refused, naming the rule, or None to keep it."""
        text = f"{title}\n{summary}"
        blocking = next((p for p in self.block if p.is_in(text)), None)
        if blocking is not None:
            return f"blocked by the rule “{blocking.text}”"
        if self.require and not any(p.is_in(text) for p in self.require):
            wanted = ", ".join(f"“{p.text}”" for p in self.require)
            return f"has none of the required phrases ({wanted})"
        return None


def phrase_pattern(phrase: str) -> re.Pattern:
    """Match ``phrase`` case-insensitively as whole words."""
    return re.compile(rf"(?<!\w){re.escape(phrase.strip())}(?!\w)", re.IGNORECASE)


def rule_phrase(phrase: str) -> Phrase:
    """The phrase of a rule, ready to match."""
    return Phrase(phrase.strip(), phrase_pattern(phrase))


# Built once: every stored document asks.
_RULES = sa.select(KeywordRule).where(
    sa.or_(KeywordRule.feed_id.is_(None), KeywordRule.feed_id == sa.bindparam("feed_id"))
)


def rules_for(feed: Feed | None) -> RuleSet:
    """Return the global rules plus ``feed``'s own (only the global ones for a feed not
    added yet)."""
    return _rules_for_feed_id(feed.id if feed is not None else None)


def _rules_for_feed_id(feed_id: int | None) -> RuleSet:
    rules = db.session.scalars(_RULES, {"feed_id": feed_id}).all()
    return RuleSet(
        block=tuple(rule_phrase(r.phrase) for r in rules if r.kind == "block"),
        require=tuple(rule_phrase(r.phrase) for r in rules if r.kind == "require"),
    )


def preview_rule(kind: str, phrase: str, feed_id: int | None) -> list[Article]:
    """List existing articles the rule would catch, before the admin saves it.

    Caught means: the rules in force for the article's feed let it in, and with this rule
    added they would not (a new "require" phrase widens the existing ones, as in store).
    """
    added = rule_phrase(phrase)
    query = sa.select(Article).where(Article.status != "rejected")
    if feed_id is not None:
        query = query.where(Article.feed_id == feed_id)
    in_force: dict[int | None, RuleSet] = {}
    caught = []
    for article in db.session.scalars(query.order_by(Article.published_at.desc()).limit(2000)):
        if article.feed_id not in in_force:
            in_force[article.feed_id] = _rules_for_feed_id(article.feed_id)
        now = in_force[article.feed_id]
        then = dataclasses.replace(now, **{kind: (*getattr(now, kind), added)})
        text = (article.title, article.summary)
        if then.verdict(*text) and not now.verdict(*text):
            caught.append(article)
            if len(caught) >= PREVIEW_LIMIT:
                break
    return caught


def rule_in_force(kind: str, phrase: str, feed_id: int | None) -> bool:
    """Tell whether the same rule (its phrase in any case) is already saved."""
    phrase = strip_control(phrase).strip()[:200]
    same = sa.select(KeywordRule.id).where(
        KeywordRule.kind == kind,
        unicode_lower(KeywordRule.phrase) == phrase.lower(),
        KeywordRule.feed_id.is_(None) if feed_id is None else KeywordRule.feed_id == feed_id,
    )
    return db.session.scalar(same.limit(1)) is not None


def add_rule(kind: str, phrase: str, feed_id: int | None) -> KeywordRule:
    """Save a keyword rule."""
    phrase = strip_control(phrase).strip()[:200]
    if kind not in ("block", "require") or not phrase:
        raise ValueError("a rule needs a kind (block or require) and a phrase")
    if rule_in_force(kind, phrase, feed_id):
        raise ValueError("that rule is already in force")
    rule = KeywordRule(kind=kind, phrase=phrase, feed_id=feed_id)
    db.session.add(rule)
    db.session.flush()
    return rule


# --- The review queue ------------------------------------------------------------------


def approve(article: Article) -> None:
    """Publish ``article`` (and lift a rejection's tombstone, so fetches update it again)."""
    article.status = "published"
    unbury(article)


def reject(article: Article) -> None:
    """Reject ``article`` and leave a tombstone so the entry never comes back."""
    article.status = "rejected"
    article.featured = False
    bury(article, "rejected")


def hide(article: Article) -> None:
    """Take ``article`` off the site without rejecting it."""
    article.status = "hidden"
    article.featured = False


def set_featured(article: Article, featured: bool) -> None:
    """Pin ``article`` to the top of the home page (publishing it), or unpin it."""
    article.featured = featured
    if featured:
        article.status = "published"
        unbury(article)


def _tombstones_of(article: Article) -> sa.ColumnElement[bool]:
    """The tombstones that bury ``article``'s entry: by URL, and by GUID on its feed.

    A GUID is unique only within one feed. An article whose feed was removed has none to
    tie it to, and must not match the tombstone of another removed feed's entry.
    """
    by_url = Tombstone.url == article.url
    if article.feed_id is None:
        return by_url
    same_guid = sa.and_(Tombstone.feed_id == article.feed_id, Tombstone.guid == article.guid)
    return sa.or_(same_guid, by_url)


def bury(article: Article, reason: str) -> None:
    """Record a tombstone for ``article``'s entry (idempotent)."""
    exists = db.session.scalar(sa.select(Tombstone.id).where(_tombstones_of(article)).limit(1))
    if exists is None:
        db.session.add(
            Tombstone(feed_id=article.feed_id, guid=article.guid, url=article.url, reason=reason)
        )
        db.session.flush()


def unbury(article: Article) -> None:
    """Remove the tombstone of ``article``'s entry: it is on the site again."""
    db.session.execute(sa.delete(Tombstone).where(_tombstones_of(article)))


def edit_article(
    article: Article,
    *,
    title: str,
    summary: str,
    reviewed_by: str,
    topics: Sequence[Topic],
) -> list[str]:
    """Apply an admin's edit; mark each changed field so fetches never overwrite it."""
    # Control characters would make /feed.xml and the OPML export invalid XML; one-line
    # fields lose direction overrides as ingested ones do (``tidy``).
    title, summary = tidy(strip_control(title)), strip_control(summary).strip()
    reviewed_by = tidy(strip_control(reviewed_by))
    changed = []
    if title and title != article.title:
        article.title, changed = title[:500], [*changed, "title"]
    if summary != article.summary:
        article.summary, changed = summary, [*changed, "summary"]
    if (reviewed_by or None) != article.reviewed_by:
        article.reviewed_by, changed = reviewed_by[:300] or None, [*changed, "reviewed_by"]
    unique_topics = list({t.id: t for t in topics}.values())  # two names, one slug
    if {t.id for t in unique_topics} != {t.id for t in article.topics}:
        article.topics, changed = unique_topics, [*changed, "topics"]
    if changed:
        article.edited_fields = sorted(set(article.edited_fields or []) | set(changed))
    return changed


def article_edit_values(article: Article) -> dict[str, str]:
    """What the article edit form shows of ``article``, field by field."""
    return {
        "title": article.title,
        "summary": article.summary or "",
        "reviewed_by": article.reviewed_by or "",
        "topics": ", ".join(sorted(t.name for t in article.topics)),
    }


def bulk_articles(ids: Iterable[int]) -> list[Article]:
    """Load the articles a bulk action names."""
    wanted = [int(i) for i in ids]
    if not wanted:
        return []
    return list(db.session.scalars(sa.select(Article).where(Article.id.in_(wanted))))


# The order and the words an admin reads a feed's articles in, by status.
STATUS_WORDS = {
    "published": "published",
    "pending": "waiting for review",
    "hidden": "hidden",
    "rejected": "rejected",
}


def describe_articles(feed: Feed) -> str:
    """Say how many articles from ``feed`` are on the site now, by status ("14 published,
    100 waiting for review"); empty if it has none.

    ``Feed.article_count`` counts what fetching ever stored; admins delete articles too,
    and one total would not say how many readers see.
    """
    query = (
        sa.select(Article.status, sa.func.count(Article.id))
        .where(Article.feed_id == feed.id)
        .group_by(Article.status)
    )
    counts = dict(db.session.execute(query).all())
    parts = [
        f"{counts[status]} {words}" for status, words in STATUS_WORDS.items() if counts.get(status)
    ]
    return ", ".join(parts)


@dataclass(frozen=True)
class MemberActivity:
    """What members added to a feed's articles, which removing the articles deletes."""

    comments: int = 0
    likes: int = 0
    bookmarks: int = 0

    def __bool__(self) -> bool:
        return any((self.comments, self.likes, self.bookmarks))

    def describe(self) -> str:
        """ "3 comments, 1 like and 2 bookmarks" (the kinds there are none of left out)."""
        parts = [
            f"{n} {word}{'' if n == 1 else 's'}"
            for n, word in (
                (self.comments, "comment"),
                (self.likes, "like"),
                (self.bookmarks, "bookmark"),
            )
            if n
        ]
        return (
            " and ".join(filter(None, (", ".join(parts[:-1]), parts[-1]))) if parts else "nothing"
        )


def member_activity(feed: Feed) -> MemberActivity:
    """Count the comments readers see, the likes and the bookmarks members left on
    ``feed``'s articles (what removing the articles would take away)."""
    articles = sa.select(Article.id).where(Article.feed_id == feed.id)

    def on_articles(model, *where) -> sa.ScalarSelect:
        return (
            sa.select(sa.func.count(model.id))
            .where(model.article_id.in_(articles), *where)
            .scalar_subquery()
        )

    comments = on_articles(Comment, Comment.status == "visible", Comment.hidden.is_(False))
    row = db.session.execute(
        sa.select(comments, on_articles(ArticleLike), on_articles(Bookmark))
    ).one()
    return MemberActivity(*row)


def added_feed_detail(feed: Feed) -> str:
    """A feed's address and settings in words, for the audit log of an added feed."""
    settings = feed_settings(feed)
    return " · ".join([feed.url, *(f"{name} {value}" for name, value in settings.items())])


def feed_settings(feed: Feed) -> dict[str, str]:
    """A feed's editable settings in words: the edit form's fingerprint and the audit log."""
    return {
        "name": feed.name,
        "topic": feed.topic.name if feed.topic else "none",
        "new articles": "auto-publish" if feed.auto_publish else "review",
        "shown as": "full text" if feed.full_content else "excerpt",
        "interval": f"every {feed.interval_minutes} min",
    }


def feed_edit_values(feed: Feed) -> dict[str, str | bool | int]:
    """What the feed edit form shows of ``feed``, field by field.

    The stored name, not ``Feed.name``: that falls back to the site's address, which a
    fetch fills in, and that is no admin's save.
    """
    return {
        "title": feed.title or "",
        "topic": feed.topic.name if feed.topic else "",
        "auto_publish": feed.auto_publish,
        "full_content": feed.full_content,
        "interval_minutes": feed.interval_minutes,
    }


def move_feed_articles_to_topic(feed: Feed, old: Topic | None, new: Topic | None) -> int:
    """Give the feed's articles its new topic in place of the old one; return how many.

    Articles whose topics an admin chose by hand keep them, as fetches leave them.
    """
    rows = db.session.execute(
        sa.select(Article.id, Article.edited_fields).where(Article.feed_id == feed.id)
    ).all()
    ids = [article_id for article_id, edited in rows if "topics" not in (edited or [])]
    for part in in_batches(ids):
        if old is not None:
            db.session.execute(
                sa.delete(article_topics).where(
                    article_topics.c.topic_id == old.id, article_topics.c.article_id.in_(part)
                )
            )
        if new is not None:
            tagged = set(
                db.session.scalars(
                    sa.select(article_topics.c.article_id).where(
                        article_topics.c.topic_id == new.id, article_topics.c.article_id.in_(part)
                    )
                )
            )
            missing = [{"article_id": i, "topic_id": new.id} for i in part if i not in tagged]
            if missing:
                db.session.execute(sa.insert(article_topics), missing)
    return len(ids)


def rename_feed(feed: Feed, name: str) -> None:
    """Call ``feed`` ``name`` wherever readers see it, its stored articles included.

    An empty name keeps the current one.
    """
    name = tidy(strip_control(name), 300)
    if not name or name == feed.title:
        return
    feed.title = name
    # Each article keeps its source's name (it outlives a deleted feed): rename those too.
    db.session.execute(
        sa.update(Article).where(Article.feed_id == feed.id).values(source_name=feed.name[:300])
    )


def remove_feed(feed: Feed, *, keep_articles: bool) -> int:
    """Delete ``feed``; its articles stay (marked as from a removed source) or go."""
    articles = sa.select(Article.id).where(Article.feed_id == feed.id)
    if keep_articles:
        values = {"source_removed": True, "feed_id": None}
        if not feed.full_content:
            # The site only ever showed this source's excerpt; with the feed gone nothing
            # would say so, so only the excerpt stays.
            values |= {"content": "", "body_text": ""}
        count = db.session.execute(
            sa.update(Article).where(Article.feed_id == feed.id).values(**values)
        ).rowcount
    else:
        # What an admin hid stays off the site if the feed is added again, as what they
        # rejected does: with auto-publish it would come back published.
        hidden = articles.where(Article.status == "hidden")
        for article in db.session.scalars(sa.select(Article).where(Article.id.in_(hidden))):
            bury(article, "hidden")
        ids = list(db.session.scalars(articles))
        count = len(ids)
        if ids:
            db.session.execute(sa.delete(Article).where(Article.id.in_(ids)))
    # Tombstones stay (the database unties them from the feed): a rejected or hidden
    # entry must not come back if the feed is added again.
    db.session.delete(feed)
    db.session.flush()
    return count


# --- Feeds -------------------------------------------------------------------------------


class FeedExists(ValueError):
    """A feed with that URL is already on the site (``feed``, where the caller knows it)."""

    def __init__(self, message: str, feed: Feed | None = None) -> None:
        super().__init__(message)
        self.feed = feed


def discover_new_feed(url: str, config: Mapping[str, Any]) -> discover.Discovery:
    """Read the feed at ``url``, a feed's or a site's address, that the site has not got.

    Raise ``discover.DiscoveryError`` if no feed can be read there, and ``FeedExists`` if
    the site already has the feed it leads to: by its address, through the site's page, or
    through a temporary redirect. The admin's form and ``flask feeds add`` both ask here.
    """
    address = feed_address(url)
    known = feed_at(address)
    if known is None:
        found = discover.discover(
            address,
            known=lambda candidate: feed_at(candidate) is not None,
            **fetch.destinations_allowed(config),
        )
        known = feed_at(found.feed_url) or feed_at(found.fetched_from)
    if known is not None:
        raise FeedExists(f"the site already has this feed: {known.name}", known)
    return found


def feed_address(url: str) -> str:
    """Write a feed URL one way, so one feed is not added twice under two spellings.

    Scheme and host in lower case, a host in another script as its ASCII (punycode) name,
    no final dot after the host, no default port, fragment, tracking parameters, empty
    query or "." and ".." segments.
    """
    parts = urlsplit(canonical_url(url.strip()))
    if not parts.scheme or not parts.netloc:
        return url.strip()
    path = without_dot_segments(parts.path or "/")
    return urlunsplit((parts.scheme, _one_netloc(parts.netloc), path, parts.query, ""))


def without_dot_segments(path: str) -> str:
    """``path`` with its "." and ".." segments resolved (RFC 3986, 5.2.4).

    Not ``urljoin``: it reads a path that starts "//" as a host name, and
    "//blog/feed.xml" is a path some servers really serve.
    """
    segments = path.split("/")
    if "." not in segments and ".." not in segments:
        return path
    kept: list[str] = []
    for position, segment in enumerate(segments[1:], start=1):
        last = position == len(segments) - 1
        if segment in (".", ".."):
            if segment == ".." and kept:
                kept.pop()
            if last:
                kept.append("")  # "/a/b/.." is the directory "/a/"
        else:
            kept.append(segment)
    return "/" + "/".join(kept)


def _one_netloc(netloc: str) -> str:
    """The host (and port) written one way: a name in another script as punycode, and
    without the final dot of a fully qualified name ("example.com." is "example.com")."""
    if netloc.startswith("[") or "@" in netloc:
        return netloc  # an IPv6 literal; credentials are refused by create_feed
    host, colon, port = netloc.partition(":")
    if not host.isascii():
        try:
            # Before the final dot goes: IDNA reads an ideographic full stop as one.
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return netloc  # create_feed refuses a host that cannot be a name
    return (host.rstrip(".") or host) + colon + port


# Dot-separated labels of letters (any script), digits, hyphens and underscores, or an
# IPv6 literal; a space or "%" would pass urlsplit and fail every fetch.
_HOST_NAME = re.compile(r"[\w-]+(\.[\w-]+)*\.?|[0-9a-f:.]*:[0-9a-f:.]*")


def is_host_name(host: str) -> bool:
    """Tell whether ``host`` (as urlsplit's ``hostname`` gives it) can name a server."""
    return bool(host) and len(host) <= 253 and _HOST_NAME.fullmatch(host) is not None


UNREADABLE_BRACKETS = "the square brackets around its host do not hold an IPv6 address"
# A host typed with an East Asian input method: a full-width solidus or colon (U+FF0F, U+FF1A).
UNREADABLE_HOST = "its host holds a full-width '/', ':', '?', '#' or '@'; type them as plain ones"


def valid_feed_address(url: str) -> str:
    """``url`` as ``feed_address`` writes it; raise ValueError if no feed can be there."""
    url = url.strip()
    try:
        urlsplit(url)
    except ValueError as error:  # Python refuses to read the address at all
        # Its own words: "… invalid characters under NFKC normalization", else the brackets.
        nfkc = "contains invalid characters under NFKC normalization"
        said = UNREADABLE_HOST if str(error).endswith(nfkc) else UNREADABLE_BRACKETS
        raise ValueError(said) from None
    if safe_url(url) is None or url.startswith("mailto:"):
        raise ValueError("a feed address must be an http:// or https:// URL")
    url = feed_address(url)
    if not is_host_name(urlsplit(url).hostname or ""):
        raise ValueError(f"{urlsplit(url).hostname!r} is not a valid host name")
    return url


def feed_at(url: str) -> Feed | None:
    """The site's feed at ``url`` (however it is spelt), if there is one."""
    return db.session.scalar(sa.select(Feed).where(Feed.url == feed_address(url)).limit(1))


def create_feed(
    url: str,
    *,
    title: str = "",
    site_url: str = "",
    topic_name: str = "",
    auto_publish: bool = False,
    full_content: bool = True,
    interval_minutes: int = DEFAULT_INTERVAL_MINUTES,
) -> Feed:
    """Add a feed (validated, not yet fetched); raise ``FeedExists`` for a known URL."""
    url = valid_feed_address(url)
    existing = feed_at(url)
    if existing is not None:
        raise FeedExists(f"{url} is already one of the site's feeds ({existing.name})", existing)
    topic = topic_for(topic_name)
    feed = Feed(
        url=url[:2048],
        title=strip_control(title).strip()[:300],
        site_url=safe_url(site_url or "") or None,
        topic_id=topic.id if topic else None,
        auto_publish=auto_publish,
        full_content=full_content,
        interval_minutes=max(int(interval_minutes), MIN_INTERVAL_MINUTES),
    )
    db.session.add(feed)
    db.session.flush()
    return feed


def set_paused(feed: Feed, paused: bool) -> None:
    """Pause a feed (no more fetches) or resume it (fetched at the next pass)."""
    feed.status = "paused" if paused else "active"
    if not paused:
        feed.consecutive_errors = 0
        feed.next_fetch_at = None
