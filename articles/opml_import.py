"""OPML import: a feed for each new address a file lists, each audited as it is added."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from articles import curation, fetch, opml
from articles.models import Feed
from club import audit
from club.extensions import db, in_batches

# A 1 MB file can list some 20,000 new feeds: added in one web request, they outlast the
# web worker's timeout and bury the audit log, with no way to undo them but one at a
# time. The command line, which has no timeout, adds any number.
MAX_NEW_FEEDS_PER_UPLOAD = 1000
TOO_MANY_NEW_FEEDS = (
    f"Nothing imported: the file lists more than {MAX_NEW_FEEDS_PER_UPLOAD:,} feeds the site "
    f"does not have yet, and one upload adds at most {MAX_NEW_FEEDS_PER_UPLOAD:,}. Split it "
    "into smaller files, or import it on the server with: flask --app club feeds "
    "import-opml FILE"
)


def new_feed_count(outlines: list[opml.Outline]) -> int:
    """How many feeds importing ``outlines`` would add: the addresses (each spelt one way)
    the site lacks, of those the import accepts."""
    addresses = set()
    for outline in outlines:
        try:
            fetch.check_destination(outline.url, current_app.config)
            addresses.add(curation.valid_feed_address(outline.url))
        except (ValueError, fetch.FetchError):  # refused as the import reaches it
            continue
    known = 0
    for part in in_batches(sorted(addresses)):
        known += db.session.scalar(sa.select(sa.func.count(Feed.id)).where(Feed.url.in_(part)))
    return len(addresses) - known


@dataclass
class ImportResult:
    """What an OPML import did with each listed feed."""

    listed: int
    added: int = 0
    known: int = 0
    repeated: int = 0
    refused: int = 0
    internal: int = 0

    def describe(self) -> str:
        reasons = [
            f"{n} {why}"
            for n, why in (
                (self.known, "already on the site"),
                (self.repeated, "listed again in the file"),
                (self.refused, "not a usable address"),
                (self.internal, "refused: an internal address, an odd port or a password"),
            )
            if n
        ]
        said = f"Imported {self.added} new feed(s) of {self.listed} listed"
        return f"{said} ({', '.join(reasons)})" if reasons else said


def import_outlines(
    outlines: list[opml.Outline], actor=None, *, keep_settings: bool = False
) -> ImportResult:
    """Create a feed for each outline whose address is new, each audited as ``feed.add``.

    The site's own settings in the file apply only when ``keep_settings``: otherwise every
    feed starts with the defaults, its articles waiting for review.
    """
    result = ImportResult(listed=len(outlines))
    added: set[int] = set()
    for outline in outlines:
        try:
            with db.session.begin_nested():
                feed = curation.create_feed(
                    outline.url,
                    title=outline.title,
                    site_url=outline.site_url,
                    topic_name=outline.category,
                    **(outline_settings(outline.settings) if keep_settings else {}),
                )
                # Refused as the add-feed form refuses it, not saved to fail every fetch;
                # as written, since the feed's address is kept without a user name or
                # password (one the file gives would be dropped without a word).
                fetch.check_destination(outline.url, current_app.config)
                if keep_settings and outline.settings.paused:
                    curation.set_paused(feed, True)
        except curation.FeedExists as error:
            if error.feed is not None and error.feed.id in added:
                result.repeated += 1  # the same feed twice in one file (any spelling)
            else:
                result.known += 1
            continue
        except fetch.DestinationNotAllowed:
            result.internal += 1
            continue
        except (ValueError, fetch.FetchError):  # not http(s), or not an address at all
            result.refused += 1
            continue
        audit.record(actor, "feed.add", feed, f"from OPML: {curation.added_feed_detail(feed)}")
        added.add(feed.id)
        result.added += 1
    return result


def outline_settings(settings: opml.Settings) -> dict:
    """``create_feed``'s keywords for the settings an outline gives (the rest default)."""
    given = {
        "auto_publish": settings.auto_publish,
        "full_content": settings.full_content,
        "interval_minutes": settings.interval_minutes,
    }
    return {name: value for name, value in given.items() if value is not None}
