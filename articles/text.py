"""Text from feeds: control characters, tidy one-line text, and what feeds append to excerpts.

Shared by clean (entries), the URL helpers and every place that stores text a source wrote.
"""

from __future__ import annotations

import html
import re
import unicodedata

import nh3

from club.text import DIRECTION_CONTROLS

CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def strip_control(text: str) -> str:
    """Remove NUL and other control characters (PostgreSQL rejects NUL in text)."""
    return CONTROL_CHARS.sub("", text)


# nh3's output is well-formed and holds no comments or scripts, so a plain tag pattern
# is enough to turn *cleaned* HTML into text.
_CLEANED_TAG = re.compile(r"<[^>]*>")
# The allowed tags that sit inside a line of text: they go without a space, or
# "<a>Gartner</a>, a third" would read "Gartner , a third". (Every other tag ends or
# starts a block, and a space keeps the words of two blocks apart.)
_INLINE_TAG = re.compile(
    r"</?(?:a|abbr|b|cite|code|del|em|i|ins|mark|q|s|small|strong|sub|sup|time|u)\b[^>]*>"
)


# A heading's end: with no punctuation of its own, in one line of text it would run into
# the sentence after it ("Fixes and improvements For those of you..."). The pattern starts
# with its literal, which the regex engine finds fast; a lookbehind first tried every
# character of the article.
_HEADING_END = re.compile(r"</h[1-6]>")
_ENDS_ITSELF = frozenset(" \t\n.!?:;…>")


def text_of_cleaned(cleaned_html: str, limit: int | None = None) -> str:
    """Return the text of HTML that ``clean_html`` produced (a cheaper ``plain_text``)."""
    text = _INLINE_TAG.sub("", cleaned_html)
    if "</h" in text:
        text = _with_headings_ended(text)
    text = _CLEANED_TAG.sub(" ", text)
    return tidy(html.unescape(text), limit)


def block_ends(cleaned_html: str) -> set[int]:
    """Where each block of ``cleaned_html`` ends in its ``text_of_cleaned`` text (the
    length of the text up to there): an excerpt ending at one ends where a line does."""
    text = _INLINE_TAG.sub("", cleaned_html)
    if "</h" in text:
        text = _with_headings_ended(text)
    # NUL for each tag: none is left in cleaned text, and html.unescape makes none.
    words = html.unescape(_CLEANED_TAG.sub(" \x00 ", text)).split()
    ends, length = set(), -1
    for word in words:
        if word == "\x00":
            ends.add(length)
        else:
            length += len(word) + 1
    return ends


def _with_headings_ended(markup: str) -> str:
    """Put a full stop at the end of each heading that ends with no punctuation."""

    def end(heading_end: re.Match) -> str:
        at = heading_end.start()
        bare = at > 0 and markup[at - 1] not in _ENDS_ITSELF
        return "." + heading_end.group() if bare else heading_end.group()

    return _HEADING_END.sub(end, markup)


def tidy(text: str, limit: int | None = None) -> str:
    """``text`` on one line, single-spaced, cut to ``limit`` characters, with no direction
    override, embedding or isolate: a line shows among the site's own words (a source's
    name before the date, a title in the audit log), and one would turn those around."""
    # No control characters to strip here: plain_text and clean_html stripped them, and
    # html.unescape drops character references to control characters.
    text = DIRECTION_CONTROLS.sub("", text)
    return shorten(" ".join(text.split()), limit)  # str.split's whitespace is regex \s


# What feeds append to an excerpt, which a card's summary is better without. WordPress
# ends each item with a paragraph of two links, told from prose by that shape:
# <p>The post <a href=…>Title</a> appeared first on <a href=…>Site</a>.</p>
_WORDPRESS_TRAILER = re.compile(
    r"<p>\s*The post <a\b[^<>]*+>[^<]*+</a> appeared first on"
    r" <a\b[^<>]*+>[^<]*+</a>\s*\.?\s*</p>\s*$",
    re.IGNORECASE,
)
# A "Continue reading…" or "Read full article >>" after the last sentence (or after its
# closing quote), or "[read more]". After text with no full stop (the Guardian's closing
# "Related:" link, a standfirst without one), only a capitalised link text followed by
# an ellipsis or arrow: "…then continue reading…" is the writer's own sentence.
# One pass, no repeated group: each try costs a few steps wherever it starts.
_READ_ON = re.compile(
    r"(?:(?<=[.!?…\]\"\u201d\u2019)])\s*"
    r"(?:Continue reading|Read more|Read (?:the )?full (?:article|story)"
    r"(?: (?:on|at) [^.!?\n]{1,60}+)?)|\s*\[(?:Continue reading|Read more)[^\]]{0,40}+\]"
    # IDG's sites (Macworld, PCWorld) end every excerpt with this.
    r"|\s*To read (?:this|the) article in full,? (?:please )?click here"
    r"|\s(?-i:Continue reading|Read more|Read full article)(?=\s*(?:\.\.\.|[…→»\u203a>])))"
    r"[\s.…→»\u203a>)]*+$",
    re.IGNORECASE,
)
TRAILER_REACH = 2000  # the WordPress paragraph holds two URLs
READ_ON_WORDS = ("continue reading", "read more", "read the full", "read full", "in full")
# WordPress ends a cut excerpt with "[…]" (or "[...]"): the ellipsis alone says it.
CUT_MARKS = ("[…]", "[...]")


def without_wordpress_trailer(markup: str) -> str:
    """``markup`` without WordPress's closing "The post … appeared first on …" paragraph."""
    start = max(0, len(markup) - TRAILER_REACH)
    if "appeared first on" not in markup[start:]:
        return markup
    trailer = _WORDPRESS_TRAILER.search(markup, start)
    return markup[: trailer.start()] if trailer else markup


# Medscape ends each excerpt with the section it ran in, on a line of its own in italics:
# "…experts warn. <br /> <i>Medscape News Canada</i>" (or "Reuters Health Information").
# A short italic phrase that is not a sentence, alone on the last line, labels the excerpt;
# it is none of its words. Found from its "<br" literal, in the excerpt's last characters.
_CLOSING_LABEL = re.compile(
    r"<br\s*+/?>(?:</br>)?\s*+<(?:i|em)>[^<>.!?]{1,80}+</(?:i|em)>\s*+$", re.IGNORECASE
)
LABEL_REACH = 200
LABEL_ENDS = ("</i>", "</em>", "</I>", "</EM>")


def without_closing_label(markup: str) -> str:
    """``markup`` without a closing label line: a line break, then a short italic phrase."""
    if not markup[-LABEL_REACH:].rstrip().endswith(LABEL_ENDS):
        return markup
    label = _CLOSING_LABEL.search(markup, max(0, len(markup) - LABEL_REACH))
    return markup[: label.start()] if label else markup


def without_read_on(text: str) -> str:
    """Tidy ``text`` without a closing "Continue reading…", and a "[…]" as an ellipsis."""
    tail = text[-200:].lower()
    if any(word in tail for word in READ_ON_WORDS):
        read_on = _READ_ON.search(text, max(0, len(text) - 200))
        text = text[: read_on.start()] if read_on else text
    if text.endswith(CUT_MARKS):
        text = text[: text.rindex("[")].rstrip()
        text += "" if text.endswith((".", "!", "?", "…")) else "…"
    return text


# Reddit ends every entry with its byline and two links: "submitted by /u/NAME to /r/SUB
# [link] [42 comments]" (older feeds: NAME and SUB without /u/ and /r/; a subreddit's own
# feed: no "to"). Matched in tidy text from where its literal starts, so in one pass.
_REDDIT_BYLINE = re.compile(
    r"submitted by \S{1,100}+(?: to \S{1,100}+)? \[link\] \[(?:[\d,.]+k? )?comments?\]"
)
BYLINE_REACH = 300


def without_reddit_byline(text: str) -> str:
    """Tidy ``text`` without Reddit's closing "submitted by … [link] [comments]"."""
    at = text.rfind("submitted by ", max(0, len(text) - BYLINE_REACH))
    if at < 0 or (at and text[at - 1] != " ") or not _REDDIT_BYLINE.fullmatch(text, at):
        return text
    return text[:at].rstrip()


# A word boundary this far back from the limit is worth cutting at; further back, the cut
# would lose most of a text written without spaces (Chinese, Japanese, Thai).
WORD_CUT_REACH = 0.8


def shorten(text: str, limit: int | None) -> str:
    """Cut tidy text to ``limit`` characters at a word boundary, with an ellipsis."""
    if limit is not None and len(text) > limit:
        text = as_cut(text[: limit - 1])
    return text


def as_cut(text: str, mid_word: bool = True) -> str:
    """End tidy text that stops short with an ellipsis, at a word boundary if ``mid_word``
    says its last word may be part of one."""
    if mid_word:
        head, space, _ = text.rpartition(" ")
        if space and len(head) >= len(text) * WORD_CUT_REACH:
            text = head
    return text.rstrip(",.;: ") + "…"


def ends_mid_sentence(text: str) -> bool:
    """Tell whether tidy text stops where no sentence ends: on a letter, a digit, a comma."""
    return text[-1:].isalnum() or text.endswith((",", ";", ":"))


# Removed with their content, not just unwrapped (here and by clean's allow-list).
DROPPED_WITH_CONTENT = frozenset({"script", "style", "noscript", "iframe", "object", "template"})
_TEXT_CLEANER = nh3.Cleaner(tags=set(), clean_content_tags=set(DROPPED_WITH_CONTENT))

# Where one block of text ends and the next begins: dropped without a space,
# "<p>One.</p><p>Two.</p>" would read "One.Two.".
_BLOCK_TAG = re.compile(
    r"<(?=/?(?:p|div|br|li|h[1-6]|tr|td|th|dd|dt|blockquote|pre|section|article|figure"
    r"|figcaption|table|ul|ol|hr)[\s/>])",
    re.IGNORECASE,
)


def plain_text(markup: str, limit: int | None = None) -> str:
    """Return ``markup`` as one line of plain text (tags dropped, entities decoded)."""
    markup = strip_control(markup)
    if "<" in markup:
        markup = _BLOCK_TAG.sub(" <", markup)
    if "<" in markup or "&" in markup:
        # Again after nh3: it decodes character references, and "&#27;" is an ESC.
        markup = strip_control(html.unescape(_TEXT_CLEANER.clean(markup)))
    return tidy(markup, limit)


def slug_of(text: str, length: int) -> str:
    """``text`` as a readable address: its letters, marks and digits in any script,
    composed (NFC) and lower-case, each run of anything else one "-"; at most ``length``
    characters.

    Marks belong to the letters they sit on: read as separators, a Hindi word lost its
    vowel signs ("हिन्दी" became "ह-न-द", an address another word could share).
    """
    composed = unicodedata.normalize("NFC", text[: 4 * length].lower())
    kept = "".join(c if unicodedata.category(c)[0] in "LMN" else " " for c in composed)
    return "-".join(kept.split())[:length].strip("-")
