"""Parse: fetched bytes → a plain list of entries, with feedparser under a budget.

feedparser only ever sees ``io.BytesIO``: given a ``str`` or ``bytes`` it may treat the
argument as a URL or a local path and fetch or read it itself. Before it sees anything,
the document is decoded as feedparser would decode it and the DOCTYPE and every entity
declaration are removed from the UTF-8 result, so no declared entity can expand (its
loose parser turns a 100 KB "quadratic blowup" into hundreds of MB). Its own
sanitiser and URI resolution are switched off: ``articles.clean`` sanitises with nh3,
which is both stricter and several times faster.
"""

from __future__ import annotations

import codecs
import functools
import io
import logging
import pickle
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax import SAXParseException

import feedparser
from feedparser.encodings import convert_to_utf8

from articles import dates, entry_fields

try:
    import resource
except ImportError:  # not on Windows
    resource = None

log = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
MAX_ENTRIES = 500
PARSE_SECONDS = 10.0
# The address space one parse may add. The hungriest 5 MB documents found (hundreds of
# thousands of empty entries, each a dict to feedparser) grow it by about 170 MB.
PARSE_MEMORY_BYTES = 256 * 1024 * 1024
# A child process parses off the main thread: time for it to start, on top of the budget.
CHILD_START_SECONDS = 5.0
PROJECT_ROOT = Path(__file__).resolve().parents[1]

# Quote-aware, so a ">" or "]" inside a quoted entity value cannot end the match early.
_QUOTED = rb'"[^"]*"|' + rb"'[^']*'"
DOCTYPE = re.compile(
    rb"<!DOCTYPE(?:[^\[>\"']|" + _QUOTED + rb")*"
    rb"(?:\[(?:[^\]\"']|" + _QUOTED + rb")*\])?\s*>",
    re.IGNORECASE,
)
DECLARATION = re.compile(rb"<!(?:ENTITY|ELEMENT|ATTLIST|NOTATION)(?:[^>\"']|" + _QUOTED + rb")*>")
ROOT_START = re.compile(rb"<[A-Za-z_]")
# White space, processing instructions and comments: what may come before the DOCTYPE.
PROLOG_MISC = re.compile(rb"(?:\s|<\?.*?\?>|<!--.*?-->)*", re.DOTALL)
# What ``to_utf8`` hands feedparser: it must not decode the UTF-8 a second way.
UTF8_XML = {"content-type": "application/xml; charset=utf-8"}
XML_ENCODING = re.compile(rb"^(\s*<\?xml[^>]*?)\sencoding=[\"'][^\"']*[\"']")
# An XML declaration at the very start (after a UTF-8 BOM, if any).
XML_DECLARATION = re.compile(rb"(?:\xef\xbb\xbf)?<\?xml\s[^>]{0,300}\?>")

# Registered handlers are tried before feedparser's own.
feedparser.registerDateHandler(dates.read_slash_date)
feedparser.registerDateHandler(dates.read_local_rfc822_date)


class ParseError(Exception):
    """The document is not a feed we can read; the message is safe to show to admins."""


@dataclass
class ParsedEntry:
    """One entry as the source wrote it (not yet cleaned)."""

    guid: str
    link: str
    title: str
    summary_html: str
    content_html: str
    author: str
    base: str
    published: datetime | None
    updated: datetime | None
    media: list[dict[str, Any]] = field(default_factory=list)
    thumbnails: list[dict[str, Any]] = field(default_factory=list)
    credits: list[str] = field(default_factory=list)
    enclosures: list[dict[str, Any]] = field(default_factory=list)
    youtube_id: str = ""
    reviewed_by: str = ""
    # The title is plain text (Atom type="text", or RSS text feedparser found no markup
    # in): a "<" in it may be a less-than sign, not the start of a tag.
    title_is_plain: bool = False
    # The feed element's xml:base, usually the feed document's own address: an Atom
    # <link href=""> resolves to it (WordPress writes those).
    feed_base: str = ""


@dataclass
class ParsedFeed:
    """A feed's metadata and its entries."""

    title: str
    site_url: str
    ttl_minutes: int | None
    entries: list[ParsedEntry]
    warning: str | None = None


def neutralise_dtd(data: bytes, content_type: str = "") -> bytes:
    """Return ``data`` as UTF-8 with no DOCTYPE or declaration in its prolog."""
    return remove_dtd(to_utf8(data, content_type)[0])


def to_utf8(data: bytes, content_type: str = "") -> tuple[bytes, str | None]:
    """Decode ``data`` as feedparser would and re-encode it as UTF-8; say what was odd.

    feedparser picks the character set from the BOM, the server's charset and the XML
    declaration, and decodes before it parses. Doing that first, with its own function,
    means the byte patterns in ``remove_dtd`` see the markup its parsers will see, in
    EBCDIC or UTF-7 too, where a "<!ENTITY" is not those bytes.
    """
    if _wide_codec(data) is not None:
        data = _as_utf8_if_wide(data)
        # The bytes are UTF-8 now: a charset the server declared no longer holds.
        content_type = content_type.split(";", 1)[0]
    data = _declaration_on_its_own_line(data)
    result: dict[str, Any] = {}
    content_type = _charset_from_the_document(content_type)
    headers = {"content-type": content_type} if content_type else {}
    data = convert_to_utf8(headers, data, result)
    return data, _describe(result["bozo_exception"]) if result.get("bozo") else None


def _charset_from_the_document(content_type: str) -> str:
    """``text/xml`` with no charset, as most servers send feeds, read as XML says to.

    RFC 3023 makes such a document US-ASCII whatever its XML declaration says; feedparser
    follows it, reads the UTF-8 anyway and calls the feed ill-formed for it. No feed
    reader or browser takes US-ASCII there: the declaration (or UTF-8) decides.
    """
    media, _, parameters = content_type.partition(";")
    media = media.strip().lower()
    xml_text = media == "text/xml" or (media.startswith("text/") and media.endswith("+xml"))
    if xml_text and "charset" not in parameters.lower():
        return "application/xml"
    return content_type


def _declaration_on_its_own_line(data: bytes) -> bytes:
    """End the XML declaration with a line break, where a minified document has none.

    feedparser looks for the declared encoding with ``^<\\?.*encoding=…``, which runs to
    the end of the first line and back: through the whole of a one-line document, on our
    decoding pass and again on its own. A line break is white space XML allows there.
    Reading the declaration's own encoding, not the last "encoding=" on a one-line
    document, is also what XML means.
    """
    declaration = XML_DECLARATION.match(data)
    if declaration is None or data[declaration.end() : declaration.end() + 1] == b"\n":
        return data
    return data[: declaration.end()] + b"\n" + data[declaration.end() :]


def remove_dtd(data: bytes) -> bytes:
    """Remove the DOCTYPE and entity declarations from UTF-8 ``data``'s prolog."""
    # The prolog ends at the root element as XML reads it (past comments and processing
    # instructions that may hold a "<a"), or at the first "<a" as feedparser's lenient
    # parser reads it, whichever is later.
    naive_root = ROOT_START.search(data)
    prolog_end = max(_prolog_end(data), naive_root.start() if naive_root else len(data))
    prolog = data[:prolog_end]
    if b"<!" not in prolog:
        return data
    prolog = DECLARATION.sub(b"", DOCTYPE.sub(b"", prolog))
    if re.search(rb"<!(?:DOCTYPE|ENTITY)", prolog, re.IGNORECASE):
        # An unterminated or mangled declaration: refuse rather than guess.
        raise ParseError("the document has a malformed DOCTYPE")
    return prolog + data[prolog_end:]


EMPTY_ITEM = re.compile(rb"<item\s*/>")


def without_empty_items(data: bytes) -> bytes:
    """Remove empty ``<item />`` elements, which hold nothing to read.

    Some feeds nest one inside each real item (PCMag's did): feedparser ends the entry
    there, so the rest of the item (its <feedburner:origLink>, the real address) lands
    on the channel, and the entry keeps a dead proxy link.
    """
    return EMPTY_ITEM.sub(b"", data)


def _prolog_end(data: bytes) -> int:
    """Where the root element starts, skipping what XML allows before it."""
    position = 0
    while True:
        position = PROLOG_MISC.match(data, position).end()
        doctype = DOCTYPE.match(data, position)
        if doctype is None:
            return position
        position = doctype.end()


def _as_utf8_if_wide(data: bytes) -> bytes:
    """Transcode UTF-16/32 to UTF-8, including the BOM-less kind feedparser misses."""
    codec = _wide_codec(data)
    if codec is None:
        return data
    text = data.decode(codec, errors="replace").lstrip("\ufeff")
    return XML_ENCODING.sub(rb"\1", text.encode("utf-8"))


def _wide_codec(data: bytes) -> str | None:
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if data[:2] == b"\x00<":
        return "utf-16-be"
    if data[:2] == b"<\x00":
        return "utf-16-le"
    return None


RETRY_EXPIRY = 0.05


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Abort the block after ``seconds`` (in the main thread, where RQ runs jobs).

    RQ's own job timeout also uses SIGALRM: an earlier outer deadline is left in charge,
    and a later one is re-armed afterwards with the time it has left.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        # Without SIGALRM the size cap and the removed entity declarations bound the work.
        yield
        return
    outer_delay, outer_interval = signal.getitimer(signal.ITIMER_REAL)
    if outer_delay and outer_delay <= seconds:
        yield
        return

    finished = False

    def expire(signum, frame):
        if not finished:
            raise ParseError("the feed took too long to parse")

    previous = signal.signal(signal.SIGALRM, expire)
    started = time.monotonic()
    # Again every RETRY_EXPIRY seconds after the first: a signal that lands while Python
    # runs a finalizer (a weak reference's callback in a collection) has its exception
    # printed and dropped, and the parse would then run on without any limit.
    signal.setitimer(signal.ITIMER_REAL, seconds, RETRY_EXPIRY)
    try:
        yield
    finally:
        finished = True
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_delay:
            left = max(outer_delay - (time.monotonic() - started), 0.001)
            signal.setitimer(signal.ITIMER_REAL, left, outer_interval)


@contextmanager
def memory_budget(limit: int) -> Iterator[None]:
    """Let the block grow the process's address space by at most ``limit`` bytes.

    The limit (``RLIMIT_AS``) is the whole process's, so it is only set in the main
    thread, where RQ runs jobs and nothing else runs meanwhile (``parse_feed`` moves any
    other thread's parse to a child process); a tighter limit already in force is left
    alone. Where Linux's ``/proc`` is missing, the size cap and the removed entity
    declarations bound the work.
    """
    in_use = _address_space() if threading.current_thread() is threading.main_thread() else None
    if in_use is None:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    ceiling = in_use + limit
    if hard != resource.RLIM_INFINITY:
        ceiling = min(ceiling, hard)
    if soft != resource.RLIM_INFINITY and soft <= ceiling:
        yield
        return
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))
    exhausted = False
    try:
        yield
    except MemoryError:
        exhausted = True  # raised below, once the limit is lifted and memory freed
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    if exhausted:
        raise ParseError("the feed needed too much memory to parse")


def _address_space() -> int | None:
    if resource is None:
        return None
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return None


def parse_feed(
    data: bytes,
    content_type: str = "",
    seconds: float = PARSE_SECONDS,
    memory: int = PARSE_MEMORY_BYTES,
) -> ParsedFeed:
    """Parse feed bytes into entries; raise ``ParseError`` if it is not a usable feed.

    The time and memory budgets need a process's main thread (a signal, a process-wide
    limit). RQ runs jobs there; anywhere else (a web request previewing a feed, a job run
    inline) the parse happens in a child process, where they apply.
    """
    if threading.current_thread() is threading.main_thread():
        return _parse_here(data, content_type, seconds, memory)
    return _parse_in_child(data, content_type, seconds, memory)


def _parse_in_child(data: bytes, content_type: str, seconds: float, memory: int) -> ParsedFeed:
    request = pickle.dumps((data, content_type, seconds, memory))
    try:
        child = subprocess.run(
            [sys.executable, "-c", "from articles.parse import serve_child; serve_child()"],
            input=request,
            capture_output=True,
            timeout=seconds + CHILD_START_SECONDS,
            cwd=PROJECT_ROOT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ParseError("the feed took too long to parse") from None
    if child.returncode != 0 or not child.stdout:
        log.error("feed parser process failed (%s): %s", child.returncode, child.stderr[-2000:])
        raise ParseError("the feed could not be parsed (the parser stopped)")
    outcome = pickle.loads(child.stdout)  # noqa: S301 (our own child's answer)
    if isinstance(outcome, ParseError):
        raise outcome
    return outcome


def serve_child() -> None:
    """Parse the request on stdin in this process's main thread; answer on stdout."""
    data, content_type, seconds, memory = pickle.load(sys.stdin.buffer)  # noqa: S301
    try:
        outcome: ParsedFeed | ParseError = _parse_here(data, content_type, seconds, memory)
    except ParseError as error:
        outcome = error
    sys.stdout.buffer.write(pickle.dumps(outcome))


def _parse_here(data: bytes, content_type: str, seconds: float, memory: int) -> ParsedFeed:
    if not data or not data.strip():
        raise ParseError("the source sent an empty document")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise ParseError("feed too large to parse")
    data, encoding_warning = to_utf8(data, content_type)
    data = without_empty_items(remove_dtd(data))
    with time_budget(seconds), memory_budget(memory):
        parsed = feedparser.parse(
            io.BytesIO(data),
            response_headers=UTF8_XML,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    if not parsed.get("version") and not parsed.entries:
        raise ParseError(_not_a_feed_reason(parsed, data))
    problem = _describe(parsed.get("bozo_exception")) if parsed.get("bozo") else encoding_warning
    if _nothing_readable(parsed):
        # Broken before even its title (a cut-off download, garbage): a failed fetch for
        # the feed's health and back-off, not a success that found nothing new. A feed
        # with no entries yet and a small fault ("Diet & Health") is read as it was.
        raise ParseError(f"ill-formed feed with nothing to read: {problem}")
    warning = f"ill-formed feed: {problem}" if problem else None
    meta = parsed.get("feed", {})
    feed_author = (
        entry_fields.feed_author(meta) if str(parsed.get("version", "")).startswith("atom") else ""
    )
    channel = entry_fields.channel_names(meta)
    entries = [_entry(e, feed_author, channel) for e in parsed.entries[:MAX_ENTRIES]]
    if len(parsed.entries) > MAX_ENTRIES:
        warning = f"only the first {MAX_ENTRIES} entries were read"
    feed_base = str((meta.get("title_detail") or {}).get("base") or "")
    for entry in entries:
        entry.feed_base = feed_base
    return ParsedFeed(
        title=str(meta.get("title", "") or ""),
        site_url=str(meta.get("link", "") or ""),
        ttl_minutes=_ttl_minutes(meta.get("ttl")),
        entries=entries,
        warning=warning,
    )


def _nothing_readable(parsed: Any) -> bool:
    """Tell whether an ill-formed document gave neither an entry nor its channel's title."""
    ill_formed = isinstance(parsed.get("bozo_exception"), SAXParseException)
    return ill_formed and not parsed.entries and not parsed.get("feed", {}).get("title")


def _not_a_feed_reason(parsed: Any, data: bytes) -> str:
    head = data[:2048].lower()
    if b"<html" in head or b"<!doctype html" in head:
        return "not a feed: it is a web page"
    # What follows the XML declaration (the decoding step writes one where none was).
    declaration = XML_DECLARATION.match(data)
    if not data[declaration.end() if declaration else 0 :].lstrip().startswith(b"<"):
        return "not a feed: it is plain text"
    if parsed.get("bozo"):
        return f"not a feed: its XML is broken ({_describe(parsed.get('bozo_exception'))})"
    return "not a feed: no RSS or Atom content found"


def _describe(error: Any) -> str:
    text = str(getattr(error, "getMessage", lambda: error)() if error else "unknown problem")
    return text[:300]


# A source's RSS ttl is a hint, and no feed is polled less than daily whatever it says;
# capped here, a feed's absurd number cannot overflow a date sum or an INTEGER column.
MAX_TTL_MINUTES = 24 * 60


def _ttl_minutes(value: Any) -> int | None:
    """The RSS ``ttl`` in minutes, at most a day; None when missing, unreadable or not positive."""
    try:
        minutes = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return min(minutes, MAX_TTL_MINUTES) if minutes > 0 else None


def _entry(
    raw: Any, feed_author: str = "", channel_names: frozenset[str] = frozenset()
) -> ParsedEntry:
    # Plain dict lookups: FeedParserDict.get maps every key through its aliases, and for
    # "updated_parsed" silently falls back to the published date (a deprecated mapping).
    get = functools.partial(dict.get, raw)
    content = get("content") or []
    summary_detail = get("summary_detail") or {}
    summary_html = entry_fields.as_html(
        str(get("summary", "") or ""), summary_detail.get("type", "")
    )
    main = entry_fields.main_content(content)
    content_html = (
        entry_fields.as_html(str(main.get("value", "")), main.get("type", "")) if main else ""
    )
    if len(content_html) < len(summary_html):
        # Content shorter than the summary is not the story: feedparser files an image's
        # Media RSS caption (<media:description>) as content, beside <description>.
        content_html, main = "", None
    detail = main or summary_detail
    return ParsedEntry(
        guid=str(get("id", "") or ""),
        link=entry_fields.entry_link(get),
        title=str(get("title", "") or ""),
        summary_html=summary_html,
        content_html=content_html,
        author=entry_fields.entry_author(get, feed_author, channel_names),
        base=str(detail.get("base", "") or ""),
        published=_time(get("published_parsed")),
        updated=_time(get("updated_parsed")),
        media=list(get("media_content") or []),
        thumbnails=list(get("media_thumbnail") or []) + entry_fields.item_images(get),
        credits=entry_fields.image_credits(get("media_credit") or []),
        enclosures=entry_fields.enclosures(get),
        youtube_id=str(get("yt_videoid", "") or ""),
        reviewed_by=str(get("reviewed_by", "") or get("club_reviewedby", "") or ""),
        title_is_plain=(get("title_detail") or {}).get("type") == entry_fields.PLAIN,
    )


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None
