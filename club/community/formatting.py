"""Comment text to HTML: plain text with paragraphs and auto-linked URLs, nothing else.

Comments are stored exactly as typed and escaped on the way out, so no markup a member
writes ever reaches the page as markup; the only tags are the ones built here.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

URL_PATTERN = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
# Punctuation that usually ends a sentence rather than a URL.
TRAILING = ".,;:!?)]}'\""
LINK_REL = "nofollow noopener ugc"
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Normalise line endings, drop control characters and trim surrounding blank space."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return CONTROL_CHARS.sub("", text).strip()


def _split_url(match: str) -> tuple[str, str]:
    url = match.rstrip(TRAILING)
    # Keep a closing parenthesis that belongs to the URL, as in Wikipedia links.
    while match[len(url) : len(url) + 1] == ")" and url.count("(") > url.count(")"):
        url += ")"
    return url, match[len(url) :]


def linkify(text: str) -> Markup:
    """Escape ``text`` and turn each http(s) URL in it into a link."""
    parts: list[str] = []
    position = 0
    for found in URL_PATTERN.finditer(text):
        url, tail = _split_url(found.group(0))
        parts.append(str(escape(text[position : found.start()])))
        href = escape(url)
        parts.append(f'<a href="{href}" rel="{LINK_REL}">{href}</a>{escape(tail)}')
        position = found.end()
    parts.append(str(escape(text[position:])))
    return Markup("".join(parts))  # noqa: S704 - every piece above is escaped


def render_comment(text: str, links: bool = True) -> Markup:
    """Render a comment: blank lines separate paragraphs, single newlines break lines.

    With ``links`` off, URLs stay plain text (a bio of an account that is not a member).
    """
    line_html = linkify if links else escape
    paragraphs = [p.strip("\n") for p in re.split(r"\n\s*\n", text) if p.strip()]
    html = "".join(
        "<p>" + "<br>\n".join(str(line_html(line)) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )
    return Markup(html)  # noqa: S704 - built from escaped output
