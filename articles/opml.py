"""OPML import and export of the feed list."""

from __future__ import annotations

import html.entities
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from articles.models import MIN_INTERVAL_MINUTES, Feed
from articles.parse import ParseError, neutralise_dtd
from articles.text import strip_control
from articles.urls import safe_url
from club.text import has_visible_text

MAX_OPML_BYTES = 1024 * 1024
TOO_LARGE = "the OPML file is larger than 1 MB"
NO_FEEDS = "the file lists no feeds"
# The site's own outline attributes: how each feed is curated, so an export imported
# again (here or on another copy of the site) keeps it. Other readers ignore them.
NAMESPACE = "tag:billionaire-club.example,2026:opml"
ET.register_namespace("club", NAMESPACE)


@dataclass
class Settings:
    """A feed's curation settings as an export carries them; None where one is not given."""

    auto_publish: bool | None = None
    full_content: bool | None = None
    interval_minutes: int | None = None
    paused: bool = False


@dataclass
class Outline:
    """One feed listed in an OPML file."""

    url: str
    title: str
    site_url: str
    category: str
    settings: Settings = field(default_factory=Settings)


def read_opml(data: bytes) -> list[Outline]:
    """Return the feeds an OPML document lists; raise ``ValueError`` if it is not OPML
    or lists none."""
    if len(data) > MAX_OPML_BYTES:
        raise ValueError(TOO_LARGE)
    try:
        # The DOCTYPE goes first, so no entity can expand inside the XML parser.
        document = neutralise_dtd(data)
    except ParseError as error:
        raise ValueError(f"not a readable OPML file ({error})") from None
    try:
        root = ET.fromstring(document)  # noqa: S314 (no DTD left to abuse)
    except ET.ParseError as error:
        try:
            root = ET.fromstring(_with_references_escaped(document))  # noqa: S314
        except ET.ParseError:
            raise ValueError(f"not a readable OPML file ({error})") from None
    if _name(root) != "opml":
        raise ValueError("not an OPML file (the root element is not <opml>)")
    found = _feeds_in(next((child for child in root if _name(child) == "body"), None))
    if not found:
        raise ValueError(NO_FEEDS)
    return found


# An "&" that starts no reference at all, as in a URL's query; and a named reference.
_BARE_AMPERSAND = re.compile(rb"&(?!#[0-9]+;|#x[0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)")
_NAMED_REFERENCE = re.compile(rb"&([A-Za-z][A-Za-z0-9]{1,31});")


def _with_references_escaped(document: bytes) -> bytes:
    """``document`` with what XML would refuse and HTML writers write escaped.

    Exporters write "?format=rss&cat=health" and "Caf&eacute;" into attributes, and one
    such "&" would lose the whole file. A bare "&" becomes "&amp;", an HTML name its
    character reference; any other name stays, undefined, and the file is refused (an
    entity whose declaration ``neutralise_dtd`` removed never expands).
    """
    escaped = _BARE_AMPERSAND.sub(b"&amp;", document)

    def character(match: re.Match) -> bytes:
        name = match.group(1).decode("ascii")
        code = html.entities.name2codepoint.get(name)
        return f"&#{code};".encode() if code else match.group()

    return _NAMED_REFERENCE.sub(character, escaped)


def _name(element: ET.Element) -> str:
    """An element's name without its namespace, in lower case: exporters write <OPML>,
    <BODY> or a default namespace, and each still means the same."""
    return str(element.tag).rpartition("}")[2].lower()


def _outlines(element: ET.Element) -> list[ET.Element]:
    return [child for child in element if _name(child) == "outline"]


def _feeds_in(body: ET.Element | None) -> list[Outline]:
    """List the feed outlines in document order; a folder outline names their category.

    Every outline is looked into: some readers nest feeds under a feed's own outline.
    A stack, not recursion: a file may nest outlines thousands deep.
    """
    found: list[Outline] = []
    pending = [] if body is None else [(child, "") for child in reversed(_outlines(body))]
    while pending:
        node, category = pending.pop()
        attributes = _attributes(node)
        # Any xmlUrl makes a feed outline: one that is not http(s) is refused and counted
        # when imported, not taken for a folder and silently left out.
        url = strip_control(attributes.get("xmlurl") or "").strip()
        label = strip_control(attributes.get("title") or attributes.get("text") or "").strip()
        label = label if has_visible_text(label) else ""  # a zero-width name shows as nothing
        if url:
            site = safe_url(attributes.get("htmlurl", "")) or ""
            # A feed with no name is listed by an address (ours write the site's): taken
            # for a title, it would never give way to the feed's own.
            title = "" if label in (url, site) else label[:300]
            found.append(Outline(url, title, site, category, _settings(node)))
        folder = category if url else label or category
        pending.extend((child, folder) for child in reversed(_outlines(node)))
    return found


def _attributes(node: ET.Element) -> dict[str, str]:
    """An outline's attributes by lower-case name: exporters write "xmlurl" or "XMLURL"
    as often as OPML's "xmlUrl"."""
    return {name.lower(): value for name, value in node.attrib.items()}


def _settings(node: ET.Element) -> Settings:
    """The site's settings on an outline; a missing or unreadable one stays None."""

    def flag(name: str) -> bool | None:
        value = (node.get(f"{{{NAMESPACE}}}{name}") or "").strip().lower()
        return {"true": True, "false": False}.get(value)

    interval = (node.get(f"{{{NAMESPACE}}}interval") or "").strip()
    minutes = int(interval) if interval.isascii() and interval.isdigit() else None
    if minutes is not None and not MIN_INTERVAL_MINUTES <= minutes <= 24 * 60:
        minutes = None
    return Settings(flag("autoPublish"), flag("fullContent"), minutes, flag("paused") is True)


def write_opml(feeds: list[Feed], title: str) -> bytes:
    """Return an OPML 2.0 document listing ``feeds``, grouped by topic."""
    root = ET.Element("opml", version="2.0")
    ET.SubElement(ET.SubElement(root, "head"), "title").text = title
    body = ET.SubElement(root, "body")
    groups: dict[str, ET.Element] = {}
    for feed in feeds:
        parent = body
        if feed.topic is not None:
            if feed.topic.name not in groups:
                groups[feed.topic.name] = ET.SubElement(
                    body, "outline", text=feed.topic.name, title=feed.topic.name
                )
            parent = groups[feed.topic.name]
        attributes = {"type": "rss", "text": feed.name, "xmlUrl": feed.url}
        if feed.title:
            attributes["title"] = feed.title
        if feed.site_url:
            attributes["htmlUrl"] = feed.site_url
        attributes |= {
            f"{{{NAMESPACE}}}autoPublish": str(feed.auto_publish).lower(),
            f"{{{NAMESPACE}}}fullContent": str(feed.full_content).lower(),
            f"{{{NAMESPACE}}}interval": str(feed.interval_minutes),
        }
        if feed.is_paused:
            attributes[f"{{{NAMESPACE}}}paused"] = "true"
        ET.SubElement(parent, "outline", attributes)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
