"""The audit log's rows about curation: what a feed edit records, and links to the feeds and
articles it names while they exist."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from articles.models import Article, Feed
from club import audit
from club.extensions import db
from club.models import AuditEntry
from tests.articles.test_topics_admin import make_topic
from tests.conftest import make_article, make_feed


def test_it_audits_a_feed_edit_with_old_and_new_values(admin_client):
    feed = make_feed(title="Old Name")
    admin_client.submit(
        f"/admin/feeds/{feed.id}/edit",
        {"title": "New Name", "topic": "Sleep", "interval_minutes": 30, "full_content": "y"},
    )
    detail = db.session.scalar(sa.select(AuditEntry.detail).where(AuditEntry.action == "feed.edit"))
    assert detail == f"{feed.url}: name: 'Old Name' → 'New Name'; topic: 'none' → 'Sleep'"


def test_the_audit_log_links_the_feeds_and_articles_it_names(admin_client):
    feed = make_feed(title="Old Name")
    article = make_article(feed, status="pending")
    admin_client.submit(f"/admin/feeds/{feed.id}/pause")
    admin_client.submit(f"/admin/articles/{article.id}/approve")
    page = admin_client.get("/admin/audit").get_data(as_text=True)
    assert f'<a href="/admin/feeds/{feed.id}/edit">feed {feed.id}</a>' in page
    assert f'<a href="/admin/articles/{article.id}/edit">article {article.id}</a>' in page


def test_the_audit_log_names_the_feeds_articles_and_topics_it_is_about(admin_client):
    feed = make_feed(title="Everyday Health Notes")
    article = make_article(feed, status="pending", title="Walking for back pain")
    topic = make_topic("Sleep")
    admin_client.submit(f"/admin/feeds/{feed.id}/pause")
    admin_client.submit(f"/admin/articles/{article.id}/approve")
    admin_client.submit(f"/admin/topics/{topic.id}/edit", {"name": "Rest", "drawn": "Sleep"})

    rows = audit_rows(admin_client.get("/admin/audit").get_data(as_text=True))

    # As they are now, and said to be: the rename's own row still reads "Sleep → Rest".
    assert "now named Everyday Health Notes" in rows[f"feed {feed.id}"]
    assert "now titled “Walking for back pain”" in rows[f"article {article.id}"]
    assert "now named Rest" in rows[f"topic {topic.id}"]


def audit_rows(page: str) -> dict[str, str]:
    """Each row's "On" cell as text, by the target it names ("feed 7")."""
    cells = re.findall(r"<td[^>]*>(?:<a [^>]*>)?((?:feed|article|topic) \d+)(.*?)</td>", page, re.S)
    return {target: html.unescape(re.sub(r"<[^>]+>", " ", rest)) for target, rest in cells}


def test_the_audit_log_does_not_link_a_feed_or_article_deleted_since(admin_client):
    feed, kept = make_feed(title="Gone"), make_feed(title="Kept")
    article = make_article(feed, status="pending")
    feed_id, article_id, kept_id = feed.id, article.id, kept.id
    admin_client.submit(f"/admin/articles/{article_id}/approve")
    admin_client.submit(f"/admin/feeds/{kept_id}/pause")
    admin_client.submit(f"/admin/feeds/{feed_id}/delete", {"articles": "remove", "confirm": "y"})
    db.session.expunge_all()
    assert db.session.get(Feed, feed_id) is None and db.session.get(Article, article_id) is None

    page = admin_client.get("/admin/audit").get_data(as_text=True)

    assert f"/admin/feeds/{feed_id}/edit" not in page
    assert f"/admin/articles/{article_id}/edit" not in page
    assert f"feed {feed_id} (deleted)" in page and f"article {article_id} (deleted)" in page
    assert f'<a href="/admin/feeds/{kept_id}/edit">feed {kept_id}</a>' in page


def test_a_deleted_feeds_rows_never_come_to_name_the_next_feed_added(admin_client):
    """SQLite hands a deleted newest row's id to the next row unless told not to."""
    gone = make_feed(url="https://gone.example.com/feed.xml", title="Gone")
    gone_id = gone.id
    admin_client.submit(f"/admin/feeds/{gone_id}/pause")
    admin_client.submit(f"/admin/feeds/{gone_id}/delete", {"articles": "remove", "confirm": "y"})

    newcomer = make_feed(url="https://newcomer.example.com/feed.xml", title="Newcomer")

    assert newcomer.id != gone_id
    rows = audit_rows(admin_client.get("/admin/audit").get_data(as_text=True))
    assert "(deleted)" in rows[f"feed {gone_id}"] and "Newcomer" not in rows[f"feed {gone_id}"]


def test_the_audit_log_checks_its_links_in_the_same_queries_however_many_rows(
    admin_client, carol, count_queries
):
    def queries_with(rows: int) -> int:
        for n in range(rows):
            feed = make_feed(title=f"Source {n}")
            audit.record(carol, "feed.pause", feed)
            audit.record(carol, "article.approve", make_article(feed))
        db.session.commit()
        with count_queries() as counter:
            assert admin_client.get("/admin/audit").status_code == 200
        return counter.count

    assert queries_with(1) == queries_with(20)


@pytest.mark.parametrize(("status", "action", "said"), [
    ("paused", "pause", "already was paused"),
    ("active", "resume", "already was active"),
])  # fmt: skip
def test_pausing_a_paused_or_resuming_an_active_feed_says_so_and_audits_nothing(
    admin_client, status, action, said
):
    feed = make_feed(title="Sleep News", status=status)

    response = admin_client.submit(f"/admin/feeds/{feed.id}/{action}", follow_redirects=True)

    page = response.get_data(as_text=True)
    assert f"Sleep News {said}." in page and "Sleep News paused." not in page
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 0
