"""Adding a feed under /admin/feeds/new: the preview says what Save will import.

Older add-feed tests are in test_admin.py.
"""

from __future__ import annotations

import re
from datetime import timedelta
from email.utils import format_datetime

import sqlalchemy as sa

from articles import curation
from articles.models import Article, Tombstone
from club.clock import utcnow
from club.extensions import db
from tests.articles.conftest import item, rss


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
