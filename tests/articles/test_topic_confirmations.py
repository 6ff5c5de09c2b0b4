"""A topic's merge or deletion is confirmed on the counts its page showed: if another
admin changed what the topic holds meanwhile (merged a topic into it, moved a feed), the
confirmation is refused and the page shows the new counts, not acted on unseen."""

from __future__ import annotations

import re

import sqlalchemy as sa

from articles.models import Feed, Topic
from club.extensions import db
from tests.articles.test_topics_admin import make_topic, topic_exists
from tests.conftest import make_article, make_feed

CHANGED = "What the topic holds changed after this page was drawn"


def shown_on(page: str) -> str:
    """The counts a confirmation page carries in its form."""
    return re.search(r'name="shown"[^>]*value="([^"]*)"', page)[1]


def test_a_deletion_confirmed_on_counts_that_changed_is_refused_with_the_new_ones(
    admin_client,
):
    gadgets = make_topic("Gadgets")
    make_feed(topic=gadgets)
    page = admin_client.get(f"/admin/topics/{gadgets.id}/delete").text
    assert "1 feed will file new articles under no topic" in page
    make_feed(url="https://tech.example.com/feed.xml", topic=gadgets)  # another admin

    response = admin_client.submit(
        f"/admin/topics/{gadgets.id}/delete", {"shown": shown_on(page)}, follow_redirects=True
    )

    assert CHANGED in response.text
    assert "2 feeds will file new articles under no topic" in response.text
    assert topic_exists(gadgets.id)
    assert (
        db.session.scalar(sa.select(sa.func.count(Feed.id)).where(Feed.topic_id.isnot(None))) == 2
    )


def test_a_deletion_confirmed_on_the_counts_it_showed_goes_ahead(admin_client):
    gadgets = make_topic("Gadgets")
    make_article(topics=[gadgets])
    gadgets_id = gadgets.id
    page = admin_client.get(f"/admin/topics/{gadgets_id}/delete").text

    response = admin_client.submit(f"/admin/topics/{gadgets_id}/delete", {"shown": shown_on(page)})

    assert response.status_code == 302
    assert not topic_exists(gadgets_id)


def test_a_merge_confirmed_on_counts_that_changed_is_refused(admin_client):
    diet, nutrition = make_topic("Diet"), make_topic("Nutrition")
    make_article(topics=[diet])
    page = admin_client.get(f"/admin/topics/{diet.id}/merge?into={nutrition.id}").text
    make_article(topics=[diet])  # filed meanwhile

    response = admin_client.submit(
        f"/admin/topics/{diet.id}/merge",
        {"into": nutrition.id, "shown": shown_on(page)},
        follow_redirects=True,
    )

    assert CHANGED in response.text
    assert "2 articles (2 published) move to “Nutrition”" in response.text
    assert {t.name for t in db.session.scalars(sa.select(Topic))} == {"Diet", "Nutrition"}
