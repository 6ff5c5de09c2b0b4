"""Discover: turn what an admin typed (a feed URL or a site URL) into a feed and a preview.

A site URL is fetched once and its ``<link rel="alternate">`` feeds are tried in order;
every request goes through ``articles.fetch`` and its guards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from articles import fetch
from articles.clean import CleanEntry, SkipEntry, clean_entry, end_source_cuts
from articles.parse import ParseError, parse_feed
from articles.text import plain_text
from club.clock import utcnow

FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+xml"}
)
PREVIEW_ENTRIES = 5
MAX_CANDIDATES = 3


class DiscoveryError(Exception):
    """Nothing at the address could be read as a feed; the message says why."""


@dataclass
class Discovery:
    """The feed found, its title and site, and the first entries as they would be stored."""

    feed_url: str
    title: str
    site_url: str
    entries: list[CleanEntry] = field(default_factory=list)
    warning: str | None = None
    # Where the document was fetched from, past any redirect: a feed the site already
    # has there is this one, whatever address is kept.
    fetched_from: str = ""
    # The other feeds the site's page advertises, which the admin may have meant.
    also_advertised: list[str] = field(default_factory=list)


class _AlternateLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "link":
            return
        values = {k.lower(): (v or "") for k, v in attrs}
        rels = values.get("rel", "").lower().split()
        if (
            "alternate" in rels
            and values.get("type", "").lower() in FEED_TYPES
            and values.get("href")
        ):
            self.links.append(values["href"])


def alternate_links(page: bytes, base_url: str) -> list[str]:
    """Return the feed URLs a web page advertises with ``<link rel="alternate">``."""
    parser = _AlternateLinks()
    parser.feed(page[:512_000].decode("utf-8", errors="replace"))
    return [urljoin(base_url, href) for href in parser.links][:MAX_CANDIDATES]


def discover(
    url: str,
    *,
    allow_private: bool = False,
    trusted: frozenset[str] = frozenset(),
    known: Callable[[str], bool] = lambda url: False,
) -> Discovery:
    """Fetch ``url``; if it is a web page, follow its advertised feed. Preview the entries.

    Of the feeds a page advertises, those ``known`` (already on the site) are tried last:
    a site's second feed is what an admin who typed its address may be after.
    """
    try:
        response = fetch.fetch_url(url.strip(), allow_private=allow_private, trusted=trusted)
    except fetch.FetchError as error:
        raise DiscoveryError(str(error)) from None
    try:
        return _preview(url.strip(), response)
    except ParseError as error:
        first_problem = str(error)
    candidates = alternate_links(response.body, response.url)
    candidates.sort(key=known)  # stable: the page's order among new feeds, then known ones
    problems = []
    for candidate in candidates:
        try:
            found = fetch.fetch_url(candidate, allow_private=allow_private, trusted=trusted)
            discovery = _preview(candidate, found)
        except (fetch.FetchError, ParseError) as error:
            problems.append(f"{candidate} ({error})")
            continue
        discovery.also_advertised = [c for c in candidates if c != candidate]
        return discovery
    if problems:
        raise DiscoveryError(
            f"{first_problem}, and the feed the page advertises could not be read: "
            + "; ".join(problems)
        )
    raise DiscoveryError(f"{first_problem}, and the page advertises no feed")


def _preview(requested: str, response: fetch.FetchResult) -> Discovery:
    """Parse the feed fetched from ``requested``; raise ``ParseError`` if it is none."""
    parsed = parse_feed(response.body, response.content_type)
    now = utcnow()
    entries = []
    for entry in parsed.entries[: PREVIEW_ENTRIES * 2]:
        try:
            # Relative links lead on from the document's own address, wherever that is.
            entries.append(clean_entry(entry, response.url, now))
        except SkipEntry:
            continue
    end_source_cuts(entries)
    return Discovery(
        feed_url=lasting_address(requested, response),
        title=plain_text(parsed.title, 300),
        site_url=parsed.site_url if parsed.site_url.startswith(("http://", "https://")) else "",
        entries=entries[:PREVIEW_ENTRIES],
        warning=parsed.warning,
        fetched_from=response.url,
    )


def lasting_address(requested: str, response: fetch.FetchResult) -> str:
    """The address to keep for a feed fetched from ``requested``: where permanent
    redirects led, or the same address over https however it got there, else
    ``requested`` itself. A temporary redirect's target (a CDN's signed link, a
    tracker's hop) may be gone tomorrow; refreshes follow it each time.
    """
    if response.moved_to:
        return response.moved_to
    return response.url if is_https_of(requested, response.url) else requested


def is_https_of(plain: str, secure: str) -> bool:
    """Tell whether ``secure`` is ``plain``'s http address over https (any port): kept,
    every refresh starts on TLS, where no one on the way can send it elsewhere."""
    old, new = urlsplit(plain), urlsplit(secure)
    return (
        (old.scheme, new.scheme) == ("http", "https")
        and old.hostname == new.hostname
        and (old.path or "/", old.query) == (new.path or "/", new.query)
    )
