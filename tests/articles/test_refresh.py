"""Refreshing feeds end to end against the local server: outcomes, health and scheduling."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from articles import fetch, refresh
from articles.models import Article, Feed, FetchSlot
from club.clock import utcnow
from club.extensions import db
from tests.articles.conftest import feed_bytes, item, rss
from tests.conftest import is_postgres, make_article, make_feed, settle, table_fingerprint

# What every refused destination reads, whatever refused it.
REFUSED = (
    "not an address feeds may be fetched from "
    "(public web addresses only, on the usual ports, without a user name or password)"
)


def article_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Article.id)))


def refresh_when_due(feed_id: int) -> refresh.RefreshResult:
    """Refresh once the feed's next fetch time has come, as the periodic pass does."""
    db.session.get(Feed, feed_id).next_fetch_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    return refresh.refresh_feed(feed_id)


def test_it_refuses_a_feed_on_the_local_server_by_default(app, feed_server):
    feed = make_feed(url=feed_server.route("/feed.xml", body=rss(item(1))))
    result = refresh.refresh_feed(feed.id)
    assert result.outcome == "error" and result.error == REFUSED
    assert feed_server.hits() == 0
    assert db.session.get(Feed, feed.id).last_error == REFUSED


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1/feed.xml"]
)
def test_it_records_a_clear_error_for_internal_feed_urls(app, url):
    feed = make_feed(url=url)
    refresh.refresh_feed(feed.id)
    assert db.session.get(Feed, feed.id).last_error == REFUSED


def test_it_records_an_error_for_an_address_it_cannot_send_to(app):
    feed = make_feed(url="http://0177.0.0.1/feed.xml")  # octal loopback, refused by httpx
    assert refresh.refresh_feed(feed.id).outcome == "error"
    stored = db.session.get(Feed, feed.id)
    assert stored.last_error == "the address is not a valid URL"
    assert stored.consecutive_errors == 1 and stored.next_fetch_at > utcnow()


@pytest.mark.parametrize("target", ["http://169.254.169.254/", "http://127.0.0.2/feed.xml"])
def test_it_refuses_a_redirect_to_an_internal_address(app, feed_server, target):
    # Trust exactly the test server's address, so the first hop is allowed and the
    # redirect is what the guard must stop.
    app.config["FEEDS_TRUSTED_ADDRESSES"] = ["127.0.0.1"]
    feed = make_feed(url=feed_server.route("/hop", status=302, headers={"Location": target}))
    assert refresh.refresh_feed(feed.id).error == REFUSED
    assert feed_server.hits("/hop") == 1


def test_it_stores_a_feeds_entries_and_records_success(allow_local_feeds, feed_server):
    feed = make_feed(url=feed_server.route("/feed.xml", body=rss(item(1), item(2)), etag='"a"'))
    result = refresh.refresh_feed(feed.id)
    feed = db.session.get(Feed, feed.id)
    assert result.outcome == "stored" and result.summary.new == 2
    assert feed.etag == '"a"' and feed.last_error is None and feed.fetch_count == 1
    assert feed.next_fetch_at > utcnow() + timedelta(minutes=29)


def test_it_changes_nothing_on_304(allow_local_feeds, feed_server):
    feed = make_feed(url=feed_server.route("/feed.xml", body=rss(item(1)), etag='"a"'))
    refresh.refresh_feed(feed.id)
    db.session.get(Feed, feed.id).next_fetch_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    before = table_fingerprint()
    result = refresh.refresh_feed(feed.id)
    after = table_fingerprint()
    assert result.outcome == "not_modified"
    assert before["articles"] == after["articles"]
    assert feed_server.requests[-1][1]["If-None-Match"] == '"a"'


def test_it_keeps_no_validator_it_could_not_send_back(allow_local_feeds, feed_server):
    # httpx refuses to send "é" or a no-break space in a header: kept, such a validator
    # made every later fetch of the feed fail before it began, with nothing recorded.
    headers = {"ETag": '"caf\u00e9"', "Last-Modified": "Mon, 23 Nov 2026 08:00:00 GMT\u00a0"}
    feed = make_feed(url=feed_server.route("/feed.xml", body=rss(item(1)), headers=headers))
    assert refresh.refresh_feed(feed.id).outcome == "stored"
    stored = db.session.get(Feed, feed.id)
    assert (stored.etag, stored.last_modified) == (None, None)

    assert refresh_when_due(feed.id).outcome == "stored"
    assert feed_server.hits() == 2


def test_it_does_not_send_back_a_validator_stored_before(allow_local_feeds, feed_server):
    url = feed_server.route("/feed.xml", body=rss(item(1)))
    feed = make_feed(url=url, etag='"caf\u00e9"', last_modified="Mon, 23 Nov 2026\u00a0")
    assert refresh.refresh_feed(feed.id).outcome == "stored"
    sent = feed_server.requests[-1][1]
    assert "If-None-Match" not in sent and "If-Modified-Since" not in sent


def test_it_records_and_backs_off_an_unexpected_failure_to_fetch(app, monkeypatch):
    # Fault injection: whatever the fetch step raises, the feed is not retried every minute.
    def broken(*args, **kwargs):
        raise UnicodeEncodeError("ascii", "\u00e9", 0, 1, "ordinal not in range")

    monkeypatch.setattr(refresh.fetch, "fetch_url", broken)
    feed = make_feed(url="https://feeds.example.com/feed.xml")
    result = refresh.refresh_feed(feed.id)
    stored = db.session.get(Feed, feed.id)
    assert result.outcome == "error"
    assert stored.last_error == "could not fetch (UnicodeEncodeError)"
    assert stored.consecutive_errors == 1 and stored.next_fetch_at > utcnow()


@pytest.mark.parametrize(
    ("route", "error"),
    [
        ({"status": 404}, "error (404)"),
        ({"status": 500}, "error (500)"),
        ({"body": feed_bytes("html_page.html")}, "not a feed: it is a web page"),
        ({"body": b""}, "empty document"),
        # Cut off, or garbage after the first tags: nothing to read is not a success.
        (
            {"body": b"<rss><channel><title>News \x00\xff\xfe garbage"},
            "ill-formed feed with nothing to read",
        ),
        ({"stream_bytes": 50 * 1024 * 1024}, "feed too large"),
    ],
)
def test_it_records_a_clear_error_and_writes_nothing(allow_local_feeds, feed_server, route, error):
    feed = make_feed(url=feed_server.route("/feed.xml", **route))
    result = refresh.refresh_feed(feed.id)
    feed = db.session.get(Feed, feed.id)
    assert result.outcome == "error" and error in feed.last_error
    assert feed.consecutive_errors == 1 and article_count() == 0


def test_it_leaves_other_feeds_unaffected_by_a_broken_one(allow_local_feeds, feed_server):
    bad = make_feed(url=feed_server.route("/bad.xml", body=feed_bytes("html_page.html")))
    good = make_feed(url=feed_server.route("/good.xml", body=rss(item(1))))
    outcomes = [refresh.refresh_feed(f.id).outcome for f in (bad, good)]
    assert outcomes == ["error", "stored"] and article_count() == 1


def test_it_ingests_hostile_feeds_without_anything_executable(allow_local_feeds, feed_server):
    feed = make_feed(url=feed_server.route("/x.xml", body=feed_bytes("script_onerror.xml")))
    assert refresh.refresh_feed(feed.id).outcome == "stored"
    content = db.session.scalar(sa.select(Article.content))
    assert "<script" not in content and "onerror" not in content


def test_it_backs_off_exponentially_up_to_a_day(allow_local_feeds, feed_server):
    feed = make_feed(url=feed_server.route("/feed.xml", status=500))
    waits = []
    for _ in range(8):
        refresh_when_due(feed.id)
        feed = db.session.get(Feed, feed.id)
        waits.append(round((feed.next_fetch_at - feed.last_fetched_at).total_seconds() / 60))
    assert waits[:4] == [30, 60, 120, 240]
    assert waits[-1] == 24 * 60
    assert feed.status == "failing"


def test_it_honours_retry_after(allow_local_feeds, feed_server):
    url = feed_server.route("/feed.xml", status=429, headers={"Retry-After": "7200"})
    feed = make_feed(url=url)
    refresh.refresh_feed(feed.id)
    feed = db.session.get(Feed, feed.id)
    assert feed.next_fetch_at - feed.last_fetched_at == timedelta(hours=2)


def test_it_pauses_a_feed_that_is_gone(allow_local_feeds, feed_server):
    feed = make_feed(url=feed_server.route("/feed.xml", status=410))
    refresh.refresh_feed(feed.id)
    feed = db.session.get(Feed, feed.id)
    assert feed.status == "paused" and "gone" in feed.last_error


def test_it_recovers_to_active_after_a_success(allow_local_feeds, feed_server):
    feed = make_feed(url=feed_server.route("/feed.xml", status=500))
    for _ in range(3):
        refresh_when_due(feed.id)
    feed_server.route("/feed.xml", body=rss(item(1)))
    refresh_when_due(feed.id)
    feed = db.session.get(Feed, feed.id)
    assert feed.status == "active" and feed.consecutive_errors == 0 and feed.error_count == 3


def count_a_fetch_elsewhere(feed_id: int) -> None:
    """What another refresh of the feed (the command line's beside a worker's) records."""
    with db.engine.begin() as other:
        other.execute(
            sa.update(Feed).where(Feed.id == feed_id).values(fetch_count=Feed.fetch_count + 1)
        )


def test_a_success_counts_its_fetch_beside_one_that_ended_meanwhile(app):
    feed = make_feed(url="https://example.org/feed.xml")
    loaded = db.session.get(Feed, feed.id)  # as the refresh loads it before parsing
    assert loaded.fetch_count == 0
    count_a_fetch_elsewhere(feed.id)

    ok = fetch.FetchResult(url=feed.url, status=200)
    refresh.record_success(loaded, ok, None)
    db.session.commit()

    assert db.session.get(Feed, feed.id).fetch_count == 2


@pytest.mark.pg
@pytest.mark.skipif(not is_postgres(), reason="needs PostgreSQL: SQLite runs one writer")
def test_a_failure_counts_its_fetch_beside_one_recorded_at_the_same_time(app):
    feed_id = make_feed(url="https://example.org/feed.xml").id
    failed = fetch.FetchError("the source answered 500")

    def record() -> None:
        with app.app_context():
            refresh.record_failure(feed_id, failed)

    with db.engine.connect() as other:
        # Another refresh is recording its failure: it holds the feed's row.
        other.execute(sa.select(Feed.id).where(Feed.id == feed_id).with_for_update())
        recording = threading.Thread(target=record)
        recording.start()
        settle(recording)
        other.execute(
            sa.update(Feed)
            .where(Feed.id == feed_id)
            .values(
                fetch_count=Feed.fetch_count + 1,
                error_count=Feed.error_count + 1,
                consecutive_errors=Feed.consecutive_errors + 1,
            )
        )
        other.commit()
        recording.join(15)

    db.session.expire_all()
    feed = db.session.get(Feed, feed_id)
    assert (feed.fetch_count, feed.error_count, feed.consecutive_errors) == (2, 2, 2)


def test_it_leaves_a_feed_alone_until_it_is_due(allow_local_feeds, feed_server):
    # The periodic pass can queue a feed from a list read just before another worker
    # refreshed it: the source must not be fetched again moments later.
    feed = make_feed(url=feed_server.route("/feed.xml", body=rss(item(1))))
    assert refresh.refresh_feed(feed.id).outcome == "stored"
    assert refresh.refresh_feed(feed.id).outcome == "not_due"
    assert feed_server.hits() == 1
    assert refresh.refresh_feed(feed.id, force=True).outcome == "stored"  # Refresh now
    assert feed_server.hits() == 2


def test_it_gives_the_hosts_fetch_slot_back_before_parsing(
    allow_local_feeds, feed_server, monkeypatch
):
    # Parse and store can outlast the slot's lease; held through them, an expired lease
    # let a third fetch start, and its release then freed another worker's slot.
    held_while_storing = []
    ingest = refresh.ingest_document

    def counting_slots(*args, **kwargs):
        held_while_storing.append(
            db.session.scalar(sa.select(sa.func.count()).select_from(FetchSlot))
        )
        return ingest(*args, **kwargs)

    monkeypatch.setattr(refresh, "ingest_document", counting_slots)
    feed = make_feed(url=feed_server.route("/feed.xml", body=rss(item(1))))
    assert refresh.refresh_feed(feed.id).outcome == "stored"
    assert held_while_storing == [0]


def test_it_skips_a_paused_feed(allow_local_feeds, feed_server):
    feed = make_feed(url=feed_server.route("/feed.xml", body=rss(item(1))), status="paused")
    assert refresh.refresh_feed(feed.id).outcome == "paused" and feed_server.hits() == 0


def test_it_keeps_a_parse_warning_on_the_feed(allow_local_feeds, feed_server):
    feed = make_feed(url=feed_server.route("/feed.xml", body=feed_bytes("illformed.xml")))
    refresh.refresh_feed(feed.id)
    assert db.session.get(Feed, feed.id).parse_warning.startswith("ill-formed")


@pytest.mark.parametrize(
    "fault",
    [
        "<title>Diet & Health</title>",  # a bare ampersand
        "<title>Diet&nbsp;Health</title>",  # an HTML entity XML does not know
        '<title>Diet</title><atom:link href="https://x.example/feed" rel="self"/>',  # no xmlns
    ],
)
def test_a_feed_with_no_entries_yet_and_a_small_fault_is_read_with_a_warning(
    allow_local_feeds, feed_server, fault
):
    body = f'<rss version="2.0"><channel>{fault}<link>https://x.example/</link></channel></rss>'
    feed = make_feed(url=feed_server.route("/feed.xml", body=body.encode()))

    result = refresh.refresh_feed(feed.id)

    stored = db.session.get(Feed, feed.id)
    assert result.outcome == "stored" and stored.consecutive_errors == 0
    assert stored.parse_warning.startswith("ill-formed")


def test_it_lists_due_feeds_most_overdue_first(app):
    now = utcnow()
    later = make_feed(next_fetch_at=now + timedelta(minutes=5))
    overdue = make_feed(next_fetch_at=now - timedelta(hours=1))
    never = make_feed()
    make_feed(status="paused")
    recent = make_feed(next_fetch_at=now - timedelta(minutes=1))
    assert refresh.due_feed_ids(now) == [never.id, overdue.id, recent.id]
    assert later.id not in refresh.due_feed_ids(now)


def test_it_schedules_from_ttl_max_age_and_the_interval(app):
    feed = make_feed(interval_minutes=2)
    assert refresh.next_interval(feed, None, []) == timedelta(minutes=5)  # the floor
    feed.source_ttl_minutes = 90
    assert refresh.next_interval(feed, None, []) == timedelta(minutes=90)
    assert refresh.next_interval(feed, 4 * 3600, []) == timedelta(hours=4)
    assert refresh.next_interval(feed, 10**7, []) == timedelta(hours=24)


def test_it_polls_slow_publishers_less_often(app):
    feed = make_feed()
    weekly = [datetime(2026, 11, d, tzinfo=UTC) for d in (1, 8, 15, 22)]
    hourly = [datetime(2026, 11, 1, h, tzinfo=UTC) for h in (1, 2, 3, 4)]
    assert refresh.next_interval(feed, None, weekly) == timedelta(hours=12)
    assert refresh.next_interval(feed, None, hourly) == timedelta(minutes=30)


def test_it_allows_at_most_two_fetches_per_host(app):
    first, second = (
        refresh.acquire_slot("feeds.example.com"),
        refresh.acquire_slot("feeds.example.com"),
    )
    assert (first, second) == (0, 1)
    assert refresh.acquire_slot("feeds.example.com") is None
    assert refresh.acquire_slot("other.example.com") == 0
    refresh.release_slot("feeds.example.com", first)
    assert refresh.acquire_slot("feeds.example.com") == 0


def test_it_defers_a_feed_whose_host_is_busy(app):
    feed = make_feed(url="https://busy.example.com/feed.xml")
    refresh.acquire_slot("busy.example.com"), refresh.acquire_slot("busy.example.com")
    result = refresh.refresh_feed(feed.id)
    assert result.outcome == "busy"
    assert db.session.get(Feed, feed.id).next_fetch_at > utcnow()


@pytest.mark.parametrize(
    ("url", "held"),
    [
        ("https://busy.example.com./feed.xml", "busy.example.com"),
        ("https://BUSY.Example.COM/feed.xml", "busy.example.com"),
        ("https://bücher.example/feed.xml", "xn--bcher-kva.example"),
    ],
)
def test_it_counts_one_host_however_its_name_is_written(app, url, held):
    feed = make_feed(url=url)
    refresh.acquire_slot(held), refresh.acquire_slot(held)
    assert refresh.refresh_feed(feed.id).outcome == "busy"


def test_it_frees_a_stale_slot_lease(app):
    db.session.add(FetchSlot(host="h.example.com", slot=0, expires_at=utcnow() - timedelta(1)))
    db.session.add(FetchSlot(host="h.example.com", slot=1, expires_at=utcnow() - timedelta(1)))
    db.session.commit()
    assert refresh.acquire_slot("h.example.com") == 0


def test_it_runs_through_the_worker_job(allow_local_feeds, feed_server):
    from worker.jobs import refresh_feed

    feed = make_feed(url=feed_server.route("/feed.xml", body=rss(item(1))))
    assert refresh_feed(feed.id).startswith("1 new")


@pytest.mark.parametrize(
    ("extra", "headers"),
    [
        ("<ttl>1000000000000000</ttl>", {}),
        ("<ttl>3000000000</ttl>", {}),  # past a 32-bit INTEGER column (PostgreSQL)
        ("", {"Cache-Control": "max-age=100000000000000000"}),
    ],
)
def test_an_absurd_ttl_or_max_age_waits_a_day_and_breaks_nothing(
    allow_local_feeds, feed_server, extra, headers
):
    url = feed_server.route("/feed.xml", body=rss(item(1), extra=extra), headers=headers)
    feed = make_feed(url=url)

    result = refresh.refresh_feed(feed.id)

    assert result.outcome == "stored" and result.summary.new == 1, result.error
    stored = db.session.get(Feed, feed.id)
    assert stored.next_fetch_at - stored.last_fetched_at == timedelta(hours=24)


def test_relative_links_follow_the_document_a_redirect_led_to(app, feed_server, allow_local_feeds):
    moved = item(1, link="posts/one", body='<p>Walking.</p><img src="img/a.jpg" alt="a">')
    feed_server.route("/blog/feed.xml", body=rss(moved))
    feed = make_feed(
        url=feed_server.route("/old-feed", status=301, headers={"Location": "/blog/feed.xml"})
    )
    assert refresh.refresh_feed(feed.id).outcome == "stored"
    article = db.session.scalars(sa.select(Article)).one()
    assert article.url == feed_server.url("/blog/posts/one")
    image = feed_server.url("/blog/posts/img/a.jpg").replace("http://", "https://")  # as all are
    assert f'src="{image}"' in article.content


def http_date(days_ago: int) -> str:
    return (utcnow() - timedelta(days=days_ago)).strftime("%a, %d %b %Y %H:%M:%S GMT")


def test_the_archive_left_out_on_the_first_fetch_stays_out_on_later_ones(
    allow_local_feeds, feed_server
):
    """The document lists the old posts on every fetch: skipping them once is not enough."""
    body = rss(item(1, date=http_date(1)), item(2, date=http_date(400)))
    feed = make_feed(url=feed_server.route("/feed.xml", body=body))
    assert refresh.refresh_feed(feed.id).summary.new == 1

    again = refresh.refresh_feed(feed.id, force=True)

    assert again.summary.new == 0 and again.summary.skipped == 1
    assert set(db.session.scalars(sa.select(Article.title))) == {"Entry 1"}


def test_the_feeds_page_says_why_a_fetch_stored_nothing(
    allow_local_feeds, feed_server, admin_client
):
    """Only old posts on the first fetch: the feed shows no articles, and the page says why,
    still after a 304 (the same document would be read the same way)."""
    body = rss(item(1, date=http_date(400)), item(2, date=http_date(500)), item(2))
    feed = make_feed(url=feed_server.route("/feed.xml", body=body, etag='"a"'))
    refresh.refresh_feed(feed.id)
    cutoff = f"{utcnow() - timedelta(days=30):%d %B %Y}"
    said = (
        f"0 new, 0 updated, 0 unchanged, 3 skipped "
        f"(published before {cutoff}: 2; duplicate entry in the document: 1)"
    )
    assert said in admin_client.get("/admin/feeds/").text

    assert refresh.refresh_feed(feed.id, force=True).outcome == "not_modified"
    assert said in admin_client.get("/admin/feeds/").text


def test_refresh_now_says_why_entries_were_skipped(allow_local_feeds, feed_server, admin_client):
    feed = make_feed(
        url=feed_server.route("/feed.xml", body=rss(item(1), item(2, date=http_date(400))))
    )
    response = admin_client.submit(f"/admin/feeds/{feed.id}/refresh", {}, follow_redirects=True)

    cutoff = f"{utcnow() - timedelta(days=30):%d %B %Y}"
    assert f"1 new, 0 updated, 0 unchanged, 1 skipped (published before {cutoff}: 1)." in (
        response.text
    )


def test_the_archive_stays_out_when_the_first_fetch_failed(allow_local_feeds, feed_server):
    url = feed_server.route("/feed.xml", status=503, body=b"down")
    feed = make_feed(url=url)
    assert refresh.refresh_feed(feed.id).outcome == "error"
    feed_server.route(
        "/feed.xml", body=rss(item(1, date=http_date(1)), item(2, date=http_date(400)))
    )

    assert refresh.refresh_feed(feed.id, force=True).outcome == "stored"

    assert set(db.session.scalars(sa.select(Article.title))) == {"Entry 1"}


def test_a_feed_deleted_while_its_fetch_was_in_flight_ends_the_refresh_quietly(
    allow_local_feeds, feed_server, monkeypatch
):
    from articles import curation, fetch

    feed_id = make_feed(url=feed_server.route("/feed.xml", body=rss(item(1)))).id
    real_fetch = fetch.fetch_url

    def fetch_while_an_admin_deletes_the_feed(*args, **kwargs):
        result = real_fetch(*args, **kwargs)
        curation.remove_feed(db.session.get(Feed, feed_id), keep_articles=True)
        db.session.commit()
        return result

    monkeypatch.setattr(fetch, "fetch_url", fetch_while_an_admin_deletes_the_feed)

    assert refresh.refresh_feed(feed_id).outcome == "missing"
    assert db.session.scalar(sa.select(sa.func.count(Article.id))) == 0


def test_an_error_never_brings_a_slow_feeds_next_fetch_sooner(allow_local_feeds, feed_server):
    """A feed that asks for 12 hours (ttl) and then answers 429 with no Retry-After must
    not be asked again in 30 minutes: the error would make it polled more often."""
    url = feed_server.route("/feed.xml", body=rss(item(1), extra="<ttl>720</ttl>"))
    feed_id = make_feed(url=url).id
    refresh.refresh_feed(feed_id)
    feed_server.route("/feed.xml", status=429, body=b"slow down")

    refresh.refresh_feed(feed_id, force=True)

    feed = db.session.get(Feed, feed_id)
    assert feed.consecutive_errors == 1
    assert feed.next_fetch_at - feed.last_fetched_at >= timedelta(hours=12)


def test_a_feed_first_fetched_months_after_it_was_added_stores_no_back_catalogue(
    allow_local_feeds, feed_server
):
    """Imported paused 200 days ago, resumed today: the first fetch keeps 30 days, as it
    would have on the day the feed was added."""
    body = rss(*(item(n, date=http_date(10 * n + 1)) for n in range(17)))
    feed = make_feed(url=feed_server.route("/feed.xml", body=body))
    feed.created_at = utcnow() - timedelta(days=200)
    db.session.commit()

    assert refresh.refresh_feed(feed.id).summary.new == 3  # 1, 11 and 21 days old


def test_entries_published_during_a_long_outage_are_stored_when_it_ends(
    allow_local_feeds, feed_server
):
    """The cutoff stays where the first stored fetch put it: a feed back after 60 days of
    errors keeps what it published meanwhile."""
    feed = make_feed(url=feed_server.route("/feed.xml", body=rss(item(1, date=http_date(1)))))
    refresh.refresh_feed(feed.id)
    db.session.execute(sa.update(Article).values(fetched_at=utcnow() - timedelta(days=61)))
    db.session.commit()
    during = rss(item(1, date=http_date(61)), item(2, date=http_date(45)))
    feed_server.route("/feed.xml", body=during)

    assert refresh.refresh_feed(feed.id, force=True).summary.new == 1


def test_an_article_taken_back_from_a_removed_feed_does_not_move_the_cutoff_back(
    allow_local_feeds, feed_server
):
    """Adopted, a year-old article counts as fetched by the new feed now: its old fetch
    time would have let the second fetch store the archive the first one skipped."""
    from articles import curation

    gone = make_feed(url="https://gone.example.com/feed.xml")
    make_article(
        feed=gone,
        guid="entry-1",
        url="https://source.example.com/posts/1",
        fetched_at=utcnow() - timedelta(days=365),
    )
    curation.remove_feed(gone, keep_articles=True)
    db.session.commit()
    body = rss(item(1, date=http_date(7)), item(2, date=http_date(100)))
    feed = make_feed(url=feed_server.route("/feed.xml", body=body))
    assert refresh.refresh_feed(feed.id).summary.skipped == 1  # entry 2, the archive

    again = refresh.refresh_feed(feed.id, force=True).summary

    assert again.new == 0 and again.skipped == 1
