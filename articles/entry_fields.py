"""What parse reads from one entry feedparser gives: its address, authors, pictures and
credits, the content that is the story, and plain text made HTML.

Each takes feedparser's values as they are (``get`` is the entry's plain ``dict.get``)
and returns plain strings and lists for ``articles.parse.ParsedEntry``.
"""

from __future__ import annotations

import html
import re
from typing import Any

from articles.urls import is_absolute_http, is_feed_proxy

PLAIN = "text/plain"
BLANK_LINE = re.compile(r"\n[ \t\r]*\n")
CHARACTER_REFERENCE = re.compile(
    r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});"
)
BLOCK_MARKUP = re.compile(
    r"<(?:p|div|br|li|ul|ol|dl|table|h[1-6]|pre|blockquote|figure|section|article|hr)\b",
    re.IGNORECASE,
)
LINE_BREAK = re.compile(r"[ \t\r]*\n[ \t\r]*")


def feed_author(meta: Any) -> str:
    """The name of an Atom feed's author, whom its entries without one inherit."""
    return _author_name(meta.get("author_detail") or {}, str(meta.get("author", "") or ""))


# A picture's address, by its ending: feedparser files an item's <image><url> as a bare
# "href", a key other elements could fill.
IMAGE_FILE = re.compile(r"\.(?:jpe?g|png|gif|webp|avif)(?:[?#]|$)", re.IGNORECASE)


def item_images(get: Any) -> list[dict[str, str]]:
    """An episode's <itunes:image>, and an RSS item's own <image><url> (Medscape's)."""
    found = []
    episode_art = str((get("image") or {}).get("href", "") or "").strip()
    if episode_art:
        found.append({"url": episode_art})
    picture = str(get("href", "") or "").strip()
    if IMAGE_FILE.search(picture):
        found.append({"url": picture})
    return found


# Click-counting proxies put their own redirect in <link> and the real address in an
# origLink: FeedBurner's (feedproxy.google.com, long gone), Pheedo's (click.phdo) and
# FeedBlitz's.
ORIGINAL_LINKS = ("feedburner_origlink", "pheedo_origlink", "feedblitz_origlink")


def enclosures(get: Any) -> list[Any]:
    """The entry's enclosures. FeedBurner put its redirect in the one enclosure too and the
    file in <feedburner:origEnclosureLink>: the file is what a player can load."""
    found = [link for link in get("links") or [] if link.get("rel") == "enclosure"]
    original = str(get("feedburner_origenclosurelink", "") or "").strip()
    if original and len(found) == 1:
        return [{**found[0], "href": original}]
    return found


def entry_link(get: Any) -> str:
    """The entry's address as the source gives it."""
    link = _original_link(get) or str(get("link", "") or "")
    if link and not _names_another_scheme(link):
        return link  # http(s), or relative: clean resolves it
    # With no text/html alternate, feedparser falls back to the entry's id ("urn:..."):
    # an alternate of another type (a PDF paper) is still the entry's own address.
    alternates = (
        str(found.get("href") or "")
        for found in get("links") or []
        if found.get("rel") == "alternate"
    )
    return next((href for href in alternates if href.startswith(("http://", "https://"))), link)


def _original_link(get: Any) -> str:
    """The http(s) address a proxy's link hides, or "" when the entry does not say."""
    # Only an absolute http(s) one: anything else cannot be better than the proxy's link.
    for key in ORIGINAL_LINKS:
        link = str(get(key, "") or "").strip()
        if is_absolute_http(link):
            return link
    # feedparser can lose the origLink (an "<item />" nested before it ends the entry
    # early). FeedBurner's redirects are dead; a GUID that is an address is the post's.
    guid = str(get("id", "") or "").strip()
    if is_feed_proxy(str(get("link", "") or "")) and is_absolute_http(guid):
        return guid
    return ""


# Media RSS credits in these roles name who made or published the item, not a picture.
NOT_IMAGE_CREDITS = frozenset({"author", "publisher", "distributor", "owner", "uploader"})


def image_credits(credits: list[Any]) -> list[str]:
    """The names Media RSS credits for the item's pictures (a credit with no role, as
    most are, or a photographer's): Vimeo credits its uploader as the "author"."""
    return [
        str(c.get("content", ""))
        for c in credits
        if c and str(c.get("role", "") or "").strip().lower() not in NOT_IMAGE_CREDITS
    ]


HTML_TYPES = ("text/html", "application/xhtml+xml")


def main_content(content: list[Any]) -> Any:
    """The one of an entry's contents that is the story: the longest HTML one, else the
    longest. Several are the same text told twice, not parts: a podcast's plain show
    notes (a second <itunes:summary> or <description>) beside its <content:encoded>."""
    html_ones = [c for c in content if c.get("type") in HTML_TYPES] or content
    return max(html_ones, key=lambda c: len(str(c.get("value", ""))), default=None)


def _names_another_scheme(link: str) -> bool:
    """Tell whether ``link`` is absolute in a scheme other than http(s) ("urn:", "tag:")."""
    scheme, colon, _ = link.partition(":")
    return bool(colon) and "/" not in scheme and scheme.lower() not in ("http", "https")


def entry_author(get: Any, feed_author: str, channel_names: frozenset[str] = frozenset()) -> str:
    """The entry's author's name (its co-authors' too), or ``feed_author`` when the entry
    names none. ``channel_names`` (case-folded) are the feed's own title and author: a
    podcast names its show beside the episode's host, and the show is no co-author."""
    # RFC 4287 4.2.1: an Atom entry without an author is by the feed's. Only Atom says so:
    # an RSS channel's "author" is its managingEditor, who need not have written a word.
    detail = get("author_detail")
    if not detail and not get("author"):
        return feed_author
    # feedparser's "author" is the last one named: co-authors are all in "authors".
    first_spelling: dict[str, str] = {}
    for name in filter(None, (_author_name(a, "") for a in get("authors") or [])):
        first_spelling.setdefault(name.casefold(), name)
    names = list(first_spelling.values())
    people = [name for name in names if name.casefold() not in channel_names]
    if len(people) > 1 and not _one_within_another(people):
        return ", ".join(people)
    if len(people) == 1 and len(names) > 1:
        return people[0]
    return _author_name(detail or {}, str(get("author", "") or ""))


def _one_within_another(names: list[str]) -> bool:
    """Tell whether a name is part of another ("Taverncast" and "Taverncast: its site"):
    one source named twice, not two people."""
    folded = [name.casefold() for name in names]
    return any(one in other for one in folded for other in folded if one != other)


def channel_names(meta: Any) -> frozenset[str]:
    """The feed's own title and author, case-folded: names its entries may repeat."""
    detail = meta.get("author_detail") or {}
    found = (meta.get("title"), meta.get("author"), detail.get("name"))
    return frozenset(str(name).strip().casefold() for name in found if name)


# Names feeds write when they have none (Blogger's "noreply@blogger.com (Unknown)").
NO_AUTHOR = frozenset({"unknown"})


# An author with an email address, as RSS feeds write <author> ("jane@example.org (Jane
# Doe)", "Jane Doe <jane@…>") and as feedparser spells an Atom author ("Jane (jane@…)").
# feedparser's own reading knows only two- to four-letter endings, so it cuts
# "desk@mayo.clinic (Jane Smith)" into the name "ic (Jane Smith": the raw text is read here.
_EMAIL = r"[^\s@()<>]+@[^\s()<>]+"
NAME_AND_ADDRESS = [
    re.compile(rf"\s*{_EMAIL}\s*\((?P<name>[^()]*)\)\s*"),
    re.compile(rf"(?P<name>.*?)\s*<{_EMAIL}>\s*"),
    re.compile(rf"(?P<name>.*?)\s*\({_EMAIL}\)\s*"),
    re.compile(rf"\s*(?P<name>){_EMAIL}\s*"),  # an address alone: no name
]
MAX_AUTHOR_READ = 500
# What the remains of an address look like: an "@", an angle bracket, a lone parenthesis.
# Only looked for beside an address: without one, "Jane (@jane)" is a byline as written.
NOT_A_NAME = re.compile(r"[@<>]|\([^)]*$|^[^(]*\)")
ADDRESS = re.compile(_EMAIL)


def _author_name(detail: Any, author: str) -> str:
    """The author's name, never the email address feeds often write beside it."""
    name = _name_beside_address(author) if "@" in author else None
    if name is None:
        name = str(detail.get("name", "") or "").strip()
        if not name and not detail.get("email"):
            name = author.strip()
    if _written_with_address(detail, author) and NOT_A_NAME.search(name):
        return ""  # better no name than a wrong one, or an address
    return "" if name.lower() in NO_AUTHOR else name


def _written_with_address(detail: Any, author: str) -> bool:
    """Tell whether the author came with an email address, which feedparser may have cut
    badly and left remains of in the name."""
    return bool(detail.get("email")) or ADDRESS.search(author[:MAX_AUTHOR_READ]) is not None


def _name_beside_address(author: str) -> str | None:
    """The name in an author written with an email address; None if not written so."""
    if len(author) > MAX_AUTHOR_READ:
        return None  # no one's name and address run this long; the patterns would crawl
    for pattern in NAME_AND_ADDRESS:
        match = pattern.fullmatch(author)
        if match:
            return match.group("name").strip()
    return None


def as_html(text: str, mime: str) -> str:
    """Entry text as HTML: plain text escaped, its line breaks kept where no markup sets any.

    YouTube's descriptions and many podcast notes are plain text in paragraphs; a browser
    would run them together into one block.
    """
    if mime == PLAIN:
        if "&" in text:
            # Escaped twice at the source ("v.1.0.0&nbsp;Fixed"): a reader wants the space.
            # Only whole references: html.unescape alone reads "this&copy" as "this©".
            text = CHARACTER_REFERENCE.sub(lambda ref: html.unescape(ref.group()), text)
        text = html.escape(text, quote=False)
    elif not BLANK_LINE.search(text) or BLOCK_MARKUP.search(text):
        # Blocks of its own, or no paragraphs to keep: as written. A link or a picture
        # among paragraphs a blank line apart still leaves the paragraphs to make.
        return text
    paragraphs = (part.strip() for part in BLANK_LINE.split(text))
    return "".join(f"<p>{LINE_BREAK.sub('<br>', part)}</p>" for part in paragraphs if part)
