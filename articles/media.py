"""Media: an entry's lead image (and its credit) and whether it is a video or an episode.

The site builds every player itself (``youtube-nocookie.com``, a ``<video>`` or an
``<audio>``): an entry keeps only a YouTube id or a ``video/*`` or ``audio/*`` address,
never feed markup.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

from articles.parse import ParsedEntry
from articles.text import plain_text
from articles.urls import (
    YOUTUBE_ID,
    names_a_private_machine,
    never_loaded,
    over_https,
    safe_url,
    without_media_prefixes,
    without_tracking,
    youtube_id,
)

if TYPE_CHECKING:
    from articles.clean import CleanEntry

FIRST_IMG = re.compile(r'<img\b[^>]*\bsrc="([^"]+)"')

# An embedded YouTube player: the whole <iframe> element (never past a "<" inside the
# tag, possessively), and the video id in its src.
IFRAME = re.compile(r"<iframe\b[^<>]*+>(?:[^<]*+</iframe\s*>)?", re.IGNORECASE)
YOUTUBE_EMBED_SRC = re.compile(
    r"""\ssrc\s*=\s*["']?((?:https?:)?//(?:www\.)?youtube(?:-nocookie)?\.com/embed/"""
    r"""([^"'\s<>]{0,2000}))""",
    re.IGNORECASE,
)
# A video's id, not a word YouTube reserves (a playlist's "videoseries", "live_stream").
YOUTUBE_VIDEO_PATH = re.compile(r"(?!videoseries|live_stream)([A-Za-z0-9_-]{11})(?![^?#&])")


def embedded_youtube_ids(markup: str) -> list[str]:
    """The ids of the YouTube players embedded in ``markup``, in order."""
    if "<iframe" not in markup and "<IFRAME" not in markup:
        return []
    found = (YOUTUBE_EMBED_SRC.search(tag.group()) for tag in IFRAME.finditer(markup))
    ids = (YOUTUBE_VIDEO_PATH.match(match.group(2)) for match in found if match)
    return [video.group(1) for video in ids if video]


def add_image(cleaned: CleanEntry, entry: ParsedEntry, base: str) -> None:
    """Pick the lead image: Media RSS (the widest first), thumbnail, image enclosure, then
    the first picture of the body that is not an icon."""
    media = [m for m in entry.media if _is_image(m.get("medium"), m.get("type"), m.get("url"))]
    # Feeds list several sizes of one picture, often the smallest first (the Guardian's
    # 140 then 460 pixels).
    # A picture that gives no width counts as a middling one: it beats a sized thumbnail
    # and loses to a sized large picture; equals keep the feed's order.
    media.sort(key=lambda m: -(_pixels(m.get("width")) or UNSIZED_PIXELS))
    candidates = [m.get("url") for m in media if not _is_tiny(m)]
    candidates += [t.get("url") for t in entry.thumbnails if not _is_tiny(t)]
    candidates += [
        e.get("href") for e in entry.enclosures if str(e.get("type", "")).startswith("image/")
    ]
    candidates.append(_first_picture(cleaned.content))
    for candidate in candidates:
        url = safe_url(str(candidate or ""), base)
        if url and not url.startswith("mailto:") and not never_loaded(url):
            cleaned.image_url = over_https(url)
            break
    credit = next((plain_text(c, 200) for c in entry.credits if c.strip()), "")
    cleaned.image_credit = credit or None


# A credit that says what it credits: one or two words of letters, then a colon
# ("Illustration: Priya Natarajan", "AP Photo: …"), or a word for a picture and whose it
# is ("Image courtesy of NASA", "Photo by Jane Doe", "Photo : Jane"); not a name that
# starts with such a word ("Picture Alliance", "Credit Suisse").
_LABELLED_CREDIT = re.compile(
    r"[^\W\d_]{2,20}(?: [^\W\d_]{2,20})?:(?:\s|$)"
    r"|(?:image|photo|photograph|picture|illustration|graphic|video)s?"
    r"(?:\s*:|\s+(?:by|courtesy|credit|via)\b)",
    re.IGNORECASE,
)


def credit_line(credit: str, label: str) -> str:
    """``credit`` as the page shows it, after ``label`` ("Image: Ana Photo"), unless the
    feed labelled it already: "Image: Illustration: Priya Natarajan" says it twice."""
    return credit if _LABELLED_CREDIT.match(credit) else f"{label}: {credit}"


# The width a Media RSS picture that states none is ranked at among the sizes a feed lists.
UNSIZED_PIXELS = 400
# Smaller than this on either side, a picture is an avatar, an icon or a counter: stretched
# into a card it is a blur, not a lead image.
MIN_LEAD_PIXELS = 100
# Where sites keep their own chrome (file-type icons, forum buttons, smileys): a post's
# first <img> from there is not its picture.
_CHROME_PATH = re.compile(
    r"/(?:icons?|emoji|emoticons|smilies|smileys|skins|style_images|filetype)/", re.IGNORECASE
)
# nh3 writes every attribute as name="value"; a tag holds no ">" but inside a value.
_IMG = re.compile(r"<img\b[^>]*>")
# At most six digits: int() refuses a 4,300-digit string, and no picture is that wide.
_IMG_SIZE = re.compile(r' (?:width|height)="\s*(\d{1,6})(?!\d)')


def _pixels(value: Any) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return 0


def _is_tiny(media: Any) -> bool:
    sides = [_pixels(media.get(side)) for side in ("width", "height")]
    return any(0 < side < MIN_LEAD_PIXELS for side in sides)


def _first_picture(content: str) -> str | None:
    """The address of the body's first <img> that is neither tiny nor the site's chrome."""
    for number, tag in enumerate(_IMG.finditer(content)):
        if number == 20:
            break
        source = FIRST_IMG.search(tag.group())
        if source is None:
            continue
        sizes = [int(size) for size in _IMG_SIZE.findall(tag.group())]
        url = html.unescape(source.group(1))
        if not any(size < MIN_LEAD_PIXELS for size in sizes) and not _CHROME_PATH.search(url):
            return url
    return None


def _is_image(medium, mime, url) -> bool:
    if medium == "image" or str(mime or "").startswith("image/"):
        return True
    path = str(url or "").lower().split("#", 1)[0].split("?", 1)[0]  # "3000.jpg?w=460"
    return not medium and not mime and path.endswith((".jpg", ".jpeg", ".png", ".webp", ".gif"))


def add_video(cleaned: CleanEntry, entry: ParsedEntry, link: str) -> None:
    """Mark YouTube entries and ``video/*`` enclosures as videos (the site builds the player)."""
    video_id = entry.youtube_id if YOUTUBE_ID.match(entry.youtube_id or "") else youtube_id(link)
    if video_id:
        cleaned.kind, cleaned.video_id = "video", video_id
        if not cleaned.image_url:
            cleaned.image_url = f"https://i.ytimg.com/vi/{video_id}/hqdefault.jpg"
        return
    for enclosure, url in _media_files(cleaned, entry, link):
        if _is_video_file(enclosure, url):
            cleaned.kind, cleaned.video_url = "video", url
            return
    # A post that is a YouTube player and a few lines (a club's match summary, a clinic's
    # exercise of the week) is a video: the site's own player shows it. In a longer
    # article the video is one part of the text, where a link to it stands instead.
    embedded = embedded_youtube_ids(entry.content_html or entry.summary_html)
    if embedded and len(cleaned.body_text) <= VIDEO_POST_TEXT:
        cleaned.kind, cleaned.video_id = "video", embedded[0]
        if not cleaned.image_url:
            cleaned.image_url = f"https://i.ytimg.com/vi/{embedded[0]}/hqdefault.jpg"


def add_audio(cleaned: CleanEntry, entry: ParsedEntry, link: str) -> None:
    """Mark an entry whose enclosure is an ``audio/*`` file (a podcast's episode) as audio."""
    if cleaned.kind != "article":
        return  # a video's player is the entry's player; its sound track is no episode
    for enclosure, url in _media_files(cleaned, entry, link):
        if _is_audio_file(enclosure, url):
            cleaned.kind, cleaned.audio_url = "audio", url
            return


def _media_files(cleaned: CleanEntry, entry: ParsedEntry, link: str) -> list[tuple[Any, str]]:
    """The entry's enclosures (and, beside a short text, Media RSS items) with their
    addresses as a player may load them: absolute http(s), without measurement prefixes
    or tracking parameters, over https."""
    # A Media RSS clip beside a long article (a news site's unrelated video of the day) is
    # an extra, not the story; an enclosure is what the entry is.
    short = len(cleaned.body_text) <= VIDEO_POST_TEXT
    files = []
    for enclosure in [*entry.enclosures, *(entry.media if short else ())]:
        url = safe_url(str(enclosure.get("href") or enclosure.get("url") or ""), link)
        if url and not url.startswith("mailto:"):
            own = without_media_prefixes(url)
            if not names_a_private_machine(own):
                files.append((enclosure, over_https(without_tracking(own))))
    return files


VIDEO_FILE_ENDINGS = (".mp4", ".m4v", ".webm", ".mov")
# At most this much text beside an embedded YouTube player makes a post a video.
VIDEO_POST_TEXT = 1000


def _is_video_file(enclosure: Any, url: str | None) -> bool:
    """Tell whether an enclosure or Media RSS item is a file a <video> element plays."""
    if str(enclosure.get("type", "") or "").startswith("video/"):
        return True
    # Media RSS says medium="video" without a type: trust it for a video file's ending.
    return enclosure.get("medium") == "video" and _path_of(url).endswith(VIDEO_FILE_ENDINGS)


# A radio stream's playlist is "audio/*" too, but an <audio> element plays no playlist:
# such an entry keeps its link to the source instead of a player that cannot start.
PLAYLIST_TYPES = ("audio/x-mpegurl", "audio/mpegurl", "audio/x-scpls", "audio/scpls")
PLAYLIST_ENDINGS = (".m3u", ".m3u8", ".pls")


def _is_audio_file(enclosure: Any, url: str) -> bool:
    """Tell whether an enclosure or Media RSS item is a file an <audio> element plays."""
    mime = str(enclosure.get("type", "") or "").lower().split(";", 1)[0].strip()
    if mime in PLAYLIST_TYPES or _path_of(url).endswith(PLAYLIST_ENDINGS):
        return False
    # "x-audio/mp3": an old podcast's own spelling, still in its feed's early episodes.
    audio = mime.startswith(("audio/", "x-audio/"))
    return audio or (not mime and enclosure.get("medium") == "audio")


def _path_of(url: str | None) -> str:
    """``url`` lower-cased without its query and fragment: what its file ending is read from."""
    return (url or "").lower().split("#", 1)[0].split("?", 1)[0]
