"""Store: cleaned entries → articles, never a duplicate.

The database enforces uniqueness per (feed, GUID) and per canonical URL. New rows go in
with INSERT … ON CONFLICT DO NOTHING (both dialects), so when two workers store the same
feed at once the loser's rows are simply not inserted — no exception, no half-written
batch. A changed entry updates its article except the fields an admin edited; a
tombstone keeps a rejected or deleted entry from coming back.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from articles.clean import CleanEntry
from articles.curation import RuleSet
from articles.models import Article, Feed, Tombstone, article_topics
from articles.text import as_cut, ends_mid_sentence
from club.extensions import db, in_batches

# Fields a later fetch refreshes; the admin-editable ones among them are skipped when edited.
REFRESHED_FIELDS = (
    "title", "summary", "content", "body_text", "author", "updated_at", "image_url",
    "image_credit", "kind", "video_id", "video_url", "audio_url", "reviewed_by",
)  # fmt: skip


@dataclass
class StoreSummary:
    """What one store pass did; the JSON summary ``feeds ingest-file`` prints."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: int = 0
    notes: list[str] = field(default_factory=list)
    # How many entries each reason skipped (a note's words before the entry's address).
    reasons: dict[str, int] = field(default_factory=dict)

    def skip(self, note: str) -> None:
        """Count a skipped entry; ``note`` is "why: the entry's address"."""
        self.skipped += 1
        if len(self.notes) < 20:
            self.notes.append(note)
        why = note.rpartition(": ")[0] or note
        self.reasons[why] = self.reasons.get(why, 0) + 1

    def add_skips(self, other: StoreSummary) -> None:
        """Count ``other``'s skipped entries as this pass's, its notes first."""
        self.skipped += other.skipped
        self.notes = (other.notes + self.notes)[:20]
        for why, count in other.reasons.items():
            self.reasons[why] = self.reasons.get(why, 0) + count

    def describe(self) -> str:
        """One line for the admin: the counts, and why entries were skipped, most first."""
        said = (
            f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.skipped} skipped"
        )
        if not self.reasons:
            return said
        ranked = sorted(self.reasons.items(), key=lambda item: -item[1])
        shown = "; ".join(f"{why}: {count}" for why, count in ranked[:SKIP_REASONS_SHOWN])
        others = len(ranked) - SKIP_REASONS_SHOWN
        more = f"; {others} other reason{'s' if others > 1 else ''}" if others > 0 else ""
        return f"{said} ({shown}{more})"

    def as_dict(self) -> dict:
        return asdict(self)


SKIP_REASONS_SHOWN = 3


def store_entries(
    feed: Feed,
    entries: Sequence[CleanEntry],
    *,
    rules: RuleSet,
    now: datetime,
    archive_before: datetime | None = None,
) -> StoreSummary:
    """Insert new entries and update changed ones for ``feed``; flush, do not commit.

    A new entry published before ``archive_before`` is the source's archive, skipped: a
    feed's first fetch must not flood the site with years of old posts, nor its later
    fetches with the same posts, which the document still lists.
    """
    summary = StoreSummary()
    fresh = _first_of_each(entries, summary)
    fresh = _drop_buried(feed, fresh, summary)
    existing = _existing_by_guid(feed, [e.guid for e in fresh])
    to_insert = []
    for entry in fresh:
        article = existing.get(entry.guid)
        if article is not None:
            _update(article, entry, summary)
            continue
        if is_archive(entry, archive_before):
            summary.skip(f"published before {archive_before:%d %B %Y}: {entry.url}")
            continue
        refusal = rules.verdict(entry.title, entry.summary)
        if refusal:
            summary.skip(f"{refusal}: {entry.url}")
            continue
        to_insert.append(entry)
    _insert(feed, to_insert, summary, now)
    return summary


def is_archive(entry: CleanEntry, archive_before: datetime | None) -> bool:
    """Tell whether a new entry is the source's archive, which is never stored."""
    return archive_before is not None and entry.published_at < archive_before


def _first_of_each(entries: Iterable[CleanEntry], summary: StoreSummary) -> list[CleanEntry]:
    """Keep the first entry for each GUID and each URL within one document."""
    seen_guids: set[str] = set()
    seen_urls: set[str] = set()
    kept = []
    for entry in entries:
        if entry.guid in seen_guids or entry.url in seen_urls:
            summary.skip(f"duplicate entry in the document: {entry.url}")
            continue
        seen_guids.add(entry.guid)
        seen_urls.add(entry.url)
        kept.append(entry)
    return kept


# Built once with bound parameters: building a query around a hundred literal values
# costs more than SQLite takes to run it.
_BURIED = sa.select(Tombstone.guid, Tombstone.url, Tombstone.feed_id).where(
    sa.or_(
        sa.and_(
            Tombstone.feed_id == sa.bindparam("feed_id"),
            Tombstone.guid.in_(sa.bindparam("guids", expanding=True)),
        ),
        Tombstone.url.in_(sa.bindparam("urls", expanding=True)),
    )
)
_EXISTING = sa.select(Article).where(
    Article.feed_id == sa.bindparam("feed_id"),
    Article.guid.in_(sa.bindparam("guids", expanding=True)),
)


def _drop_buried(feed: Feed, entries: list[CleanEntry], summary: StoreSummary) -> list[CleanEntry]:
    """Skip entries an admin rejected or deleted before."""
    buried = buried_guids(feed.id, entries)
    kept = []
    for entry in entries:
        if entry.guid in buried:
            summary.skip(f"{BURIED}: {entry.url}")
        else:
            kept.append(entry)
    return kept


BURIED = "removed by an admin before"


def buried_guids(feed_id: int | None, entries: Sequence[CleanEntry]) -> set[str]:
    """The GUIDs of the entries an admin rejected or deleted before: by GUID on the feed
    ``feed_id`` (None for a feed not added yet), or by URL on any feed."""
    guids, urls = set(), set()
    for part in in_batches(entries):
        values = {
            "feed_id": feed_id,
            "guids": [e.guid for e in part],
            "urls": [e.url for e in part],
        }
        for guid, url, buried_feed_id in db.session.execute(_BURIED, values):
            if feed_id is not None and buried_feed_id == feed_id:
                guids.add(guid)
            urls.add(url)
    return {e.guid for e in entries if e.guid in guids or e.url in urls}


def _existing_by_guid(feed: Feed, guids: Sequence[str]) -> dict[str, Article]:
    found: dict[str, Article] = {}
    for part in in_batches(list(guids)):
        rows = db.session.scalars(_EXISTING, {"feed_id": feed.id, "guids": list(part)})
        found.update((a.guid, a) for a in rows)
    return found


def _update(article: Article, entry: CleanEntry, summary: StoreSummary) -> None:
    changed = False
    for name in REFRESHED_FIELDS:
        if article.is_edited(name):
            continue
        value = getattr(entry, name)
        if name == "summary" and _kept_as_cut(article.summary, value):
            continue
        if getattr(article, name) != value:
            setattr(article, name, value)
            changed = True
    if changed:
        summary.updated += 1
    else:
        summary.unchanged += 1


def _kept_as_cut(stored: str | None, fresh: str) -> bool:
    """Tell whether ``stored`` is ``fresh`` ended as a cut: the evidence that a source cuts
    its excerpts at one length is in the whole document (``end_source_cuts``), and a later
    one listing fewer of them must not take the "…" back, nor put it back the fetch after."""
    return ends_mid_sentence(fresh) and stored == as_cut(fresh)


@functools.cache
def _insert_statement(dialect: str) -> sa.Insert:
    """The multi-row insert for ``dialect``, built once (it holds no values)."""
    module = postgresql if dialect == "postgresql" else sqlite
    # No conflict target: any unique constraint ((feed, guid) or url) makes the row a no-op.
    # The Core table, not the ORM entity: a plain multi-row INSERT, no ORM bookkeeping.
    table = Article.__table__
    return module.insert(table).on_conflict_do_nothing().returning(table.c.id, table.c.guid)


def _insert(feed: Feed, entries: list[CleanEntry], summary: StoreSummary, now: datetime) -> None:
    if not entries:
        return
    rows = _rows(feed, entries, now)
    statement = _insert_statement(db.session.get_bind().dialect.name)
    inserted: dict[str, int] = {}
    for part in in_batches(rows):
        result = db.session.connection().execute(statement, list(part))
        inserted.update((guid, article_id) for article_id, guid in result)
    summary.new += len(inserted)
    conflicting = [entry for entry in entries if entry.guid not in inserted]
    adopted = _adopt_orphans(feed, conflicting, summary, now) if conflicting else set()
    if inserted or adopted:
        # Added in SQL, not in Python: two stores of one feed at once (a command-line
        # refresh beside a worker's) each add their own, and neither loses the other's.
        feed.article_count = sa.func.coalesce(Feed.article_count, 0) + len(inserted) + len(adopted)
    for entry in conflicting:
        if entry.guid not in adopted:
            summary.skip(f"{ELSEWHERE}: {entry.url}")
    if feed.topic_id is not None and inserted:
        db.session.execute(
            sa.insert(article_topics),
            [{"article_id": i, "topic_id": feed.topic_id} for i in inserted.values()],
        )


ELSEWHERE = "already on the site from another source"


def urls_stored_elsewhere(entries: Sequence[CleanEntry]) -> set[str]:
    """The canonical URLs of ``entries`` another feed's articles have already: a feed not
    added yet would skip them (a removed source's articles are taken back, not skipped)."""
    found: set[str] = set()
    for part in in_batches([e.url for e in entries]):
        found.update(
            db.session.scalars(
                sa.select(Article.url).where(Article.url.in_(part), Article.feed_id.is_not(None))
            )
        )
    return found


def _adopt_orphans(
    feed: Feed, entries: Sequence[CleanEntry], summary: StoreSummary, now: datetime
) -> set[str]:
    """Take back the articles of a removed source that ``feed`` lists again; their GUIDs.

    A feed deleted with its articles kept and then added again would otherwise find each
    entry "already on the site" and never update the articles, which stayed marked as
    from a removed source.
    """
    by_url = {entry.url: entry for entry in entries}
    orphans = db.session.scalars(
        sa.select(Article).where(Article.feed_id.is_(None), Article.url.in_(list(by_url)))
    ).all()
    adopted = set()
    for article in orphans:
        entry = by_url[article.url]
        article.feed_id, article.guid = feed.id, entry.guid
        # Fetched by this feed now: its archive cutoff counts from its own first fetch.
        article.fetched_at = now
        article.source_removed, article.source_name = False, feed.name[:300]
        topic = feed.topic
        if topic is not None and not article.is_edited("topics") and topic not in article.topics:
            article.topics.append(topic)
        _update(article, entry, summary)
        adopted.add(entry.guid)
    return adopted


def _rows(feed: Feed, entries: Sequence[CleanEntry], now: datetime) -> list[dict]:
    """The INSERT parameters: what comes from the feed is worked out once, not per row."""
    shared = {
        "feed_id": feed.id,
        "source_name": feed.name[:300],
        "source_removed": False,
        "fetched_at": now,
        "status": "published" if feed.auto_publish else "pending",
        "featured": False,
        "edited_fields": (),  # stored as the JSON list []; a tuple, as rows share it
        "comment_count": 0,
        "like_count": 0,
    }
    return [
        {
            **shared,
            "guid": entry.guid,
            "url": entry.url,
            "title": entry.title,
            "summary": entry.summary,
            "content": entry.content,
            "body_text": entry.body_text,
            "author": entry.author,
            "published_at": entry.published_at,
            "updated_at": entry.updated_at,
            "image_url": entry.image_url,
            "image_credit": entry.image_credit,
            "kind": entry.kind,
            "video_id": entry.video_id,
            "video_url": entry.video_url,
            "audio_url": entry.audio_url,
            "reviewed_by": entry.reviewed_by,
        }
        for entry in entries
    ]
