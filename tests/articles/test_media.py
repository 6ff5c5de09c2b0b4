"""Lead images and videos: which picture leads an entry, and which entries are videos."""

from __future__ import annotations

import pytest

from articles.media import credit_line
from articles.urls import youtube_id
from tests.articles.conftest import cleaned, feed_bytes, item, rss


def test_it_takes_the_lead_image_and_credit_from_media_rss():
    entry = cleaned(feed_bytes("media.xml"), 0)
    assert entry.image_url == "https://media.example.com/lead.jpg"
    assert entry.image_credit == "Ana Photo"


def test_a_credit_for_who_published_the_item_is_no_image_credit():
    """Vimeo credits the uploader as the item's "author", beside its thumbnail."""
    extra = (
        '<media:thumbnail url="https://i.vimeocdn.example.com/video/1.jpg"/>'
        '<media:credit role="author" scheme="urn:ebu">Failla Wines</media:credit>'
        '<media:credit role="photographer" scheme="urn:ebu">Ana Photo</media:credit>'
    )
    entry = cleaned(rss(item(1, extra=extra)))
    assert entry.image_url == "https://i.vimeocdn.example.com/video/1.jpg"
    assert entry.image_credit == "Ana Photo"


def test_it_falls_back_to_the_first_inline_image():
    entry = cleaned(feed_bytes("media.xml"), 1)
    assert entry.image_url == "https://media.example.com/relative.jpg"


def test_the_lead_image_is_the_widest_size_the_feed_lists():
    sizes = "".join(
        f'<media:content width="{w}" url="https://img.example.com/walk.jpg?w={w}"/>'
        for w in (140, 460)
    )
    entry = cleaned(rss(item(1, extra=sizes)))
    assert entry.image_url == "https://img.example.com/walk.jpg?w=460"


def test_an_avatar_sized_thumbnail_is_no_lead_image():
    avatar = '<media:thumbnail width="30" height="30" url="https://avatars.example.com/u/1"/>'
    assert cleaned(rss(item(1, extra=avatar))).image_url is None


@pytest.mark.parametrize(
    "chrome",
    [
        '<img src="https://forum.example.com/skins/default/filetype/jpg.gif">',
        '<img src="https://forum.example.com/style_images/img-resized.png">',
        '<img src="https://blog.example.com/me.png" width="40" height="40">',
    ],
    ids=["file-type icon", "forum button", "author avatar"],
)
def test_the_lead_image_skips_icons_before_the_posts_picture(chrome):
    body = f'<p>{chrome} Photos from the walk:</p><img src="https://blog.example.com/walk.jpg">'
    entry = cleaned(rss(item(1, body=body)))
    assert entry.image_url == "https://blog.example.com/walk.jpg"


def test_it_marks_a_video_enclosure_as_a_video():
    entry = cleaned(feed_bytes("media.xml"), 2)
    assert entry.kind == "video" and entry.video_url == "https://media.example.com/clip.mp4"


@pytest.mark.parametrize(
    ("index", "video_id"), [(3, "abcdefghijk"), (4, "ABCDEFGHIJK"), (5, "a1b2c3d4e5f")]
)
def test_it_recognises_youtube_links(index, video_id):
    entry = cleaned(feed_bytes("media.xml"), index)
    assert entry.kind == "video" and entry.video_id == video_id
    assert "<iframe" not in entry.content


def test_it_reads_the_youtube_id_element():
    document = (
        b'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:yt="http://www.youtube.com/xml/schemas/2015">'
        b"<title>YT</title><entry><id>yt:video:Zz9_-Zz9_-A</id><yt:videoId>Zz9_-Zz9_-A</yt:videoId>"
        b'<title>A video</title><link rel="alternate" href="https://www.youtube.com/watch?v=Zz9_-Zz9_-A"/>'
        b"<published>2026-11-20T10:00:00Z</published></entry></feed>"
    )
    assert cleaned(document).video_id == "Zz9_-Zz9_-A"


EMBED = (
    '<iframe width="560" height="315" src="https://www.youtube.com/embed/{}?rel=0" '
    "allowfullscreen></iframe>"
)


def test_a_post_that_is_an_embedded_youtube_player_is_a_video():
    body = "<p>Highlights of Sunday's match.</p>" + EMBED.format("Zz9_-Zz9_-A")
    entry = cleaned(rss(item(1, body=body)))
    assert (entry.kind, entry.video_id) == ("video", "Zz9_-Zz9_-A")
    assert entry.image_url == "https://i.ytimg.com/vi/Zz9_-Zz9_-A/hqdefault.jpg"
    assert "<iframe" not in entry.content


def test_a_long_article_keeps_its_embedded_videos_as_links_in_place():
    text = "<p>" + "Walking strengthens the back. " * 60 + "</p>"
    body = text + EMBED.format("Zz9_-Zz9_-A") + "<p>Try it daily.</p>" + EMBED.format("a1b2c3d4e5f")
    entry = cleaned(rss(item(1, body=body)))
    assert entry.kind == "article" and entry.video_id is None
    watch = "https://www.youtube.com/watch?v="
    assert entry.content.index(f"{watch}Zz9_-Zz9_-A") < entry.content.index("Try it daily")
    assert entry.content.index("Try it daily") < entry.content.index(f"{watch}a1b2c3d4e5f")
    assert "<iframe" not in entry.content and "Watch the video on YouTube" in entry.content


@pytest.mark.parametrize(
    "iframe",
    [
        '<iframe src="https://evil.example/embed/abcdefghijk"></iframe>',
        '<iframe src="https://www.youtube.com.evil.example/embed/abcdefghijk"></iframe>',
    ],
)
def test_an_iframe_that_is_not_a_youtube_player_just_goes(iframe):
    entry = cleaned(rss(item(1, body="<p>Text.</p>" + iframe)))
    assert entry.kind == "article"
    assert "youtube" not in entry.content and "<iframe" not in entry.content


@pytest.mark.parametrize(
    "src",
    [
        "//www.youtube.com/embed/videoseries?list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG",
        "https://www.youtube.com/embed/live_stream?channel=UCabc",
        "https://www.youtube.com/embed/abcdefghijk-toolong",
        "//www.youtube.com/embed/videoseries?list=PL1&amp;t=1:30",
    ],
    ids=["playlist", "live stream", "no video id", "colon and entity"],
)
def test_a_youtube_embed_of_no_single_video_stays_a_link_to_its_player(src):
    entry = cleaned(rss(item(1, body=f'<p>This week.</p><iframe src="{src}"></iframe>')))
    assert (entry.kind, entry.video_id) == ("article", None)
    player = "https:" + src.removeprefix("https:")  # as the attribute wrote it: "&amp;" once
    assert f'<a href="{player}" rel="nofollow noopener ugc">Watch the video on YouTube</a>' in (
        entry.content
    )


def test_a_huge_image_size_in_one_entry_breaks_nothing():
    body = '<p><img src="https://img.example.com/a.jpg" width="' + "9" * 5000 + '"></p>'
    assert cleaned(rss(item(1, body=body))).image_url == "https://img.example.com/a.jpg"


def test_a_picture_under_a_skin_folder_is_a_lead_image():
    body = '<img src="https://derm.example.com/uploads/skin/eczema-hands.jpg" width="800">'
    image = cleaned(rss(item(1, body=body))).image_url
    assert image == "https://derm.example.com/uploads/skin/eczema-hands.jpg"


def test_a_sized_large_lead_image_comes_before_one_without_a_size():
    media = (
        '<media:content url="https://img.example.com/other.jpg"/>'
        '<media:content url="https://img.example.com/full.jpg" width="1200"/>'
    )
    assert cleaned(rss(item(1, extra=media))).image_url == "https://img.example.com/full.jpg"


def test_a_lead_image_without_a_size_comes_before_a_sized_thumbnail():
    media = (
        '<media:content url="https://img.example.com/full.jpg"/>'
        '<media:content url="https://img.example.com/thumb.jpg" width="150" height="150"/>'
    )
    assert cleaned(rss(item(1, extra=media))).image_url == "https://img.example.com/full.jpg"


def test_a_media_item_marked_video_without_a_type_is_a_video():
    media = '<media:content medium="video" url="https://cdn.example.com/clips/walk.mp4?v=2"/>'
    entry = cleaned(rss(item(1, extra=media)))
    assert (entry.kind, entry.video_url) == ("video", "https://cdn.example.com/clips/walk.mp4?v=2")


def test_a_video_file_address_loses_its_tracking_and_asks_for_https():
    clip = "http://media.example.com/clip.mp4?utm_medium=feed&amp;v=2"
    entry = cleaned(rss(item(1, extra=f'<enclosure url="{clip}" type="video/mp4"/>')))
    assert entry.video_url == "https://media.example.com/clip.mp4?v=2"


def test_a_media_item_marked_video_that_is_a_player_page_stays_an_article():
    media = '<media:content medium="video" url="https://vimeo.example.com/123456"/>'
    assert cleaned(rss(item(1, extra=media))).kind == "article"


@pytest.mark.parametrize(
    "url", ["https://evil.example/watch?v=abcdefghijk", "https://youtu.be/short"]
)
def test_it_ignores_lookalike_video_links(url):
    assert youtube_id(url) is None


@pytest.mark.parametrize(
    ("credit", "shown"),
    [
        ("Ana Photo", "Image: Ana Photo"),
        ("Illustration: Priya Natarajan", "Illustration: Priya Natarajan"),
        ("Photograph: Jane Doe/Agency", "Photograph: Jane Doe/Agency"),
        ("AP Photo: Jo Bloggs", "AP Photo: Jo Bloggs"),
        ("Team at 10:30 studio", "Image: Team at 10:30 studio"),
        ("Image courtesy of NASA", "Image courtesy of NASA"),
        ("Photo by Jane Doe", "Photo by Jane Doe"),
        ("Photo : Jane", "Photo : Jane"),
        ("Imagery Ltd", "Image: Imagery Ltd"),
        ("Picture Alliance", "Image: Picture Alliance"),  # an agency's name, not a label
        ("Credit Suisse", "Image: Credit Suisse"),
        ("Photos.com", "Image: Photos.com"),
    ],
)
def test_a_credit_is_labelled_once(credit, shown):
    assert credit_line(credit, "Image") == shown
