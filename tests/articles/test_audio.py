"""Podcast episodes: an audio enclosure plays in the site's own player on the article page."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from articles.models import Article
from articles.refresh import ingest_document
from club.extensions import db
from tests.articles.conftest import item, rss
from tests.conftest import make_article, make_feed

EPISODE = "https://cdn.podcasts.example.com/episodes/42-sleep.mp3"
# As the feed writes it: plain http, a feed marker and a campaign tag on the address.
EPISODE_AS_WRITTEN = (
    "http://cdn.podcasts.example.com/episodes/42-sleep.mp3?source=feed&amp;utm_source=rss"
)


def enclosure(url: str, mime: str = "audio/mpeg") -> str:
    return f'<enclosure url="{url}" type="{mime}" length="38749539"/>'


def ingested_page(client, extra: str) -> tuple[Article, str]:
    """Ingest one episode with ``extra`` in its item; return its article and its page."""
    feed = make_feed(title="Sleep Clinic Podcast", auto_publish=True)
    body = "<p>Show notes: why naps help, with Dr. Ana Lopes.</p>"
    ingest_document(feed, rss(item(1, title="Episode 42: naps", body=body, extra=extra)))
    db.session.commit()
    article = db.session.scalar(sa.select(Article).where(Article.feed_id == feed.id))
    response = client.get(f"/articles/{article.id}")
    assert response.status_code == 200
    return article, response.get_data(as_text=True)


def test_it_plays_an_audio_enclosure_in_the_sites_own_player(client):
    article, html = ingested_page(client, enclosure(EPISODE_AS_WRITTEN))
    assert f'<audio controls preload="none" src="{EPISODE}">' in html
    assert f'<a href="{EPISODE}" rel="nofollow noopener">Download the episode</a>' in html
    assert "Show notes: why naps help" in html
    # Where it came from, in the words of an episode, not of an article.
    assert "Listen on Sleep Clinic Podcast</a>" in html
    assert "Read the original article" not in html
    assert (article.kind, article.audio_url) == ("audio", EPISODE)


def test_it_plays_the_file_a_feedburner_enclosure_stood_for(client):
    proxied = "https://feedproxy.google.com/~r/sleep/~5/cM067ax/42-sleep.mp3"
    original = f"<feedburner:origEnclosureLink>{EPISODE}</feedburner:origEnclosureLink>"
    namespace = ' xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0"'
    feed = make_feed(title="Sleep Clinic Podcast", auto_publish=True)
    episode = item(1, title="Episode 42: naps", extra=enclosure(proxied) + original)
    ingest_document(feed, rss(episode).replace(b"<rss ", f"<rss{namespace} ".encode()))
    db.session.commit()
    article = db.session.scalar(sa.select(Article).where(Article.feed_id == feed.id))
    assert (article.kind, article.audio_url) == ("audio", EPISODE)  # not the dead redirect


@pytest.mark.parametrize(
    "measured",
    [
        "https://dts.podtrac.com/redirect.mp3/cdn.podcasts.example.com/episodes/42-sleep.mp3",
        "https://www.podtrac.com/pts/redirect.mp3/cdn.podcasts.example.com/episodes/42-sleep.mp3",
        # Chained, as hosts stack their measurement services.
        "https://chtbl.com/track/7791D/dts.podtrac.com/redirect.mp3/"
        "cdn.podcasts.example.com/episodes/42-sleep.mp3",
        "https://pdst.fm/e/https://cdn.podcasts.example.com/episodes/42-sleep.mp3",
        "https://op3.dev/e,pg=9b024349/cdn.podcasts.example.com/episodes/42-sleep.mp3",
    ],
)
def test_the_player_loads_the_episode_itself_not_through_a_listener_counter(client, measured):
    """Such prefixes are told of every listener the player brings them, as tracking pixels
    are of every reader; the episode's own address follows them."""
    article, html = ingested_page(client, enclosure(measured))
    assert article.audio_url == EPISODE
    assert "podtrac" not in html and "chtbl" not in html and "op3.dev" not in html


@pytest.mark.parametrize(
    "media",
    [
        f'<media:content url="{EPISODE}" medium="audio"/>',
        f'<media:content url="{EPISODE}" type="audio/mp4" fileSize="1000"/>',
    ],
    ids=["medium", "type"],
)
def test_it_plays_a_media_rss_audio_item(client, media):
    _, html = ingested_page(client, media)
    assert f'<audio controls preload="none" src="{EPISODE}">' in html


def test_it_plays_an_enclosure_of_the_old_x_audio_type(client):
    _, html = ingested_page(client, enclosure(EPISODE, "x-audio/mp3"))
    assert f'<audio controls preload="none" src="{EPISODE}">' in html


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)//.mp3",
        "data:audio/mpeg;base64,SUQzBAAAAAAAI1RTU0UAAAAPAAADTGF2ZjU4Ljc2LjEwMAAAAAAA",
        "ftp://files.example.com/42-sleep.mp3",
    ],
    ids=["javascript", "data", "ftp"],
)
def test_an_enclosure_that_is_no_web_address_gives_no_player(client, url):
    article, html = ingested_page(client, enclosure(url))
    assert "<audio" not in html and url not in html
    assert (article.kind, article.audio_url) == ("article", None)
    assert "Read the original article on Sleep Clinic Podcast" in html


@pytest.mark.parametrize(
    ("url", "mime"),
    [
        ("https://radio.example.com/live.m3u", "audio/x-mpegurl"),
        ("https://radio.example.com/live", "audio/mpegurl"),
        ("https://radio.example.com/live.pls", "audio/x-scpls"),
        ("https://radio.example.com/live.m3u8?listener=feed", "audio/mpeg"),
    ],
    ids=["m3u", "mpegurl-type", "pls", "m3u8-ending"],
)
def test_a_stream_playlist_gives_no_player_that_cannot_play_it(client, url, mime):
    """Browsers' <audio> plays files, not playlists: the entry links to its source."""
    article, html = ingested_page(client, enclosure(url, mime))
    assert "<audio" not in html
    assert (article.kind, article.audio_url) == ("article", None)
    assert "Read the original article on Sleep Clinic Podcast" in html


def test_a_video_enclosure_still_plays_in_the_video_player(client):
    clip = "https://media.example.com/clip.mp4"
    article, html = ingested_page(client, enclosure(clip, "video/mp4") + enclosure(EPISODE))
    assert f'<video controls preload="metadata" src="{clip}"' in html
    assert "<audio" not in html
    assert (article.kind, article.video_url, article.audio_url) == ("video", clip, None)


def test_an_episode_is_marked_audio_on_the_home_page_and_stays_off_the_videos_page(client):
    ingested_page(client, enclosure(EPISODE))
    home = client.get("/").get_data(as_text=True)
    assert '<span class="pill pill-media">Audio</span>' in home and "Episode 42: naps" in home
    assert "Episode 42: naps" not in client.get("/videos").get_data(as_text=True)
    found = client.get("/search", query_string={"q": "naps"}).get_data(as_text=True)
    assert ' · <span class="pill pill-media">Audio</span>' in found


def test_a_later_fetch_gives_an_episode_stored_as_an_article_its_player(app):
    feed = make_feed(auto_publish=True)
    ingest_document(feed, rss(item(1)))
    summary = ingest_document(feed, rss(item(1, extra=enclosure(EPISODE))))
    assert summary.updated == 1
    article = db.session.scalar(sa.select(Article).where(Article.feed_id == feed.id))
    assert (article.kind, article.audio_url) == ("audio", EPISODE)


@pytest.mark.parametrize(("kind", "badge"), [("audio", "Audio"), ("video", "Video")])
def test_the_review_queue_says_an_article_is_an_episode_or_a_video(admin_client, kind, badge):
    make_article(title="Waiting", status="pending", kind=kind)
    html = admin_client.get("/admin/articles/").get_data(as_text=True)
    assert f'<span class="pill pill-media">{badge}</span>' in html


ITUNES = 'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '


def ingest_episodes(*items: str) -> list[Article]:
    """Ingest podcast ``items`` (iTunes namespace declared); return what was stored."""
    feed = make_feed(title="Sleep Clinic Podcast", auto_publish=True)
    document = rss(*items).replace(b"<rss ", f"<rss {ITUNES}".encode())
    ingest_document(feed, document)
    db.session.commit()
    return list(db.session.scalars(sa.select(Article).order_by(Article.id)))


def test_show_notes_given_as_text_and_as_html_are_shown_once(client):
    """Podcast hosts write the notes plainly (<itunes:summary>, <description>) and as HTML
    (<content:encoded>); feedparser keeps both as content."""
    notes = "Why naps help, with Dr. Ana Lopes."
    [episode] = ingest_episodes(
        "<item><title>Episode 42</title><link>https://podcast.example.com/42</link>"
        f"<itunes:summary>{notes}</itunes:summary><description>{notes}</description>"
        f"<content:encoded><![CDATA[<p>{notes}</p><p>Music: Disparition</p>]]></content:encoded>"
        f"{enclosure(EPISODE)}</item>"
    )

    html = client.get(f"/articles/{episode.id}").get_data(as_text=True)
    body = html.split('<div class="article-body"', 1)[1].split("</div>", 1)[0]
    assert body.count("Why naps help") == 1
    assert "<p>Music: Disparition</p>" in body


def test_episodes_without_a_link_are_kept_at_their_audio_files(client):
    """RSS 0.92 items may carry only text and the episode (Scripting News' Grateful Dead
    feed): each is an episode of its own, not skipped."""
    episodes = ingest_episodes(
        *(
            f"<item><description>The Other One, take {n}.</description>"
            f"{enclosure(f'http://audio.example.com/other-one-{n}.mp3')}</item>"
            for n in (1, 2)
        )
    )

    assert [(e.url, e.kind) for e in episodes] == [
        (f"http://audio.example.com/other-one-{n}.mp3", "audio") for n in (1, 2)
    ]


def test_a_guid_with_a_stray_quote_is_no_link_on_the_feeds_own_site(client):
    """'"http://…' is not a path on the feed's site: the episode's own file says where it is."""
    [episode] = ingest_episodes(
        "<item><title>April show</title><link>https://podcast.example.com/</link>"
        '<guid>"http://cdn.example.com/april.mp3</guid>'
        f"{enclosure('https://cdn.example.com/april.mp3')}</item>"
    )

    assert episode.url == "https://cdn.example.com/april.mp3"
