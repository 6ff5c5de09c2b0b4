"""Adding a feed under /admin/feeds/new: the preview says what Save will import.

Older add-feed tests are in test_admin.py.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta
from email.utils import format_datetime

import pytest
import sqlalchemy as sa

from articles import curation
from articles.models import Article, Feed, Tombstone
from club.clock import utcnow
from club.extensions import db
from tests.articles.conftest import item, rss
from tests.conftest import make_article, make_feed


def days_ago(days: int) -> str:
    """An RSS date ``days`` before now."""
    return format_datetime(utcnow() - timedelta(days=days))


def preview(admin_client, url: str) -> str:
    response = admin_client.submit(
        "/admin/feeds/new", {"url": url, "interval_minutes": 30, "action": "preview"}
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def entry_line(html: str, title: str) -> str:
    """The preview's list item for the entry called ``title``."""
    return re.search(rf"<li><strong>{re.escape(title)}</strong>.*?</li>", html).group(0)


def test_the_preview_marks_each_entry_save_will_not_import_and_why(
    allow_local_feeds, admin_client, feed_server
):
    curation.add_rule("block", "diabetes", None)
    db.session.add(
        Tombstone(guid="elsewhere", url="https://source.example.com/posts/3", reason="rejected")
    )
    db.session.commit()
    url = feed_server.route(
        "/feed.xml",
        body=rss(
            item(1, title="Walking helps", date=days_ago(1)),
            item(2, title="Sleep and diabetes", date=days_ago(2)),
            item(3, title="Rejected once", date=days_ago(3)),
            item(4, title="An old post", date=days_ago(45)),
        ),
    )

    html = preview(admin_client, url)

    assert "not imported" not in entry_line(html, "Walking helps")
    assert "blocked by the rule \u201cdiabetes\u201d: not imported" in entry_line(
        html, "Sleep and diabetes"
    )
    assert "removed by an admin before: not imported" in entry_line(html, "Rejected once")
    assert "older than 30 days: not imported" in entry_line(html, "An old post")


def test_the_preview_marks_a_story_another_feed_has_already(
    allow_local_feeds, admin_client, feed_server
):
    """Saved, such a feed would store nothing of it ("already on the site from another
    source"); a removed source's article is taken back instead, so it is not marked."""
    make_article(make_feed(title="Other source"), url="https://source.example.com/posts/1")
    orphan = make_article(make_feed(), url="https://source.example.com/posts/2")
    orphan.feed_id = None
    db.session.commit()
    url = feed_server.route(
        "/feed.xml",
        body=rss(item(1, title="Told elsewhere", date=days_ago(1)),
                 item(2, title="Left by its source", date=days_ago(2))),
    )  # fmt: skip

    html = preview(admin_client, url)

    assert "already on the site from another source: not imported" in entry_line(
        html, "Told elsewhere"
    )
    assert "not imported" not in entry_line(html, "Left by its source")


def test_the_preview_applies_only_the_rules_for_every_feed(
    allow_local_feeds, admin_client, feed_server
):
    other = curation.create_feed("https://other.example.com/feed.xml")
    curation.add_rule("block", "diabetes", other.id)
    db.session.commit()
    url = feed_server.route("/feed.xml", body=rss(item(1, title="Sleep and diabetes")))

    assert "not imported" not in preview(admin_client, url)


def test_saving_says_what_the_first_fetch_stored_when_it_ran_at_once(
    allow_local_feeds, admin_client, feed_server
):
    # No Redis: the first fetch runs during the click, so the page can say how it went.
    url = feed_server.route(
        "/feed.xml", body=rss(item(1, date=days_ago(40)), title="Server Source")
    )
    fields = {"url": url, "interval_minutes": 30, "previewed": url, "action": "save"}

    response = admin_client.submit("/admin/feeds/new", fields, follow_redirects=True)

    page = response.get_data(as_text=True)
    assert "Added Server Source. Refreshed Server Source: 0 new" in page
    assert "being fetched" not in page
    assert db.session.scalar(sa.select(sa.func.count(Article.id))) == 0


@pytest.mark.parametrize(
    ("typed", "address"),
    [
        # A path may start with "//": it is a path, not a host name.
        (
            "https://www.example.org//blog/health/feed.xml",
            "https://www.example.org//blog/health/feed.xml",
        ),
        ("https://example.com//feed/", "https://example.com//feed/"),
        ("https://Example.com/a/./b/../feed.xml", "https://example.com/a/feed.xml"),
        ("https://example.com/news/..", "https://example.com/"),
        ("https://example.com/a//../b.xml", "https://example.com/a/b.xml"),
        # One host, two spellings: its own script or punycode.
        ("http://例子.测试/feed", "http://xn--fsqu00a.xn--0zwm56d/feed"),
        ("http://例子.测试:8080/feed", "http://xn--fsqu00a.xn--0zwm56d:8080/feed"),
        # A fully qualified name's final dot names the same host.
        (
            "https://kitchen-table.example.net./feed.atom",
            "https://kitchen-table.example.net/feed.atom",
        ),
        ("https://Example.com.:443/feed", "https://example.com/feed"),
        ("https://example.com\u3002/rss", "https://example.com/rss"),  # ideographic full stop
    ],
)
def test_it_writes_a_feed_address_one_way_and_keeps_its_path(typed, address):
    assert curation.feed_address(typed) == address


def test_it_adds_a_feed_whose_path_starts_with_two_slashes(
    allow_local_feeds, admin_client, feed_server
):
    url = feed_server.route("//blog/feed.xml", body=rss(item(1, title="Double slash entry")))
    assert "//blog/feed.xml" in url
    assert "Double slash entry" in preview(admin_client, url)
    fields = {"url": url, "interval_minutes": 30, "action": "save", "previewed": url}
    saved = admin_client.submit("/admin/feeds/new", fields)
    assert saved.status_code == 302
    assert db.session.scalar(sa.select(Feed.url)) == url


def test_it_refuses_a_feed_it_has_under_its_hosts_other_spelling(admin_client):
    curation.create_feed("http://例子.测试/feed", title="Example Source")
    db.session.commit()
    html = admin_client.submit(
        "/admin/feeds/new",
        {"url": "http://xn--fsqu00a.xn--0zwm56d/feed", "interval_minutes": 30, "action": "save"},
    ).get_data(as_text=True)
    assert "The site already has this feed: Example Source." in html
    assert db.session.scalar(sa.select(sa.func.count(Feed.id))) == 1


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("https://example.com./feed.xml", "The site already has this feed: Example Source."),
        ("feeds.example.com/rss", "Enter a web address starting with http:// or https://"),
        ("https://exa mple.com/rss", "Enter a valid web address: 'exa mple.com' is not a valid"),
        (
            "http://[::1/feed.xml",
            "Enter a valid web address: the square brackets around its host do not hold",
        ),
        ("https://[example.com]/rss", "Enter a valid web address: the square brackets"),
        ("https://example.com\uff0ffeed.xml", "its host holds a full-width '/', ':'"),
        ("https://example.com\uff1a8080/feed", "its host holds a full-width '/', ':'"),
        ("https://example.com\uff0ffeed.xml?tags=[health]", "its host holds a full-width"),
        ("https://[2001:db8::1]\uff1a8080/feed", "its host holds a full-width"),
        ("https://[NFKC]/feed", "Enter a valid web address: the square brackets"),
    ],
)
def test_the_add_form_reads_a_fully_qualified_name_and_says_what_is_wrong(
    admin_client, typed, said
):
    curation.create_feed("https://example.com/feed.xml", title="Example Source")
    db.session.commit()
    page = admin_client.submit(
        "/admin/feeds/new", {"url": typed, "interval_minutes": 30, "action": "preview"}
    ).get_data(as_text=True)
    assert said in html.unescape(page)
    assert db.session.scalar(sa.select(sa.func.count(Feed.id))) == 1


def site_page(*feeds: str) -> bytes:
    """A web page that advertises ``feeds`` (paths) in its head, in that order."""
    links = "".join(
        f'<link rel="alternate" type="application/rss+xml" href="{path}">' for path in feeds
    )
    return f"<!DOCTYPE html><html><head>{links}</head><body><p>A site.</p></body></html>".encode()


def test_a_sites_address_finds_its_feed_the_site_does_not_have_yet(
    allow_local_feeds, admin_client, feed_server
):
    news = feed_server.route("/news.xml", body=rss(item(1, title="News entry")))
    feed_server.route("/videos.xml", body=rss(item(2, title="Video entry")))
    html_page = {"Content-Type": "text/html"}
    site = feed_server.route("/", body=site_page("/news.xml", "/videos.xml"), headers=html_page)
    curation.create_feed(news, title="Site news")
    db.session.commit()

    html = preview(admin_client, site)

    assert "Video entry" in html and "already has this feed" not in html
    # The admin sees which feed was passed over, and why, to pick it instead if meant.
    assert "The site's page advertises other feeds too" in html
    assert f"<li>{news} (already on the site: Site news)</li>" in html


def test_a_site_advertising_one_feed_names_no_others(allow_local_feeds, admin_client, feed_server):
    feed_server.route("/news.xml", body=rss(item(1, title="News entry")))
    html_page = {"Content-Type": "text/html"}
    site = feed_server.route("/", body=site_page("/news.xml"), headers=html_page)

    html = preview(admin_client, site)

    assert "News entry" in html and "advertises other feeds" not in html


def test_a_sites_advertised_feed_that_fails_is_named_with_its_error(
    allow_local_feeds, admin_client, feed_server
):
    html_page = {"Content-Type": "text/html"}
    site = feed_server.route("/", body=site_page("/missing.xml"), headers=html_page)

    response = admin_client.submit(
        "/admin/feeds/new", {"url": site, "interval_minutes": 30, "action": "preview"}
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert feed_server.url("/missing.xml") in html and "404" in html


@pytest.mark.parametrize("status", [302, 307])
def test_a_feed_redirected_for_now_is_saved_at_the_address_typed(
    allow_local_feeds, admin_client, feed_server, status
):
    """A temporary redirect's target (a CDN's signed link) may be gone tomorrow."""
    feed_server.route("/cdn/feed.xml?sig=abc", body=rss(item(1), title="Moving Source"))
    url = feed_server.route(
        "/feed.xml", status=status, headers={"Location": "/cdn/feed.xml?sig=abc"}
    )
    assert "Moving Source" in preview(admin_client, url)
    fields = {"url": url, "interval_minutes": 30, "action": "save", "previewed": url}
    assert admin_client.submit("/admin/feeds/new", fields).status_code == 302
    assert db.session.scalar(sa.select(Feed.url)) == url


def test_a_feed_moved_for_good_is_saved_at_its_new_address(
    allow_local_feeds, admin_client, feed_server
):
    feed_server.route("/new/feed.xml", body=rss(item(1), title="Moved Source"))
    url = feed_server.route("/feed.xml", status=301, headers={"Location": "/new/feed.xml"})
    moved = feed_server.url("/new/feed.xml")
    assert "Moved Source" in preview(admin_client, url)
    fields = {"url": url, "interval_minutes": 30, "action": "save", "previewed": moved}
    assert admin_client.submit("/admin/feeds/new", fields).status_code == 302
    assert db.session.scalar(sa.select(Feed.url)) == moved


def test_an_address_redirected_for_now_to_one_of_the_sites_feeds_is_refused(
    allow_local_feeds, admin_client, feed_server
):
    """Saved at the address typed, it would still be a second copy of a feed the site has."""
    known = feed_server.route("/feed.xml", body=rss(item(1), title="Known Source"))
    curation.create_feed(known, title="Known Source")
    db.session.commit()
    url = feed_server.route("/latest", status=302, headers={"Location": "/feed.xml"})

    for action in ("preview", "save"):
        fields = {"url": url, "interval_minutes": 30, "action": action, "previewed": url}
        html = admin_client.submit("/admin/feeds/new", fields).get_data(as_text=True)
        assert "The site already has this feed: Known Source." in html
    assert db.session.scalar(sa.select(sa.func.count(Feed.id))) == 1


def test_a_feed_sent_to_its_own_https_address_for_now_is_saved_at_https(
    allow_local_feeds, admin_client, feed_server, tls_feed_server
):
    """Kept on http, every refresh would start where anyone on the way can redirect it."""
    secure = tls_feed_server.route("/feed.xml", body=rss(item(1), title="Secure Source"))
    url = feed_server.route("/feed.xml", status=302, headers={"Location": secure})
    assert "Secure Source" in preview(admin_client, url)
    fields = {"url": url, "interval_minutes": 30, "action": "save", "previewed": secure}
    assert admin_client.submit("/admin/feeds/new", fields).status_code == 302
    assert db.session.scalar(sa.select(Feed.url)) == secure
