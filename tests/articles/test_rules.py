"""Keyword rules under /admin/feeds/rules: what the preview promises, and refused forms.

The first rule tests are in test_admin.py.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from articles import curation
from articles.models import Article, KeywordRule
from club.extensions import db
from tests.conftest import make_article, make_feed


def test_the_preview_says_existing_articles_stay_as_they_are(admin_client):
    article = make_article(title="Miracle cure for back pain")
    html = admin_client.submit(
        "/admin/feeds/rules",
        {"kind": "block", "phrase": "miracle cure", "feed_id": 0, "action": "preview"},
    ).get_data(as_text=True)

    assert "Existing articles this rule would have blocked: 1" in html
    assert "these stay as they are" in html and "would block" not in html
    assert db.session.get(Article, article.id).status == "published"


def test_it_answers_400_to_a_rule_it_refuses(admin_client):
    response = admin_client.submit(
        "/admin/feeds/rules", {"kind": "block", "phrase": "", "feed_id": 0, "action": "preview"}
    )
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(KeywordRule.id))) == 0


def test_two_feeds_of_one_title_are_told_apart_where_a_rule_picks_one(admin_client):
    make_feed(title="The Kitchen Table", url="https://kitchen.example.com/nutrition.xml")
    make_feed(title="The Kitchen Table", url="https://kitchen.example.com/recipes.xml")
    make_feed(title="Sleep Weekly", url="https://sleep.example.com/feed.xml")
    page = admin_client.get("/admin/feeds/rules").get_data(as_text=True)
    options = re.findall(r"<option[^>]*>([^<]*)</option>", page)
    assert "The Kitchen Table (kitchen.example.com/nutrition.xml)" in options
    assert "The Kitchen Table (kitchen.example.com/recipes.xml)" in options
    assert "Sleep Weekly" in options  # a title of its own stays as it is


def test_removing_a_rule_names_it_and_asks_first(admin_client):
    rule = curation.add_rule("block", "miracle cure", None)
    curation.add_rule("require", "walking", None)
    db.session.commit()
    page = admin_client.get("/admin/feeds/rules").get_data(as_text=True)
    removing = re.search(rf'action="/admin/feeds/rules/{rule.id}/delete"[^>]*>.*?</form>', page)
    assert removing, page
    assert 'data-confirm="Remove the rule block “miracle cure”?' in removing[0]
    button = re.search(r"<button[^>]*>(.*?)</button>", removing[0])[1]
    assert (
        " ".join(re.sub(r"<[^>]+>", "", button).split()) == "Remove the rule block “miracle cure”"
    )

    done = admin_client.submit(f"/admin/feeds/rules/{rule.id}/delete", {}, follow_redirects=True)
    assert "Rule removed: block “miracle cure”." in done.get_data(as_text=True)
    assert db.session.scalars(sa.select(KeywordRule.phrase)).all() == ["walking"]
