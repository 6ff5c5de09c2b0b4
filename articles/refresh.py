"""Refresh: run fetch → parse → clean → store for one feed, and decide when to go next.

``refresh_feed(feed_id)`` is the plain function the worker's job calls. The network part
runs outside any transaction; parse, clean and store run in one transaction that commits
once, so a failure leaves nothing half-written. Each step raises its own named error; the
error is recorded on the feed, which backs off exponentially (up to a day) instead of
giving up. At most two fetches per host run at once across every worker (a lease row).
"""

from __future__ import annotations

import itertools
import logging
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from articles import fetch
from articles.clean import CleanEntry, SkipEntry, clean_entry, end_source_cuts
from articles.curation import feed_address, feed_at, rules_for
from articles.models import MIN_INTERVAL_MINUTES, Article, Feed, FetchSlot
from articles.parse import ParseError, parse_feed
from articles.store import (
    BURIED,
    ELSEWHERE,
    StoreSummary,
    buried_guids,
    is_archive,
    store_entries,
    urls_stored_elsewhere,
)
from articles.text import plain_text, strip_control
from articles.urls import safe_url
from club import audit
from club.clock import utcnow
from club.extensions import db

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=24)
MAX_ADAPTIVE = timedelta(hours=12)
SLOTS_PER_HOST = 2
SLOT_LEASE = timedelta(seconds=fetch.TOTAL_DEADLINE + 40)
BUSY_HOST_DELAY = timedelta(minutes=1)
HOST_BUSY = "two fetches to this host are running"
FAILING_AFTER = 3


@dataclass
class RefreshResult:
    """What one refresh did, for the job log, the CLI and the admin's flash message."""

    feed_id: int
    outcome: str  # stored | not_modified | error | paused | not_due | missing | busy
    summary: StoreSummary = field(default_factory=StoreSummary)
    error: str | None = None
    # A paused feed's forced refresh found its host busy: the periodic pass never takes a
    # paused feed, so only trying again fetches it.
    try_again: bool = False

    def describe(self) -> str:
        if self.outcome == "stored":
            return self.summary.describe()
        if self.outcome == "not_modified":
            return "not modified since the last fetch"
        return self.error or self.outcome


def due_feed_ids(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Return the ids of feeds whose next fetch time has come, most overdue first."""
    now = now or utcnow()
    query = (
        sa.select(Feed.id)
        .where(Feed.status != "paused")
        .where(sa.or_(Feed.next_fetch_at.is_(None), Feed.next_fetch_at <= now))
        .order_by(Feed.next_fetch_at.asc().nulls_first(), Feed.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def refresh_feed(feed_id: int, *, force: bool = False) -> RefreshResult:
    """Fetch, parse, clean and store one feed; record the outcome and the next fetch time.

    Unless ``force``d (an admin's "Refresh now", the command line), a feed that is paused
    or not due yet is left alone: the periodic pass may queue it from a list read just
    before another worker refreshed it.
    """
    feed = db.session.get(Feed, feed_id)
    if feed is None:
        return RefreshResult(feed_id, "missing", error="no such feed")
    if not force:
        if feed.is_paused:
            return RefreshResult(feed_id, "paused", error="the feed is paused")
        if feed.next_fetch_at is not None and feed.next_fetch_at > utcnow():
            return RefreshResult(feed_id, "not_due", error="the feed is not due yet")
    host = slot_host(feed.url)
    slot = acquire_slot(host)
    if slot is None:
        feed.next_fetch_at = utcnow() + BUSY_HOST_DELAY
        paused = feed.is_paused
        db.session.commit()
        return RefreshResult(feed_id, "busy", error=HOST_BUSY, try_again=paused)
    try:
        # The slot limits what the host sees: it is given back once the fetch is done,
        # not held through parse and store, which could outlast its lease.
        fetched = _fetch(feed)
    finally:
        release_slot(host, slot)
    if isinstance(fetched, RefreshResult):
        return fetched
    return _store(feed_id, fetched)


def _fetch(feed: Feed) -> fetch.FetchResult | RefreshResult:
    """Fetch the feed's document; a failure is recorded and returned as the result."""
    feed_id, url = feed.id, feed.url
    conditional = fetch.Conditional(feed.etag, feed.last_modified)
    db.session.commit()  # hold no transaction open across the network
    try:
        return fetch.fetch_url(
            url,
            conditional=conditional,
            **fetch.destinations_allowed(current_app.config),
        )
    except fetch.FetchError as error:
        return record_failure(feed_id, error)
    except Exception as error:  # recorded and backed off: never retried every minute
        log.exception("fetching feed %s failed", feed_id)
        return record_failure(feed_id, RuntimeError(f"could not fetch ({type(error).__name__})"))


def _store(feed_id: int, response: fetch.FetchResult) -> RefreshResult:
    """Parse, clean and store a fetched document in one transaction, and record it."""
    feed = db.session.get(Feed, feed_id)
    if feed is None:  # deleted by an admin while it was being fetched
        return RefreshResult(feed_id, "missing", error="no such feed")
    if response.not_modified:
        follow_move(feed, response.moved_to)
        record_success(feed, response, None)
        db.session.commit()
        return RefreshResult(feed_id, "not_modified")
    try:
        summary = ingest_document(
            feed,
            response.body,
            content_type=response.content_type,
            archive_before=archive_start(feed),
            document_url=response.url,
        )
    except ParseError as error:
        db.session.rollback()
        return record_failure(feed_id, error)
    except Exception as error:  # one bad feed must never take the worker down
        db.session.rollback()
        log.exception("storing feed %s failed", feed_id)
        problem = RuntimeError(f"could not store the entries ({type(error).__name__})")
        return record_failure(feed_id, problem)
    follow_move(feed, response.moved_to)
    record_success(feed, response, summary)
    db.session.commit()
    return RefreshResult(feed_id, "stored", summary=summary)


MOVE_SHOWN = 200  # characters of a new address a warning shows (it holds 500 in all)


def follow_move(feed: Feed, moved_to: str | None) -> None:
    """Fetch the feed from its new address from now on, if it moved permanently.

    Called only once the new address has served the feed (a 301 to a parked page or to
    an error is never followed), and every hop was permanent: a 302 is a detour. A move
    not taken (another of the site's feeds is already there: two feeds would be one; it
    came over plain http; the address is too long to keep) is put in the feed's warning,
    so the admin can check it and edit the address by hand.
    """
    if moved_to is None:
        return
    address = feed_address(moved_to)
    if address == feed.url:
        return
    refusal = _refused_move(feed, address)
    if refusal:
        shown = address if len(address) <= MOVE_SHOWN else address[: MOVE_SHOWN - 1] + "…"
        _warn(feed, f"the source moved this feed permanently to {shown}, {refusal}")
        return
    audit.record(None, "feed.moved", feed, detail=f"{feed.url} → {address}")
    feed.url = address


def _refused_move(feed: Feed, address: str) -> str | None:
    """Why the feed may not move to ``address``, or None if it may."""
    if not is_trustworthy_move(feed.url, address):
        return "but over plain http anyone on the way could have said so: not followed"
    if len(address) > Feed.url.type.length:
        # PostgreSQL would refuse the whole refresh: the old one, redirected, still serves.
        return "an address too long to keep: not followed"
    other = feed_at(address)
    if other is not None and other.id != feed.id:
        return f"which is already the site's feed {other.name}"
    return None


def _warn(feed: Feed, warning: str) -> None:
    """Add ``warning`` to the feed's, once: a 304 keeps the last fetch's warning."""
    if warning not in (feed.parse_warning or ""):
        feed.parse_warning = "; ".join(filter(None, (feed.parse_warning, warning)))[:500]


def is_trustworthy_move(old: str, new: str) -> bool:
    """Tell whether a permanent redirect from ``old`` may change a feed's address to ``new``.

    Over https the source itself sent every hop (the fetcher refuses a step down to
    http). Over plain http anyone on the way could have sent the 301, and a feed moved
    for good would stay theirs after they left: only an upgrade to https on the same
    host, which no one on the way can serve, is taken.
    """
    if old.startswith("https://"):
        return True
    return new.startswith("https://") and _site_host(old) == _site_host(new)


def _site_host(url: str) -> str:
    return slot_host(url).removeprefix("www.")


def archive_start(feed: Feed | None) -> datetime:
    """Entries published this long before the feed's first stored fetch are its archive.

    Applied on every fetch, since the document lists the archive every time, and counted
    from the first fetch that stored anything (until one has, from now): not from the day
    the feed was added, which may be months before it is first fetched (imported paused),
    nor from each fetch, which would drop what a feed published during a long outage.
    """
    start = None
    if feed is not None:  # a feed not added yet is first fetched now
        first_stored = sa.select(sa.func.min(Article.fetched_at)).where(Article.feed_id == feed.id)
        start = db.session.scalar(first_stored)
    max_age = timedelta(days=current_app.config["FEEDS_FIRST_FETCH_MAX_AGE_DAYS"])
    return (start or utcnow()) - max_age


def why_not_imported(entries: Sequence[CleanEntry]) -> dict[str, str]:
    """Say, by GUID, why the first fetch of a feed not added yet would leave entries out.

    The checks ``store_entries`` makes of a new entry, in its order: what an admin removed
    before, the source's archive, the keyword rules (only the global ones apply yet), and
    a story another feed has stored already.
    """
    buried = buried_guids(None, entries)
    elsewhere = urls_stored_elsewhere(entries)
    archive_before, rules = archive_start(None), rules_for(None)
    days = current_app.config["FEEDS_FIRST_FETCH_MAX_AGE_DAYS"]
    reasons = {}
    for entry in entries:
        if entry.guid in buried:
            reason = BURIED
        elif is_archive(entry, archive_before):
            reason = f"older than {days} days"
        else:
            reason = rules.verdict(entry.title, entry.summary)
            if not reason and entry.url in elsewhere:
                reason = ELSEWHERE
        if reason:
            reasons[entry.guid] = f"{reason}: not imported"
    return reasons


def ingest_document(
    feed: Feed,
    data: bytes,
    *,
    content_type: str = "",
    archive_before: datetime | None = None,
    now: datetime | None = None,
    document_url: str | None = None,
) -> StoreSummary:
    """Run parse → clean → store on one document for ``feed``; flush, do not commit.

    ``document_url`` is where the document came from after any redirects (the feed's own
    address by default): its relative links are relative to that.
    """
    now = now or utcnow()
    document_url = document_url or feed.url
    parsed = parse_feed(data, content_type)
    feed.parse_warning = strip_control(parsed.warning)[:500] if parsed.warning else None
    if not feed.title and parsed.title:
        # Channel titles carry entities and markup too ("Tom&#8217;s <b>Blog</b>").
        feed.title = plain_text(parsed.title, 300)
    if not feed.site_url and parsed.site_url:
        # A relative channel link ("/") is the site at the document's own host.
        site_url = safe_url(parsed.site_url, document_url)
        feed.site_url = site_url if site_url and not site_url.startswith("mailto:") else None
    feed.source_ttl_minutes = parsed.ttl_minutes
    cleaned, skipped = [], StoreSummary()
    for position, entry in enumerate(parsed.entries):
        # An undated entry is dated the fetch: a microsecond apart, they keep the order
        # the feed lists them in (newest first), rather than the reverse, by id.
        when = now - timedelta(microseconds=position)
        try:
            cleaned.append(clean_entry(entry, document_url, when))
        except SkipEntry as reason:
            skipped.skip(str(reason))
    # Whether a source cuts its excerpts short shows across its entries, not in one.
    end_source_cuts(cleaned)
    # Nothing stored depends on the feed's own pending changes: one UPDATE at the end.
    with db.session.no_autoflush:
        summary = store_entries(
            feed, cleaned, rules=rules_for(feed), now=now, archive_before=archive_before
        )
    summary.add_skips(skipped)
    db.session.flush()
    return summary


def record_success(feed: Feed, response: fetch.FetchResult, summary: StoreSummary | None) -> None:
    """Note a good fetch: validators, health counters and the next fetch time."""
    now = utcnow()
    feed.etag = (response.etag or feed.etag or "")[:300] or None
    feed.last_modified = (response.last_modified or feed.last_modified or "")[:100] or None
    feed.last_fetched_at = feed.last_success_at = now
    # Added in SQL: the feed was loaded before the parse, and a refresh of it that ended
    # meanwhile (the command line's beside a worker's) has counted its own fetch.
    feed.fetch_count = sa.func.coalesce(Feed.fetch_count, 0) + 1
    feed.consecutive_errors = 0
    feed.last_error = None
    if summary is not None:
        # A 304 keeps the last one: the same document would be read the same way.
        feed.last_result = summary.describe()[: Feed.last_result.type.length]
    if feed.status == "failing":
        feed.status = "active"
    feed.next_fetch_at = now + next_interval(feed, response.max_age, recent_publish_times(feed))


def record_failure(feed_id: int, error: Exception) -> RefreshResult:
    """Record a failed refresh on the feed in its own transaction, and back off."""
    db.session.rollback()
    # Locked: the counts below are read and written back, and an overlapping refresh of
    # the feed must wait for them rather than write over them.
    feed = db.session.get(Feed, feed_id, with_for_update=True)
    message = strip_control(str(error))[:500] or type(error).__name__
    if feed is None:  # deleted by an admin while it was being fetched: nothing to record
        return RefreshResult(feed_id, "missing", error="no such feed")
    now = utcnow()
    feed.last_fetched_at = feed.last_error_at = now
    feed.fetch_count = (feed.fetch_count or 0) + 1
    feed.error_count = (feed.error_count or 0) + 1
    feed.consecutive_errors = (feed.consecutive_errors or 0) + 1
    feed.last_error = message
    if getattr(error, "gone", False):
        feed.status = "paused"
        feed.last_error = f"{message}; the feed was paused"
    elif feed.consecutive_errors >= FAILING_AFTER and feed.status != "paused":
        feed.status = "failing"
    feed.next_fetch_at = now + backoff(feed, getattr(error, "retry_after", None))
    db.session.commit()
    log.info("feed %s failed: %s", feed_id, message)
    return RefreshResult(feed_id, "error", error=message)


def backoff(feed: Feed, retry_after: int | None = None) -> timedelta:
    """Return the wait after an error: the interval doubled per error, at most a day.

    Never sooner than the feed's fetch would have come anyway (its ``ttl``, a slow
    publisher's stretched interval): a source that answers "slow down" must not be asked
    more often for it.
    """
    exponent = min(max(feed.consecutive_errors - 1, 0), 16)
    wait = max(feed.interval * (2**exponent), next_interval(feed, None, recent_publish_times(feed)))
    if retry_after:
        wait = max(wait, timedelta(seconds=retry_after))
    return min(wait, MAX_BACKOFF)


def reschedule(feed: Feed) -> None:
    """After an admin changes the interval: the next fetch is one new interval after the last.

    A failing feed keeps its back-off, and a feed never fetched is due already.
    """
    if feed.last_fetched_at is None or feed.consecutive_errors or feed.is_paused:
        return
    wait = next_interval(feed, None, recent_publish_times(feed))
    feed.next_fetch_at = max(feed.last_fetched_at + wait, utcnow())


def next_interval(feed: Feed, max_age: int | None, publish_times: list[datetime]) -> timedelta:
    """Return the wait before the next fetch: the admin's interval, stretched for slow
    publishers and for sources that ask (RSS ``ttl``, ``Cache-Control: max-age``)."""
    wait = max(feed.interval, timedelta(minutes=MIN_INTERVAL_MINUTES))
    wait = max(wait, adaptive_interval(publish_times))
    if feed.source_ttl_minutes:
        wait = max(wait, timedelta(minutes=feed.source_ttl_minutes))
    if max_age:
        wait = max(wait, timedelta(seconds=max_age))
    return min(wait, MAX_BACKOFF)


def adaptive_interval(publish_times: list[datetime]) -> timedelta:
    """Half the typical gap between recent entries: a weekly blog need not be polled hourly."""
    ordered = sorted(publish_times)
    if len(ordered) < 3:
        return timedelta(0)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(ordered)]
    return min(timedelta(seconds=statistics.median(gaps) / 2), MAX_ADAPTIVE)


def recent_publish_times(feed: Feed, count: int = 10) -> list[datetime]:
    query = (
        sa.select(Article.published_at)
        .where(Article.feed_id == feed.id)
        .order_by(Article.published_at.desc())
        .limit(count)
    )
    return list(db.session.scalars(query))


# --- Per-host fetch slots ----------------------------------------------------------------


def slot_host(url: str) -> str:
    """The host a fetch of ``url`` goes to, written one way ("Example.com." is "example.com")."""
    host = (urlsplit(url).hostname or "").rstrip(".")
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host.lower()


def acquire_slot(host: str) -> int | None:
    """Take one of the host's two fetch slots (a lease row shared by every worker)."""
    now = utcnow()
    db.session.execute(sa.delete(FetchSlot).where(FetchSlot.expires_at < now))
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    for slot in range(SLOTS_PER_HOST):
        statement = (
            dialect.insert(FetchSlot)
            .values(host=host[:255], slot=slot, expires_at=now + SLOT_LEASE)
            .on_conflict_do_nothing()
            .returning(FetchSlot.slot)
        )
        # RETURNING, not rowcount: psycopg reports -1 for INSERT … ON CONFLICT.
        if db.session.execute(statement).first() is not None:
            db.session.commit()
            return slot
    db.session.commit()
    return None


def release_slot(host: str, slot: int) -> None:
    """Give back the host's fetch slot ``slot``."""
    db.session.rollback()
    db.session.execute(
        sa.delete(FetchSlot).where(FetchSlot.host == host[:255], FetchSlot.slot == slot)
    )
    db.session.commit()
