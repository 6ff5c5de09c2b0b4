"""Deleting a feed under /admin: what becomes of its articles, members' conversations and
tombstones, and what a feed added again takes back."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from articles import curation
from articles.models import Article, Feed, KeywordRule
from articles.refresh import ingest_document
from club.community.models import ArticleLike, Bookmark, Comment
from club.extensions import db
from club.models import AuditEntry
from tests.articles.conftest import audit_actions, item, rss
from tests.conftest import make_article, make_feed


def test_it_requires_a_choice_and_confirmation_to_delete_a_feed(admin_client):
    feed = make_feed()
    response = admin_client.submit(f"/admin/feeds/{feed.id}/delete", {"articles": "keep"})
    assert response.status_code == 400
    assert "Tick the box to confirm." in response.get_data(as_text=True)
    assert db.session.get(Feed, feed.id) is not None


def test_the_delete_page_counts_the_articles_the_feed_has_now_by_status(admin_client):
    """One total of every status said nothing of how many readers would lose."""
    feed = make_feed()
    make_article(feed)
    for _ in range(3):
        make_article(feed, status="pending")
    make_article(feed, status="rejected")
    make_article(make_feed())
    html = admin_client.get(f"/admin/feeds/{feed.id}/delete").get_data(as_text=True)
    assert "Its articles on the site: 1 published, 3 waiting for review, 1 rejected." in html
    empty = make_feed()
    html = admin_client.get(f"/admin/feeds/{empty.id}/delete").get_data(as_text=True)
    assert "It has no articles on the site." in html


def test_it_deletes_a_feed_keeping_its_articles(admin_client, client):
    feed = make_feed(title="Departing Source")
    article = make_article(feed, title="Stays on")
    admin_client.submit(f"/admin/feeds/{feed.id}/delete", {"articles": "keep", "confirm": "y"})
    article = db.session.get(Article, article.id)
    assert article.feed_id is None and article.source_removed
    html = client.get(f"/articles/{article.id}").get_data(as_text=True)
    assert "<bdi>Departing Source</bdi> (source removed)" in html
    assert audit_actions() == ["feed.delete"]


def test_it_names_and_audits_the_rules_that_go_with_a_deleted_feed(admin_client):
    feed = make_feed(title="Gone Source")
    feed_id = feed.id
    curation.add_rule("require", "walking", feed.id)
    curation.add_rule("block", "casino", None)
    db.session.commit()
    page = admin_client.get(f"/admin/feeds/{feed.id}/delete").get_data(as_text=True)
    assert "Its keyword rules go with it" in page and "Only keep “walking”" in page
    assert "casino" not in page
    admin_client.submit(f"/admin/feeds/{feed.id}/delete", {"articles": "keep", "confirm": "y"})
    assert audit_actions() == ["feed.delete", "rule.delete"]
    details = db.session.scalars(sa.select(AuditEntry.detail).order_by(AuditEntry.id)).all()
    assert details[1] == f"require: walking · feed Gone Source ({feed_id})"
    assert db.session.scalars(sa.select(KeywordRule.phrase)).all() == ["casino"]


def test_it_deletes_a_feed_with_its_articles(admin_client):
    feed = make_feed(title="Daily Health")
    make_article(feed)
    address = feed.url
    admin_client.submit(f"/admin/feeds/{feed.id}/delete", {"articles": "remove", "confirm": "y"})
    assert db.session.scalar(sa.select(sa.func.count(Article.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Feed.id))) == 0
    detail = db.session.scalar(sa.select(AuditEntry.detail))
    # Named, as the log cannot look it up once it is gone; no members' activity to name.
    assert detail == f"Daily Health: {address} (articles removed)"


def test_the_delete_page_warns_that_removing_articles_deletes_members_conversations(
    admin_client, alice, bob
):
    feed = make_feed()
    article, other = make_article(feed), make_article(make_feed())
    db.session.add_all(
        [
            Comment(article_id=article.id, author_id=alice.id, body="My story"),
            Comment(article_id=article.id, author_id=bob.id, body="Mine too"),
            # Not a conversation anyone reads: a moderator's removal, the author's deletion,
            # one hidden after reports.
            Comment(article_id=article.id, author_id=bob.id, body="Spam", status="removed"),
            Comment(article_id=article.id, author_id=alice.id, body="", status="deleted"),
            Comment(article_id=article.id, author_id=bob.id, body="Reported", hidden=True),
            ArticleLike(article_id=article.id, user_id=alice.id),
            Bookmark(article_id=article.id, user_id=bob.id),
            Bookmark(article_id=other.id, user_id=alice.id),
        ]
    )
    db.session.commit()

    page = admin_client.get(f"/admin/feeds/{feed.id}/delete").get_data(as_text=True)
    admin_client.submit(f"/admin/feeds/{feed.id}/delete", {"articles": "remove", "confirm": "y"})

    assert "Members left 2 comments, 1 like and 1 bookmark on them." in page
    detail = db.session.scalar(
        sa.select(AuditEntry.detail).where(AuditEntry.action == "feed.delete")
    )
    assert detail.endswith("(articles removed, with 2 comments, 1 like and 1 bookmark)")


def test_the_delete_page_says_nothing_of_conversations_when_there_are_none(admin_client):
    feed = make_feed()
    make_article(feed)
    page = admin_client.get(f"/admin/feeds/{feed.id}/delete").get_data(as_text=True)
    assert "Members left" not in page


def ingest(feed, document: bytes):
    summary = ingest_document(feed, document)
    db.session.commit()
    return summary


@pytest.mark.parametrize("decision", ["reject", "hide"])
def test_an_entry_an_admin_took_off_stays_off_after_its_feed_is_removed_and_added_again(
    admin_client, decision
):
    """A hidden entry too: with auto-publish it would otherwise come back published."""
    feed = make_feed(url="https://returning.example.com/feed.xml", auto_publish=True)
    ingest(feed, rss(item(1), item(2)))
    taken_off = db.session.scalar(sa.select(Article).where(Article.guid == "entry-1"))
    admin_client.submit(f"/admin/articles/{taken_off.id}/{decision}")
    admin_client.submit(f"/admin/feeds/{feed.id}/delete", {"articles": "remove", "confirm": "y"})

    again = curation.create_feed("https://returning.example.com/feed.xml", auto_publish=True)
    summary = ingest(again, rss(item(1), item(2)))

    assert (summary.new, summary.skipped) == (1, 1)
    assert list(db.session.scalars(sa.select(Article.guid))) == ["entry-2"]


def test_a_feed_added_again_takes_back_the_articles_kept_when_it_was_deleted(admin_client, client):
    feed = make_feed(url="https://back.example.com/rss", title="Back Source", auto_publish=True)
    ingest(feed, rss(item(1)))
    article = db.session.scalar(sa.select(Article))
    admin_client.submit(f"/admin/feeds/{feed.id}/delete", {"articles": "keep", "confirm": "y"})

    again = curation.create_feed("https://back.example.com/rss", auto_publish=True)
    summary = ingest(again, rss(item(1, title="Entry 1, corrected"), title="Back Source"))

    assert (summary.new, summary.updated, summary.skipped) == (0, 1, 0)
    article = db.session.get(Article, article.id)
    assert article.feed_id == again.id and not article.source_removed
    assert article.title == "Entry 1, corrected"
    assert db.session.get(Feed, again.id).article_count == 1
    html = client.get(f"/articles/{article.id}").get_data(as_text=True)
    assert "(source removed)" not in html and "Back Source" in html


def test_articles_taken_back_get_the_feeds_topic_unless_chosen_by_hand(admin_client):
    feed = make_feed(url="https://back.example.com/rss", auto_publish=True)
    ingest(feed, rss(item(1), item(2)))
    plain, chosen = db.session.scalars(sa.select(Article).order_by(Article.id)).all()
    chosen.edited_fields = ["topics"]
    db.session.commit()
    admin_client.submit(f"/admin/feeds/{feed.id}/delete", {"articles": "keep", "confirm": "y"})

    again = curation.create_feed("https://back.example.com/rss", topic_name="Sleep")
    ingest(again, rss(item(1), item(2)))

    assert [t.name for t in db.session.get(Article, plain.id).topics] == ["Sleep"]
    assert db.session.get(Article, chosen.id).topics == []


def two_sources_sharing_a_guid() -> tuple[Feed, Feed, Article, Article]:
    """Two feeds, each with one article whose entry GUID is "entry-1"; feeds, then articles."""
    one = make_feed(url="https://one.example.com/rss", auto_publish=True)
    two = make_feed(url="https://two.example.com/rss", auto_publish=True)
    ingest(one, rss(item(1, link="https://one.example.com/p1")))
    ingest(two, rss(item(1, link="https://two.example.com/p1")))
    first, second = db.session.scalars(sa.select(Article).order_by(Article.id)).all()
    return one, two, first, second


def test_approving_an_article_of_a_removed_source_keeps_other_sources_rejections(admin_client):
    # Entry GUIDs are unique per feed only: "entry-1" of one removed source is not
    # "entry-1" of another, and approving one must not bring the other back.
    one, two, first, second = two_sources_sharing_a_guid()
    admin_client.submit(f"/admin/articles/{first.id}/reject")
    admin_client.submit(f"/admin/articles/{second.id}/hide")
    admin_client.submit(f"/admin/feeds/{one.id}/delete", {"articles": "remove", "confirm": "y"})
    admin_client.submit(f"/admin/feeds/{two.id}/delete", {"articles": "keep", "confirm": "y"})

    admin_client.submit(f"/admin/articles/{second.id}/approve")

    again = curation.create_feed("https://one.example.com/rss", auto_publish=True)
    assert ingest(again, rss(item(1, link="https://one.example.com/p1"))).new == 0
    assert db.session.scalars(sa.select(Article.url)).all() == ["https://two.example.com/p1"]


def test_rejecting_an_article_of_a_removed_source_keeps_it_out(admin_client):
    one, two, first, second = two_sources_sharing_a_guid()
    admin_client.submit(f"/admin/articles/{first.id}/reject")
    for feed in (one, two):
        admin_client.submit(f"/admin/feeds/{feed.id}/delete", {"articles": "keep", "confirm": "y"})

    admin_client.submit(f"/admin/articles/{second.id}/reject")  # its GUID is also "entry-1"

    db.session.execute(sa.delete(Article))
    db.session.commit()
    again = curation.create_feed("https://two.example.com/rss", auto_publish=True)
    assert ingest(again, rss(item(1, link="https://two.example.com/p1"))).new == 0


def test_it_lets_an_approved_article_update_again_after_a_rejection(admin_client):
    feed = make_feed(auto_publish=True)
    ingest(feed, rss(item(1, title="Typo in titel")))
    article = db.session.scalar(sa.select(Article))
    admin_client.submit(f"/admin/articles/{article.id}/reject")
    admin_client.submit(f"/admin/articles/{article.id}/approve")

    assert ingest(feed, rss(item(1, title="Typo in title fixed"))).updated == 1
    db.session.expire_all()
    assert article.title == "Typo in title fixed" and article.status == "published"
