"""Storing entries: no duplicates, admin edits kept, tombstones honoured, rules applied."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from articles import curation
from articles.models import Article, Feed, KeywordRule
from articles.refresh import ingest_document
from club.clock import utcnow
from club.extensions import db
from tests.articles.conftest import feed_bytes, item, rss
from tests.conftest import make_feed


def ingest(feed, document: bytes, **kwargs):
    summary = ingest_document(feed, document, **kwargs)
    db.session.commit()
    return summary


def titles() -> list[str]:
    return list(db.session.scalars(sa.select(Article.title).order_by(Article.id)))


def test_it_stores_new_entries_once_however_often_it_sees_them(app):
    feed = make_feed(auto_publish=True)
    first = ingest(feed, rss(item(1), item(2)))
    again = ingest(feed, rss(item(1), item(2)))
    assert (first.new, again.new, again.unchanged) == (2, 0, 2)
    assert titles() == ["Entry 1", "Entry 2"]


def test_it_keeps_the_first_of_duplicate_guids_in_one_document(app):
    summary = ingest(make_feed(), feed_bytes("duplicate_guids.xml"))
    assert titles() == ["First", "Third"]
    assert summary.skipped == 1


def test_it_skips_entries_without_a_link_and_keeps_the_rest(app):
    summary = ingest(make_feed(), feed_bytes("missing_link_title.xml"))
    assert summary.new == 2 and summary.skipped == 1
    assert titles()[1] == "Complete"


def test_it_lets_two_feeds_use_the_same_guids_without_touching_each_other(app):
    a, b = make_feed(), make_feed()
    ingest(a, rss(item(1, title="A's entry")))
    ingest(b, rss(item(1, title="B's entry", link="https://other.example.com/1")))
    assert titles() == ["A's entry", "B's entry"]


def test_it_stores_one_article_per_canonical_url_across_feeds(app):
    a, b = make_feed(), make_feed()
    ingest(a, rss(item(1, link="https://same.example.com/story?utm_source=a")))
    summary = ingest(b, rss(item(9, link="https://same.example.com/story#comments")))
    assert summary.new == 0 and summary.skipped == 1
    assert db.session.scalar(sa.select(sa.func.count(Article.id))) == 1


def test_it_updates_a_changed_entry(app):
    feed = make_feed()
    ingest(feed, rss(item(1, title="Draft title")))
    summary = ingest(feed, rss(item(1, title="Final title")))
    assert summary.updated == 1 and titles() == ["Final title"]


def test_it_keeps_fields_an_admin_edited(app):
    feed = make_feed()
    ingest(feed, rss(item(1, title="Source title", body="<p>Old body</p>")))
    article = db.session.scalar(sa.select(Article))
    curation.edit_article(article, title="Admin title", summary="", reviewed_by="", topics=[])
    db.session.commit()
    ingest(feed, rss(item(1, title="Source title v2", body="<p>New body</p>")))
    db.session.refresh(article)
    assert article.title == "Admin title"
    assert "New body" in article.content


def test_it_never_brings_back_a_rejected_entry(app):
    feed = make_feed()
    ingest(feed, rss(item(1)))
    article = db.session.scalar(sa.select(Article))
    curation.reject(article)
    db.session.commit()
    db.session.delete(article)
    db.session.commit()
    summary = ingest(feed, rss(item(1)))
    assert summary.new == 0 and titles() == []


def test_it_skips_old_entries_on_a_first_fetch(app):
    old = (utcnow() - timedelta(days=40)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    new = (utcnow() - timedelta(days=2)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    summary = ingest(
        make_feed(),
        rss(item(1, date=old), item(2, date=new)),
        archive_before=utcnow() - timedelta(days=30),
    )
    assert summary.new == 1 and titles() == ["Entry 2"]


def test_it_publishes_straight_away_only_for_auto_publish_feeds(app):
    ingest(make_feed(auto_publish=True), rss(item(1)))
    ingest(make_feed(auto_publish=False), rss(item(2, link="https://b.example.com/2")))
    statuses = list(db.session.scalars(sa.select(Article.status).order_by(Article.id)))
    assert statuses == ["published", "pending"]


def test_it_gives_new_articles_the_feeds_topic(app):
    feed = make_feed()
    feed.topic_id = curation.topic_for("Sleep").id
    db.session.commit()
    ingest(feed, rss(item(1)))
    assert [t.slug for t in db.session.scalar(sa.select(Article)).topics] == ["sleep"]


def test_it_applies_block_and_require_rules(app):
    feed = make_feed()
    db.session.add(KeywordRule(kind="block", phrase="miracle cure"))
    db.session.add(KeywordRule(kind="require", phrase="sleep", feed_id=feed.id))
    db.session.commit()
    summary = ingest(
        feed,
        rss(
            item(1, title="A miracle cure for sleep"),
            item(2, title="Better sleep tonight"),
            item(3, title="Knee pain"),
        ),
    )
    assert titles() == ["Better sleep tonight"] and summary.skipped == 2


def test_a_feeds_own_rule_leaves_other_feeds_alone(app):
    feed, other = make_feed(), make_feed()
    db.session.add(KeywordRule(kind="require", phrase="sleep", feed_id=feed.id))
    db.session.commit()
    summary = ingest(other, rss(item(1, title="Knee pain")))
    assert titles() == ["Knee pain"] and summary.skipped == 0


def test_it_stores_nul_and_control_characters_safely(app):
    document = rss(item(1, title="Nul&#0;here", body="<p>a\x01b</p>")).replace(b"&#0;", b"\x00")
    ingest(make_feed(), document)
    article = db.session.scalar(sa.select(Article))
    assert "\x00" not in article.title and "\x01" not in article.content


def store_at_once(app, feed_id: int, documents: list[bytes]) -> None:
    """Store each document for the feed from its own thread and session, all at once,
    as two workers would; each reads the feed before either stores."""
    barrier = threading.Barrier(len(documents), timeout=10)
    errors = []

    def worker(document: bytes) -> None:
        with app.app_context():
            try:
                mine = db.session.get(Feed, feed_id)
                assert mine.article_count is not None  # loaded before the other stores
                barrier.wait()
                ingest_document(mine, document)
                db.session.commit()
            except Exception as error:  # the caller's assertion reports it
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(d,)) for d in documents]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a storing worker hung"
    assert errors == []
    db.session.expire_all()


def test_it_survives_two_workers_storing_the_same_feed_at_once(app):
    feed_id = make_feed().id
    document = rss(*(item(n) for n in range(40)))

    store_at_once(app, feed_id, [document, document])

    assert db.session.scalar(sa.select(sa.func.count(Article.id))) == 40


def test_two_stores_of_one_feed_at_once_count_every_article(app):
    """A command-line refresh beside a worker's, the document changed in between: each
    store adds its own articles to the feed's count, and neither loses the other's."""
    feed_id = make_feed().id
    documents = [rss(*(item(n) for n in range(20))), rss(*(item(n) for n in range(20, 40)))]

    store_at_once(app, feed_id, documents)

    assert db.session.scalar(sa.select(sa.func.count(Article.id))) == 40
    assert db.session.get(Feed, feed_id).article_count == 40


def test_it_skips_an_entry_nested_too_deep_and_stores_the_rest(app):
    deep = item(2, body="<div>" * 30_000 + "payload")
    summary = ingest(make_feed(), rss(item(1), deep, item(3)))
    assert titles() == ["Entry 1", "Entry 3"]
    assert summary.skipped == 1 and "nested more than 100 levels deep" in summary.notes[0]


def test_an_empty_atom_link_under_the_feeds_xml_base_falls_back_to_the_guid(app):
    # WordPress's wp-atom.php: <link href=""/> resolves to the feed document's address.
    atom = (
        b'<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example.com/wp-atom.php">'
        b"<title>Blog</title>"
        b'<entry><title>Dolphins</title><link rel="alternate" type="text/html" href=""/>'
        b"<id>https://blog.example.com/?p=14848</id><published>2026-11-20T10:00:00Z</published>"
        b'<content type="html">&lt;p&gt;One&lt;/p&gt;</content></entry>'
        b'<entry><title>Ammo</title><link rel="alternate" type="text/html" href=""/>'
        b"<id>https://blog.example.com/?p=14846</id><published>2026-11-19T10:00:00Z</published>"
        b'<content type="html">&lt;p&gt;Two&lt;/p&gt;</content></entry>'
        b"</feed>"
    )
    feed = make_feed(url="https://blog.example.com/feed/atom/", auto_publish=True)

    summary = ingest(feed, atom)

    assert summary.new == 2, summary.notes
    assert sorted(db.session.scalars(sa.select(Article.url))) == [
        "https://blog.example.com/?p=14846",
        "https://blog.example.com/?p=14848",
    ]


def test_episodes_that_all_link_to_the_home_page_are_stored_by_their_permalink_guids(app):
    def episode(n: int) -> str:
        return (
            f"<item><title>Episode {n}</title><link>http://podcast.example.com/</link>"
            f"<guid>http://podcast.example.com/shows/ep-{n}.mp3</guid>"
            f"<pubDate>Sat, 0{n} Nov 2026 12:00:00 GMT</pubDate>"
            f"<description>Notes {n}</description></item>"
        )

    summary = ingest(make_feed(auto_publish=True), rss(episode(1), episode(2), episode(3)))

    assert summary.new == 3, summary.notes
    assert "http://podcast.example.com/shows/ep-2.mp3" in set(
        db.session.scalars(sa.select(Article.url))
    )


def test_it_names_an_untitled_feed_in_plain_text_from_its_document(app):
    feed = make_feed()
    feed.title = ""  # as "feeds add" leaves a feed it could not name yet
    ingest(feed, rss(item(1), title="<![CDATA[Tom&#8217;s <b>Caf&eacute;</b> &amp; Co]]>"))
    assert feed.title == "Tom\u2019s Café & Co"


def test_posts_at_anchors_of_one_page_are_each_their_own_article(app):
    # A day's posts on one page, each at its anchor, its permalink GUID saying so.
    posts = "".join(
        f"<item><title>Post {n}</title><link>https://daily.example.com/2024/01/01.html#a{n}</link>"
        f"<guid>https://daily.example.com/2024/01/01.html#a{n}</guid></item>"
        for n in (1, 2)
    )
    summary = ingest(make_feed(), rss(posts))
    urls = db.session.scalars(sa.select(Article.url).order_by(Article.id)).all()
    assert summary.new == 2 and titles() == ["Post 1", "Post 2"]
    assert urls == [
        "https://daily.example.com/2024/01/01.html#a1",
        "https://daily.example.com/2024/01/01.html#a2",
    ]


def test_undated_entries_keep_the_order_the_feed_lists_them_in(app):
    entries = [item(n, title=title, date="") for n, title in enumerate(["New", "Mid", "Old"])]
    ingest(make_feed(auto_publish=True), rss(*entries))
    newest_first = sa.select(Article.title).order_by(Article.published_at.desc(), Article.id.desc())
    assert db.session.scalars(newest_first).all() == ["New", "Mid", "Old"]


def test_a_relative_channel_link_names_the_site_at_the_feeds_host(app):
    feed = make_feed(url="https://feeds.example.com/health.xml")
    ingest(
        feed, rss(item(1)).replace(b"<link>https://source.example.com/</link>", b"<link>/</link>")
    )
    assert feed.site_url == "https://feeds.example.com/"


def test_it_stores_a_sources_names_without_direction_overrides(app):
    """U+202E in a source's name printed the date after it backwards in the review queue,
    and the audit log's lines about it; a title or author turned the line it sits in."""
    feed = make_feed()
    feed.title = ""  # named by its channel, as a feed added by address is
    document = rss(
        item(
            1, title="\u202eeltit kcab", extra="<author>x@example.com (\u2067Jo\u2069 Doe)</author>"
        ),
        title="\u202eSource\u202c name",
    )

    ingest(feed, document)

    article = db.session.scalar(sa.select(Article))
    assert db.session.get(Feed, feed.id).title == "Source name"
    assert (article.title, article.author) == ("eltit kcab", "Jo Doe")
