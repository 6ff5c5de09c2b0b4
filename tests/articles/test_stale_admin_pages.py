"""An admin page drawn before the feed, article or rule it shows was deleted: its links and
buttons are answered in the admin area with what happened, not with "page not found"."""

from __future__ import annotations

import pytest

from articles.models import KeywordRule
from club.extensions import db
from tests.articles.conftest import audit_actions
from tests.conftest import make_article, make_feed

GONE = "was deleted meanwhile; nothing was done."


def delete_feed(admin_client, feed_id: int, articles: str = "keep"):
    return admin_client.submit(
        f"/admin/feeds/{feed_id}/delete",
        {"articles": articles, "confirm": "y"},
        follow_redirects=True,
    )


def test_confirming_a_feeds_deletion_in_a_second_tab_says_it_is_already_gone(admin_client):
    feed_id = make_feed(title="Alpha Health").id
    delete_feed(admin_client, feed_id)

    again = delete_feed(admin_client, feed_id)

    assert again.status_code == 200 and again.request.path == "/admin/feeds/"
    assert f"That feed {GONE}" in again.get_data(as_text=True)
    assert audit_actions() == ["feed.delete"]


@pytest.mark.parametrize("action", ["pause", "resume", "refresh"])
def test_a_button_on_a_stale_feeds_page_says_the_feed_is_gone(admin_client, action):
    feed = make_feed()
    feed_id = feed.id
    delete_feed(admin_client, feed_id)

    response = admin_client.submit(f"/admin/feeds/{feed_id}/{action}", follow_redirects=True)

    assert response.request.path == "/admin/feeds/"
    assert f"That feed {GONE}" in response.get_data(as_text=True)
    assert audit_actions() == ["feed.delete"]


def test_a_stale_edit_link_says_the_feed_is_not_on_the_site(admin_client):
    feed_id = make_feed().id
    delete_feed(admin_client, feed_id)

    response = admin_client.get(f"/admin/feeds/{feed_id}/edit", follow_redirects=True)

    assert response.request.path == "/admin/feeds/"
    assert "That feed is not on the site any more" in response.get_data(as_text=True)


@pytest.mark.parametrize("action", ["approve", "reject", "feature"])
def test_acting_on_an_article_removed_with_its_feed_says_so_in_the_queue(admin_client, action):
    feed = make_feed()
    article_id = make_article(feed, status="pending").id
    delete_feed(admin_client, feed.id, articles="remove")

    response = admin_client.submit(
        f"/admin/articles/{article_id}/{action}", {"seen": "pending"}, follow_redirects=True
    )

    assert response.request.path == "/admin/articles/"
    assert f"That article {GONE}" in response.get_data(as_text=True)


def test_deleting_a_keyword_rule_twice_says_the_rule_is_gone(admin_client):
    rule = KeywordRule(kind="block", phrase="miracle cure", feed_id=None)
    db.session.add(rule)
    db.session.commit()
    rule_id = rule.id
    admin_client.submit(f"/admin/feeds/rules/{rule_id}/delete")

    again = admin_client.submit(f"/admin/feeds/rules/{rule_id}/delete", follow_redirects=True)

    assert again.request.path == "/admin/feeds/rules"
    assert f"That rule {GONE}" in again.get_data(as_text=True)
    assert audit_actions() == ["rule.delete"]


def test_the_queue_narrowed_to_a_deleted_feed_says_it_shows_every_feed(admin_client):
    feed_id = make_feed().id
    other = make_article(
        make_feed(url="https://other.example.com/rss"), title="From another", status="pending"
    )
    delete_feed(admin_client, feed_id)

    response = admin_client.get(f"/admin/articles/?feed={feed_id}", follow_redirects=True)

    page = response.get_data(as_text=True)
    assert "That feed is not on the site any more: showing the articles of every feed." in page
    assert other.title in page and response.request.args.get("feed") is None
