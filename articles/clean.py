"""Clean: a parsed entry → safe values ready to store.

HTML is sanitised with nh3 against an explicit allow-list; everything else becomes plain
text (the templates escape it). This step runs last before storage, after every other
rewrite, so nothing it removed can be put back. Embedded players are never taken from
feed HTML: a video entry keeps only its YouTube id or its ``video/*`` URL, an episode its
``audio/*`` URL, and the site builds the player itself.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import nh3

from articles.media import (
    IFRAME,
    YOUTUBE_EMBED_SRC,
    YOUTUBE_VIDEO_PATH,
    add_audio,
    add_image,
    add_video,
)
from articles.parse import ParsedEntry
from articles.text import (
    DROPPED_WITH_CONTENT,
    as_cut,
    block_ends,
    ends_mid_sentence,
    plain_text,
    shorten,
    strip_control,
    text_of_cleaned,
    tidy,
    without_closing_label,
    without_read_on,
    without_reddit_byline,
    without_wordpress_trailer,
)
from articles.urls import (
    MAX_URL,
    canonical_url,
    is_absolute_http,
    is_ad_link,
    never_loaded,
    origin_of,
    over_https,
    safe_url,
    unwrapped,
    without_tracking,
)

MAX_TITLE = 300
MAX_SUMMARY = 600
MAX_CONTENT_SOURCE = 200_000
MAX_BODY_TEXT = 20_000
FUTURE_SLACK = timedelta(hours=1)
EARLIEST_DATE = datetime(1990, 1, 1, tzinfo=UTC)
LINK_REL = "nofollow noopener ugc"

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "dl",
        "dt", "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
        "ins", "li", "mark", "ol", "p", "pre", "q", "s", "small", "strong", "sub", "sup",
        "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
    "time": {"datetime"},
    # On any tag: right-to-left and other-language passages read correctly (nh3's own
    # default for every tag was lang and title; this list replaces it).
    "*": {"dir", "lang", "title"},
}

# nh3 writes every attribute as ' name="value"' (a '"' inside is escaped), so these see
# whole <img> elements even when a value holds a ">".
_ATTRIBUTES = r'(?: [a-zA-Z-]+="[^"]*")*'
# A width or height a browser reads as at most 1 pixel: "1", "01", " 1px", "0.5", "1.0".
PIXEL = re.compile(
    rf'<img{_ATTRIBUTES}? (?:width|height)="\s*0*(?:0(?:\.\d*)?|1(?:\.0*)?|\.\d+)(?![\d.])'
    rf'[^"]*"{_ATTRIBUTES}>'
)
# A link with nothing but white space inside: no text, no image. The second pattern finds
# where one may end, a first look that costs less than half as much as the first. The
# white space stays: it may be all that parts the words on either side.
EMPTY_LINK = re.compile(rf"<a{_ATTRIBUTES}>(\s*+)</a>")
LINK_ENDS_EMPTY = re.compile(r">\s*+</a>")
IMG_WITHOUT_SRC = re.compile(r'<img(?:(?! src=")(?: [a-zA-Z-]+="[^"]*"))*>')
_WHOLE_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
# A credential after the reviewer's name: "MD", "M.D.", "Ph.D.", "APRN-BC".
_CREDENTIAL = r"[A-Z][A-Za-z]{0,9}(?:\.[A-Za-z]{1,9})*\.?(?:-[A-Z]{1,6})?"
REVIEWED_BY = re.compile(
    r"(?i:medically reviewed by)[:\s]+("
    # The name, up to a comma, a full stop or a dash ("— Written by ...")...
    r"(?:(?:Dr|Prof)\.\s*)?[^<\n.;|,\u2013\u2014]{3,120}"
    # ...then its credentials: ", M.D., MPH".
    rf"(?:,\s*{_CREDENTIAL}(?=[\s,;|<\u2013\u2014]|$))*"
    r")"
)


@dataclass
class CleanEntry:
    """An entry whose every field is safe to store and show."""

    guid: str
    url: str
    title: str
    summary: str
    content: str
    body_text: str
    author: str | None
    published_at: datetime
    updated_at: datetime | None
    image_url: str | None = None
    image_credit: str | None = None
    kind: str = "article"
    video_id: str | None = None
    video_url: str | None = None
    audio_url: str | None = None
    reviewed_by: str | None = None
    extras: dict = field(default_factory=dict)


class SkipEntry(Exception):
    """The entry cannot be stored (no usable link); the message says why."""


# html5ever, inside nh3, spends time on each start tag in proportion to how deeply it is
# nested, so a deep document costs the square of its depth: 200 KB of nested lists takes
# seconds, on ingest and again on every page view. No real article nests 100 levels.
MAX_NESTING = 100
# Below this many tags the worst nesting costs nh3 a millisecond or two: no need to look.
NESTING_CHECK_FROM = 1000
_TAG_NAME = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)")
# Elements that add no depth: void ones, and ones a sibling closes (an unclosed <p> or <li>).
_FLAT_ELEMENTS = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option",
        "optgroup", "rb", "rt", "rp", "tbody", "thead", "tfoot", "colgroup", "caption",
    }
)  # fmt: skip


def too_deeply_nested(markup: str) -> bool:
    """Tell whether ``markup`` may nest elements more than ``MAX_NESTING`` levels deep.

    An estimate from the tags alone (no parse, which is the cost to avoid): every start tag
    of an element that holds others opens a level, every end tag closes one.
    """
    if markup.count("<") <= NESTING_CHECK_FROM:
        return False
    depth = 0
    # finditer, not findall: a hostile entry is refused at its 101st level, not after
    # every one of its tags has been listed first.
    for closing, name in (match.groups() for match in _TAG_NAME.finditer(markup)):
        if name.lower() in _FLAT_ELEMENTS:
            continue
        if closing:
            depth = max(depth - 1, 0)
        else:
            depth += 1
            if depth > MAX_NESTING:
                return True
    return False


def _rewrite_url(value: str, base: str, origin: str) -> str | None:
    """Make a URL absolute against the entry's base, tracking removed; None if not http(s)."""
    if value.startswith(("https://", "http://")) and len(value) <= MAX_URL:
        absolute = value
    elif origin and value.startswith("/") and not value.startswith("//"):
        absolute = origin + value  # the common root-relative case, without urljoin
    else:
        absolute = safe_url(value, base)
        if absolute is None:
            return None
    return without_tracking(absolute) if "?" in absolute else absolute


# nh3 serialises every attribute as name="value" with quotes escaped, and escapes "<" in
# text, so this pattern sees exactly the href of each <a> and the src of each <img> (the
# only allowed tags that carry them), whatever attributes come before it.
_URL_ATTRIBUTE = re.compile(r'(<(?:a|img)(?: [a-zA-Z-]+="[^"]*")*?) (href|src)="([^"]*)"')


def _absolutise(cleaned: str, base: str) -> str:
    """Rewrite href/src in nh3's output: absolute, http(s) only, tracking removed."""
    origin = origin_of(base)
    done: dict[str, str | None] = {}  # articles often repeat a link; work it out once

    def fix(match: re.Match) -> str:
        escaped = match.group(3)
        if (
            escaped.startswith(("https://", "http://"))
            and "?" not in escaped
            and len(escaped) <= MAX_URL
        ):
            rewritten: str | None = escaped  # the usual case: nothing to rewrite
        else:
            if escaped not in done:
                url = _rewrite_url(html.unescape(escaped), base, origin)
                done[escaped] = None if url is None else html.escape(url, quote=True)
            rewritten = done[escaped]
        if rewritten is not None and match.group(2) == "src":
            if never_loaded(rewritten):
                rewritten = None  # the image goes with its source (clean_html)
            elif rewritten.startswith("http://"):
                rewritten = over_https(rewritten)
        if rewritten is None:
            return match.group(1)
        if rewritten is escaped:
            return match.group(0)
        return f'{match.group(1)} {match.group(2)}="{rewritten}"'

    return _URL_ATTRIBUTE.sub(fix, cleaned)


_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(DROPPED_WITH_CONTENT),
    attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
    url_schemes={"http", "https", "mailto"},
    link_rel=LINK_REL,
    strip_comments=True,
)
# Added after nh3, not by its set_tag_attribute_values: that writes them in an order that
# changes from one Cleaner to the next, so an unchanged entry stored by another worker
# process differed, and every refresh rewrote it and its search index entry.
IMG_ATTRIBUTES_ADDED = ' loading="lazy" referrerpolicy="no-referrer"'
_IMG_ELEMENT = re.compile(rf"<img({_ATTRIBUTES})>")


# Lazy-loading pages keep an image's real address in data-src (or data-lazy-src,
# data-original) and a placeholder, or nothing, in src; a script swaps them, and no
# script runs here.
# A whole tag, possessively and never past a "<": one pass over any input, however hostile.
_IMG_TAG = re.compile(r"<img\b[^<>]*+>", re.IGNORECASE)
_SRC_ATTRIBUTE = re.compile(r"""\ssrc\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)""", re.IGNORECASE)
_LAZY_ATTRIBUTE = re.compile(r"\sdata-(?:lazy-src|src|original)(\s*=)", re.IGNORECASE)


def _with_lazy_images_loaded(markup: str) -> str:
    """Make a lazy-loaded <img>'s real address its src, before nh3 checks it as one."""

    def load(image: re.Match) -> str:
        tag = image.group()
        if not _LAZY_ATTRIBUTE.search(tag):
            return tag
        return _LAZY_ATTRIBUTE.sub(r" src\1", _SRC_ATTRIBUTE.sub("", tag), count=1)

    return _IMG_TAG.sub(load, markup)


WATCH_ON_YOUTUBE = "Watch the video on YouTube"


def _youtube_embeds_as_links(markup: str) -> str:
    """Put a link to each embedded YouTube video where its player was.

    Iframes from feeds never reach the page (the site builds the one player it shows);
    dropped without a trace, a post's video would simply be missing from its text.
    """

    def as_link(tag: re.Match) -> str:
        embed = YOUTUBE_EMBED_SRC.search(tag.group())
        if embed is None:
            return tag.group()  # nh3 drops it
        video = YOUTUBE_VIDEO_PATH.match(embed.group(2))
        if video:
            url = f"https://www.youtube.com/watch?v={video.group(1)}"
        else:  # a playlist or a channel's live stream: its player page, as the feed gave it
            source = html.unescape(embed.group(1))  # an attribute's "&amp;" is one "&"
            url = html.escape("https:" + source[source.index("//") :], quote=True)
        return f'<p><a href="{url}">{WATCH_ON_YOUTUBE}</a></p>'

    return IFRAME.sub(as_link, markup)


def clean_html(markup: str, base_url: str = "") -> str:
    """Sanitise feed HTML against the allow-list; URLs absolute, links nofollow."""
    if not markup:
        return ""
    markup = strip_control(markup[:MAX_CONTENT_SOURCE])
    if "data-" in markup:
        markup = _with_lazy_images_loaded(markup)
    if "<iframe" in markup or "<IFRAME" in markup:
        markup = _youtube_embeds_as_links(markup)
    cleaned = _absolutise(_CLEANER.clean(markup), base_url)
    if "<img" in cleaned:
        # Without a source (none given, or not http(s), or a tracker's) an image shows as
        # a broken one.
        cleaned = _IMG_ELEMENT.sub(
            rf"<img\1{IMG_ATTRIBUTES_ADDED}>", IMG_WITHOUT_SRC.sub("", cleaned)
        )
    if "&#" in markup:
        # nh3 decodes character references: "&#27;" comes out as a raw ESC.
        cleaned = strip_control(cleaned)
    # Drop 1x1 tracking pixels (nh3's output is normalised, so this pattern is reliable).
    if "width=" in cleaned or "height=" in cleaned:
        cleaned = PIXEL.sub("", cleaned)
    if "</a>" in cleaned and LINK_ENDS_EMPTY.search(cleaned):
        # Last, once every image that goes has gone: a link left with nothing in it is a
        # tab stop a screen reader announces with no name and a reader never sees (the
        # share buttons around FeedBurner's "feedflare" images).
        cleaned = EMPTY_LINK.sub(r"\1", cleaned)
    return cleaned


def entry_key(entry: ParsedEntry, link: str) -> str:
    """Return the entry's GUID, or a stable hash of link, title and date when it has none."""
    guid = strip_control(entry.guid).strip()
    if guid:
        return guid[:1024]
    stamp = entry.published.isoformat() if entry.published else ""
    digest = hashlib.sha256(f"{link}\n{entry.title}\n{stamp}".encode()).hexdigest()
    return f"sha256:{digest}"


def clean_entry(entry: ParsedEntry, feed_url: str, now: datetime) -> CleanEntry:
    """Turn a parsed entry into safe values; raise ``SkipEntry`` if it cannot be stored."""
    written = _entry_link(entry, feed_url)
    # The story's own address where a known redirect wrapper spells it out: the canonical
    # URL then makes a story the feed lists both ways one article.
    link = unwrapped(written)
    if _is_protected_post(entry):
        raise SkipEntry(f"entry is a password-protected post: {link}")
    if is_ad_link(link):
        # A sponsor's slot among the stories ("Featured Advertiser"): no article behind it.
        raise SkipEntry(f"entry is an ad (it links to an ad or tracking host): {link}")
    if any(
        map(too_deeply_nested, (entry.content_html, entry.summary_html, entry.title, entry.author))
    ):
        raise SkipEntry(f"entry HTML nested more than {MAX_NESTING} levels deep: {link}")
    base = safe_url(entry.base, feed_url) or link
    content = clean_html(entry.content_html or entry.summary_html, base)
    body_text = text_of_cleaned(content, MAX_BODY_TEXT)
    summary = _summary(entry, content, body_text)
    title = _title_text(entry) or _title_from(summary)
    updated = _plausible(entry.updated)
    published = _clamp(_plausible(entry.published) or updated, now)
    cleaned = CleanEntry(
        # Keyed by the link as written, so an entry stored before keeps its key.
        guid=entry_key(entry, written),
        url=canonical_url(link, keep_fragment=_fragment_names_the_post(entry, link)),
        title=title,
        summary=summary,
        content=content,
        body_text=body_text,
        author=plain_text(entry.author, 200) or None,
        published_at=published,
        updated_at=_clamp(updated, now) if updated else None,
        reviewed_by=_reviewer(entry, body_text),
    )
    add_image(cleaned, entry, base)
    add_video(cleaned, entry, link)
    add_audio(cleaned, entry, link)
    return cleaned


def _summary(entry: ParsedEntry, content: str, body_text: str) -> str:
    """The card's summary: the source's own excerpt when it gives one beside the content,
    else the start of the text, without what feeds append to either."""
    beside = entry.summary_html and entry.summary_html != entry.content_html and entry.content_html
    if beside:
        excerpt = plain_text(without_closing_label(without_wordpress_trailer(entry.summary_html)))
    else:
        lead = without_closing_label(without_wordpress_trailer(content))
        excerpt = body_text if lead is content else text_of_cleaned(lead, MAX_BODY_TEXT)
    if WATCH_ON_YOUTUBE in excerpt:
        # The site's own words where a player was: no summary of what the source wrote.
        excerpt = tidy(excerpt.replace(WATCH_ON_YOUTUBE, " "))
    excerpt = without_read_on(without_reddit_byline(excerpt))
    if beside and excerpt and len(excerpt) <= MAX_SUMMARY and ends_mid_sentence(excerpt):
        excerpt = _as_cut_from(excerpt, body_text, content)
    return shorten(excerpt, MAX_SUMMARY)


def _as_cut_from(excerpt: str, text: str, content: str) -> str:
    """``excerpt`` ended with an ellipsis if it is the start of ``text``, cut off by the
    source; at the last whole word, which ``text`` tells. One that ends where a block of
    ``content`` does (a standfirst, a heading) is that line whole, as its source wrote it."""
    if len(text) <= len(excerpt) or not text.startswith(excerpt):
        return excerpt
    ends = block_ends(content)
    if len(excerpt) in ends or (text[len(excerpt)] == "." and len(excerpt) + 1 in ends):
        return excerpt  # the "." is the one a heading is given in the text
    return as_cut(excerpt, mid_word=excerpt[-1].isalnum() and text[len(excerpt)].isalnum())


# A source that cuts every excerpt at a fixed number of characters leaves several exactly
# that long, the longest of its document: PCMag's stop at 100, mid-word ("…stock colu").
# A source that writes to a limit (heise's 160) ends its sentences there: no ellipsis.
CUT_EVIDENCE = 3
# Shorter than this, summaries of one length are a fixed format (a date, a count), not a cut.
MIN_CUT_LENGTH = 60


def end_source_cuts(entries: Sequence[CleanEntry]) -> None:
    """End with "…" the summaries of one document that their source cut at a fixed length."""
    summaries = [entry.summary for entry in entries if not entry.summary.endswith("…")]
    longest = max(map(len, summaries), default=0)
    if longest < MIN_CUT_LENGTH:
        return
    if len({summary for summary in summaries if len(summary) == longest}) < CUT_EVIDENCE:
        return  # one summary repeated is a source's stock line, not a cut
    for entry in entries:
        if len(entry.summary) == longest and ends_mid_sentence(entry.summary):
            entry.summary = as_cut(entry.summary)


def _entry_link(entry: ParsedEntry, feed_url: str) -> str:
    """Return the entry's http(s) link (an RSS permalink GUID will do); else skip it.

    A link to the feed document itself is no article's address: an Atom ``href=""``
    resolves to the feed's xml:base, and would make every such entry one article. Nor,
    if a permalink GUID or the episode's own audio or video file says better, is the
    site's home page: podcasts link every episode there, and some give no link at all.
    """
    home_page = None
    for candidate in (entry.link, entry.guid, *_media_files(entry)):
        url = safe_url(candidate, feed_url) if candidate else None
        if (
            url
            and not url.startswith("mailto:")
            # A GUID that only holds an address ('"http://…', a stray quote) is no link,
            # not a path on the feed's site.
            and (candidate is entry.link or is_absolute_http(candidate))
            and url != feed_url
            and url != entry.feed_base
        ):
            if not _is_home_page(url):
                return url
            home_page = home_page or url
    if home_page:
        return home_page
    raise SkipEntry("entry has no http(s) link")


def _media_files(entry: ParsedEntry) -> list[str]:
    """The addresses of the entry's audio and video enclosures."""
    return [
        str(e.get("href", ""))
        for e in entry.enclosures
        if str(e.get("type", "")).startswith(("audio/", "video/"))
    ]


# WordPress lists a password-protected post with this excerpt and a "Protected: " title;
# its link leads to a password form, nothing a reader here can open.
PROTECTED_EXCERPT = "There is no excerpt because this is a protected post."


def _is_protected_post(entry: ParsedEntry) -> bool:
    return entry.title.startswith("Protected: ") and PROTECTED_EXCERPT in (
        entry.summary_html + entry.content_html
    )


def _fragment_names_the_post(entry: ParsedEntry, link: str) -> bool:
    """Tell whether the link's fragment is the post's own: its permanent GUID has it too.

    Some blogs put a day's posts on one page, each at its anchor (".../26.html#a080605"):
    without the fragment they would all be one article. A "#comments" or "#more" in a link
    whose GUID does not carry it is a place on the page, and goes.
    """
    fragment = link.partition("#")[2]
    return bool(fragment) and entry.guid.strip().endswith("#" + fragment)


def _is_home_page(url: str) -> bool:
    """Tell whether ``url`` is a site's root, "https://host/" or "https://host"."""
    return url.count("/") == 2 or (url.count("/") == 3 and url.endswith("/"))


def _title_text(entry: ParsedEntry) -> str:
    # A plain-text title is taken as written ("glucose <a 100" keeps its "<a") unless it
    # holds whole tags: no reader wants "<script>" or "<b>" spelt out in a headline.
    if entry.title_is_plain and not _WHOLE_TAG.search(entry.title):
        return tidy(strip_control(entry.title), MAX_TITLE)
    return plain_text(entry.title, MAX_TITLE)


def _title_from(summary: str) -> str:
    return plain_text(summary, 80) if summary else "Untitled"


def _plausible(when: datetime | None) -> datetime | None:
    """``when``, or None for a placeholder date from before web feeds existed.

    Feeds write 1 January 1970 (a zero timestamp), 1900 or the year 1 for "no date".
    Kept, such an entry would sit at the very end of every list, and its date is no use
    to a reader.
    """
    return when if when is not None and when >= EARLIEST_DATE else None


def _clamp(when: datetime | None, now: datetime) -> datetime:
    """Missing or future dates become the fetch time, so no entry can pin itself on top."""
    if when is None or when > now + FUTURE_SLACK:
        return now
    return when


def _reviewer(entry: ParsedEntry, text: str) -> str | None:
    if entry.reviewed_by:
        return plain_text(entry.reviewed_by, 200) or None
    head = text[:5000]
    match = REVIEWED_BY.search(head) if "eviewed" in head or "EVIEWED" in head else None
    if not match:
        return None
    reviewer = match.group(1).strip()
    last = reviewer.rsplit(",", 1)[-1]
    if reviewer.endswith(".") and "." not in last[:-1]:
        reviewer = reviewer[:-1]  # the sentence's full stop, not an "M.D." one
    return reviewer or None
