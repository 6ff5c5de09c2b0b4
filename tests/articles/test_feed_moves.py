"""A feed whose source moves it: which redirects change the address it is fetched from."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from articles import refresh
from articles.models import Feed
from club.extensions import db
from club.models import AuditEntry
from tests.articles.conftest import FeedServer, item, rss
from tests.conftest import make_feed


def moved_feed(server: FeedServer, status: int, *, target: str = "/new/feed.xml") -> Feed:
    """A feed at /old/feed.xml that the source now answers with a ``status`` redirect."""
    server.route("/new/feed.xml", body=rss(item(1)))
    return make_feed(url=server.route("/old/feed.xml", status=status, headers={"Location": target}))


def audit_rows(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


@pytest.mark.parametrize("status", [301, 308])
def test_a_feed_moved_permanently_is_fetched_from_its_new_address(
    app, tls_feed_server, allow_local_feeds, status
):
    feed = moved_feed(tls_feed_server, status)
    old_url = feed.url

    assert refresh.refresh_feed(feed.id).summary.new == 1
    refresh.refresh_feed(feed.id, force=True)

    assert db.session.get(Feed, feed.id).url == tls_feed_server.url("/new/feed.xml")
    assert tls_feed_server.hits("/old/feed.xml") == 1  # the second fetch went straight there
    assert tls_feed_server.hits("/new/feed.xml") == 2
    (moved,) = audit_rows("feed.moved")
    assert moved.actor_id is None and moved.target_id == str(feed.id)
    assert moved.detail == f"{old_url} → {tls_feed_server.url('/new/feed.xml')}"


@pytest.mark.parametrize("status", [302, 303, 307])
def test_a_feed_redirected_for_now_keeps_its_address(
    app, tls_feed_server, allow_local_feeds, status
):
    feed = moved_feed(tls_feed_server, status)
    old_url = feed.url

    assert refresh.refresh_feed(feed.id).summary.new == 1

    assert db.session.get(Feed, feed.id).url == old_url
    assert audit_rows("feed.moved") == []


def test_a_permanent_redirect_through_a_temporary_one_is_a_detour(
    app, tls_feed_server, allow_local_feeds
):
    feed = moved_feed(tls_feed_server, 301, target="/detour")
    tls_feed_server.route("/detour", status=302, headers={"Location": "/new/feed.xml"})
    old_url = feed.url

    assert refresh.refresh_feed(feed.id).summary.new == 1

    assert db.session.get(Feed, feed.id).url == old_url


def test_a_chain_of_permanent_redirects_moves_the_feed_to_its_end(
    app, tls_feed_server, allow_local_feeds
):
    feed = moved_feed(tls_feed_server, 301, target="/between")
    tls_feed_server.route("/between", status=308, headers={"Location": "/new/feed.xml"})

    refresh.refresh_feed(feed.id)

    assert db.session.get(Feed, feed.id).url == tls_feed_server.url("/new/feed.xml")


def test_a_permanent_redirect_to_something_that_is_no_feed_is_not_followed(
    app, tls_feed_server, allow_local_feeds
):
    """A domain that lapsed answers every address with a 301 to its parking page."""
    tls_feed_server.route("/parked", body=b"<html><body>This domain is for sale</body></html>")
    feed = make_feed(
        url=tls_feed_server.route("/old/feed.xml", status=301, headers={"Location": "/parked"})
    )
    old_url = feed.url

    assert refresh.refresh_feed(feed.id).outcome == "error"

    assert db.session.get(Feed, feed.id).url == old_url
    assert audit_rows("feed.moved") == []


def test_a_feed_moved_onto_another_of_the_sites_feeds_stays_and_says_so(
    app, tls_feed_server, allow_local_feeds
):
    feed = moved_feed(tls_feed_server, 301)
    old_url = feed.url
    make_feed(url=tls_feed_server.url("/new/feed.xml"), title="Walking Weekly")

    assert refresh.refresh_feed(feed.id).outcome == "stored"
    refresh.refresh_feed(feed.id, force=True)

    stored = db.session.get(Feed, feed.id)
    assert stored.url == old_url
    assert stored.parse_warning == (
        f"the source moved this feed permanently to {tls_feed_server.url('/new/feed.xml')}, "
        "which is already the site's feed Walking Weekly"
    )
    assert audit_rows("feed.moved") == []


def test_a_feed_moved_permanently_is_followed_when_nothing_changed(
    app, tls_feed_server, allow_local_feeds
):
    """The new address answered "not modified": it serves the document already stored."""
    tls_feed_server.route("/new/feed.xml", body=rss(item(1)), etag='"v1"')
    feed = make_feed(url=tls_feed_server.url("/new/feed.xml"))
    refresh.refresh_feed(feed.id)
    tls_feed_server.route("/old/feed.xml", status=301, headers={"Location": "/new/feed.xml"})
    db.session.get(Feed, feed.id).url = tls_feed_server.url("/old/feed.xml")
    db.session.commit()

    assert refresh.refresh_feed(feed.id, force=True).outcome == "not_modified"

    assert db.session.get(Feed, feed.id).url == tls_feed_server.url("/new/feed.xml")


def test_a_feed_moved_to_an_address_too_long_to_keep_stays_where_it_is(
    app, tls_feed_server, allow_local_feeds
):
    """The feed's address holds 2,048 characters: a longer new one is not kept (on
    PostgreSQL it failed the whole refresh, every time), and the redirect still works."""
    target = "/new/feed.xml?" + "a" * 2100
    tls_feed_server.route(target, body=rss(item(1)))
    feed = make_feed(
        url=tls_feed_server.route("/old/feed.xml", status=301, headers={"Location": target})
    )
    old_url = feed.url

    assert refresh.refresh_feed(feed.id).summary.new == 1

    stored = db.session.get(Feed, feed.id)
    assert stored.url == old_url
    assert stored.parse_warning == (
        "the source moved this feed permanently to "
        f"{tls_feed_server.url(target)[:199]}…, an address too long to keep: not followed"
    )
    assert audit_rows("feed.moved") == []


def test_a_feed_on_plain_http_moved_to_another_plain_address_keeps_its_own(
    app, feed_server, allow_local_feeds
):
    """Anyone on the way can answer plain http with a 301: a move would make it theirs."""
    feed = moved_feed(feed_server, 301)
    old_url = feed.url

    assert refresh.refresh_feed(feed.id).summary.new == 1
    refresh.refresh_feed(feed.id, force=True)  # said once, however often it is fetched

    stored = db.session.get(Feed, feed.id)
    assert stored.url == old_url
    assert stored.parse_warning == (
        f"the source moved this feed permanently to {feed_server.url('/new/feed.xml')}, "
        "but over plain http anyone on the way could have said so: not followed"
    )
    assert audit_rows("feed.moved") == []


def test_a_feed_on_plain_http_moved_to_https_on_its_host_is_fetched_there(
    app, feed_server, tls_feed_server, allow_local_feeds
):
    tls_feed_server.route("/feed.xml", body=rss(item(1)))
    new_url = tls_feed_server.url("/feed.xml")
    feed = make_feed(url=feed_server.route("/feed.xml", status=301, headers={"Location": new_url}))

    assert refresh.refresh_feed(feed.id).summary.new == 1

    assert db.session.get(Feed, feed.id).url == new_url


@pytest.mark.parametrize(
    ("old", "new", "trusted"),
    [
        ("https://a.example/feed", "https://b.example/rss", True),
        ("https://a.example/feed", "http://a.example/feed", True),  # the fetcher refuses it
        ("http://a.example/feed", "https://a.example/feed/", True),
        ("http://a.example/feed", "https://www.a.example/feed", True),
        ("http://www.a.example/feed", "https://A.example./feed", True),
        ("http://a.example/feed", "http://a.example/rss", False),
        ("http://a.example/feed", "https://b.example/feed", False),
        ("http://a.example/feed", "https://a.example.evil.example/feed", False),
    ],
)
def test_a_move_over_plain_http_is_trusted_only_as_an_upgrade_to_https(old, new, trusted):
    assert refresh.is_trustworthy_move(old, new) is trusted
