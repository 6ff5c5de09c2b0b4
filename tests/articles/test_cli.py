"""``flask feeds ...`` commands."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from articles import refresh
from articles.demo import SAMPLES, seed_sample_feeds
from articles.models import Article, Feed
from club.extensions import db
from club.models import AuditEntry
from tests.articles.conftest import FEEDS, item, rss
from tests.conftest import make_feed

HTML = {"Content-Type": "text/html"}


def test_it_adds_and_lists_feeds(runner):
    result = runner.invoke(
        args=[
            "feeds",
            "add",
            "https://a.example.com/feed.xml",
            "--topic",
            "Sleep",
            "--auto-publish",
            "--excerpt",
            "--no-check",
        ]
    )
    assert result.exit_code == 0, result.output
    feed = db.session.scalar(sa.select(Feed))
    assert feed.auto_publish and not feed.full_content and feed.topic.name == "Sleep"
    assert "https://a.example.com/feed.xml" in runner.invoke(args=["feeds", "list"]).output


def test_it_refuses_a_topic_with_no_letter_or_digit(runner):
    result = runner.invoke(args=["feeds", "add", "https://a.example.com/f", "--topic", "!!!"])
    assert result.exit_code == 2 and "“!!!” is not a topic name" in result.output
    assert db.session.scalar(sa.select(sa.func.count(Feed.id))) == 0


def test_it_refuses_a_bad_feed_url(runner):
    result = runner.invoke(args=["feeds", "add", "file:///etc/passwd"])
    assert result.exit_code != 0 and "http://" in result.output


@pytest.mark.parametrize(
    "url", ["https://exa mple.com/feed", "https://exa%20mple.com/feed", "https://a..b.example/"]
)
def test_it_refuses_a_host_name_no_server_can_have(runner, url):
    result = runner.invoke(args=["feeds", "add", url])
    assert result.exit_code == 1 and "is not a valid host name" in result.output
    assert db.session.scalar(sa.select(sa.func.count(Feed.id))) == 0


@pytest.mark.parametrize(
    "url",
    ["https://bücher.example/feed", "https://xn--bcher-kva.example/f", "http://[::1]:8080/f",
     "https://my_blog.example.com/rss", "http://127.0.0.1:5000/feed.xml"],
)  # fmt: skip
def test_it_accepts_every_kind_of_host_name(runner, url):
    assert runner.invoke(args=["feeds", "add", url, "--no-check"]).exit_code == 0


# --- Read before it is added, as the admin's form does -----------------------------------


def test_it_adds_the_feed_a_site_page_advertises_with_its_title(
    runner, feed_server, allow_local_feeds
):
    feed_url = feed_server.route("/feed.xml", body=rss(item(1), title="Walking Weekly"))
    page = f'<html><head><link rel="alternate" type="application/rss+xml" href="{feed_url}">'
    site = feed_server.route("/", body=page.encode(), headers=HTML)

    result = runner.invoke(args=["feeds", "add", site])

    assert result.exit_code == 0, result.output
    assert f"leads to the feed {feed_url}" in result.output
    feed = db.session.scalar(sa.select(Feed))
    assert (feed.url, feed.title) == (feed_url, "Walking Weekly")
    assert f"Added feed {feed.id}: Walking Weekly" in result.output


@pytest.mark.parametrize(
    ("route", "said"),
    [
        ({"status": 404, "body": b"gone"}, "404"),
        ({"body": b"<html><p>No feed here</p></html>", "headers": HTML}, "no feed"),
    ],
)
def test_it_adds_nothing_it_cannot_read_as_a_feed_and_says_why(
    runner, feed_server, allow_local_feeds, route, said
):
    url = feed_server.route("/nothing", **route)

    result = runner.invoke(args=["feeds", "add", url])

    assert result.exit_code == 1
    assert f"could not read a feed at {url}" in result.output and said in result.output
    assert "--no-check adds the address anyway" in result.output
    assert db.session.scalar(sa.select(sa.func.count(Feed.id))) == 0


def test_it_refuses_a_site_whose_feed_the_site_already_has(runner, feed_server, allow_local_feeds):
    feed_url = feed_server.route("/feed.xml", body=rss(item(1), title="Walking Weekly"))
    make_feed(url=feed_url, title="Walking Weekly")
    page = f'<link rel="alternate" type="application/atom+xml" href="{feed_url}">'
    site = feed_server.route("/", body=page.encode(), headers=HTML)

    result = runner.invoke(args=["feeds", "add", site])

    assert result.exit_code == 1
    assert "the site already has this feed: Walking Weekly" in result.output
    assert db.session.scalar(sa.select(sa.func.count(Feed.id))) == 1


def test_it_reads_nothing_on_a_private_address_unless_allowed(runner, feed_server):
    url = feed_server.route("/feed.xml", body=rss(item(1)))

    result = runner.invoke(args=["feeds", "add", url])

    assert result.exit_code == 1 and "could not read a feed" in result.output
    assert feed_server.hits() == 0


def test_it_ingests_a_file_and_prints_a_json_summary(runner):
    args = [
        "feeds",
        "ingest-file",
        str(FEEDS / "duplicate_guids.xml"),
        "--source-url",
        "https://dupes.example.com/feed.xml",
    ]
    first = json.loads(runner.invoke(args=args).output)
    again = json.loads(runner.invoke(args=args).output)
    assert (first["new"], first["skipped"], first["errors"]) == (2, 1, 0)
    assert (again["new"], again["unchanged"]) == (0, 2)


def test_it_ingests_again_into_the_feed_however_its_url_is_spelt(runner):
    path = str(FEEDS / "duplicate_guids.xml")
    first = runner.invoke(
        args=["feeds", "ingest-file", path, "--source-url", "https://Dupes.example.com/feed.xml#x"]
    )
    assert first.exit_code == 0, first.output
    again = runner.invoke(
        args=["feeds", "ingest-file", path, "--source-url", "https://dupes.example.com/feed.xml"]
    )
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["feed_id"] == json.loads(first.output)["feed_id"]
    assert db.session.scalars(sa.select(AuditEntry.action)).all() == ["feed.add"]


def test_it_refuses_an_ingest_source_url_with_a_space_in_the_host(runner):
    result = runner.invoke(
        args=["feeds", "ingest-file", str(FEEDS / "duplicate_guids.xml"), "--source-url",
              "https://exa mple.com/feed"]
    )  # fmt: skip
    assert result.exit_code == 2 and "not a valid host name" in result.output
    assert "Traceback" not in result.output
    assert db.session.scalar(sa.select(sa.func.count(Feed.id))) == 0


def test_it_refuses_a_max_age_that_is_not_a_number_of_days(runner):
    result = runner.invoke(
        args=["feeds", "ingest-file", str(FEEDS / "duplicate_guids.xml"), "--source-url",
              "https://dupes.example.com/feed.xml", "--max-age-days", "-5"]
    )  # fmt: skip
    assert result.exit_code == 2 and "--max-age-days" in result.output


def test_it_reports_a_document_that_is_not_a_feed(runner):
    args = [
        "feeds",
        "ingest-file",
        str(FEEDS / "html_page.html"),
        "--source-url",
        "https://x.example.com/",
    ]
    result = runner.invoke(args=args)
    summary = json.loads(result.output)
    assert result.exit_code == 1 and summary["errors"] == 1 and "web page" in summary["error"]
    assert db.session.scalar(sa.select(sa.func.count(Feed.id))) == 0


def test_it_refreshes_due_feeds(allow_local_feeds, runner, feed_server):
    make_feed(url=feed_server.route("/feed.xml", body=rss(item(1))))
    result = runner.invoke(args=["feeds", "refresh", "--due"])
    assert "1 new" in result.output and "1 feed(s) refreshed, 0 failed" in result.output
    assert "0 feed(s) refreshed" in runner.invoke(args=["feeds", "refresh", "--due"]).output


def test_it_exits_non_zero_when_a_refresh_fails(runner):
    """Cron and scripts look at the exit code, not at the words."""
    missing = runner.invoke(args=["feeds", "refresh", "999"])
    assert missing.exit_code == 1 and "1 feed(s) refreshed, 1 failed" in missing.output
    assert runner.invoke(args=["feeds", "refresh", "0"]).exit_code == 2


def test_it_wants_exactly_one_refresh_target(runner):
    assert runner.invoke(args=["feeds", "refresh"]).exit_code != 0


def test_it_round_trips_opml(runner, tmp_path):
    make_feed(url="https://one.example.com/rss", title="One")
    exported = runner.invoke(args=["feeds", "export-opml"]).output
    db.session.execute(sa.delete(Feed))
    db.session.commit()
    path = tmp_path / "feeds.opml"
    path.write_text(exported)
    assert (
        "Imported 1 new feed(s)" in runner.invoke(args=["feeds", "import-opml", str(path)]).output
    )


def test_it_says_an_opml_file_lists_no_feeds(runner, tmp_path):
    path = tmp_path / "empty.opml"
    path.write_text('<opml version="2.0"><body><outline text="Folder"/></body></opml>')
    result = runner.invoke(args=["feeds", "import-opml", str(path)])
    assert result.exit_code == 1 and "lists no feeds" in result.output


def test_it_seeds_the_sample_feeds_with_a_video_and_a_reviewed_article(app):
    summaries = seed_sample_feeds()
    db.session.commit()
    assert all(s["errors"] == 0 and s["new"] > 0 for s in summaries)
    assert len(list(SAMPLES.glob("*.xml"))) == 3
    assert db.session.scalar(sa.select(Article).where(Article.kind == "video")) is not None
    walking = db.session.scalar(
        sa.select(Article).where(Article.title.like("Walking for lower back pain%"))
    )
    assert (
        walking.reviewed_by
        and walking.image_credit
        and walking.source_name == "Everyday Health Notes"
    )
    assert walking.status == "published"
    # Placeholder addresses: fetching them would only fill the feeds page with DNS errors.
    assert set(db.session.scalars(sa.select(Feed.status))) == {"paused"}
    assert refresh.due_feed_ids() == []
