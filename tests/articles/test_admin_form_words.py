"""Admin forms refuse what would show as nothing or be silently changed, and say so once,
in words: a name or reviewer line of zero-width characters, a comma where one topic is
named, an interval that is not a number, a value over its length."""

from __future__ import annotations

import html as html_module
import re
import unicodedata

import pytest

from articles.models import Feed
from articles.topics import topic_for
from club.extensions import db
from tests.articles.test_opml import import_opml
from tests.articles.test_topics_admin import make_topic
from tests.conftest import make_article, make_feed, table_fingerprint

ZERO_WIDTH = "\u200b\u200b"


def errors_in(html: str) -> list[str]:
    """The field errors the page shows, in order."""
    lists = re.findall(r'<ul class="field-errors"[^>]*>(.*?)</ul>', html, re.S)
    return [html_module.unescape(e) for e in re.findall(r"<li>(.*?)</li>", "".join(lists))]


def edit_feed(admin_client, feed: Feed, **changes):
    form = {"title": feed.title, "topic": "", "full_content": "y", "interval_minutes": 30}
    return admin_client.submit(f"/admin/feeds/{feed.id}/edit", {**form, **changes})


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"title": ZERO_WIDTH}, "Enter a name with letters or numbers."),
        ({"topic": "Back pain, Sleep"}, "Name one topic only: a topic name cannot hold a comma."),
        ({"interval_minutes": ""}, "Enter a number of minutes, such as 30."),
        ({"interval_minutes": "half an hour"}, "Enter a number of minutes, such as 30."),
        (
            {"interval_minutes": "2"},
            "Check no more often than every 5 minutes, and at least once a day (1,440 minutes).",
        ),
        ({"title": "x" * 301}, "Use at most 300 characters."),
    ],
)
def test_a_feed_edit_is_refused_once_in_words_and_nothing_changes(admin_client, changes, error):
    feed = make_feed(title="Everyday Health Notes")
    before = table_fingerprint()
    response = edit_feed(admin_client, feed, **changes)
    assert response.status_code == 400
    assert errors_in(response.text) == [error]
    assert table_fingerprint() == before


@pytest.mark.parametrize("length", [2001, 2048])
def test_a_feed_address_over_the_longest_the_site_keeps_is_refused_as_too_long(
    admin_client, length
):
    url = "https://example.com/feed.xml?" + "a" * (length - 29)
    response = admin_client.submit(
        "/admin/feeds/new", {"url": url, "interval_minutes": 30, "action": "preview"}
    )
    assert response.status_code == 400
    assert errors_in(response.text) == ["Use at most 2,000 characters."]
    assert 'maxlength="2000"' in response.text


def test_a_reviewer_line_of_nothing_that_shows_is_refused(admin_client):
    article = make_article(status="pending", title="Walking helps")
    before = table_fingerprint()
    response = admin_client.submit(
        f"/admin/articles/{article.id}/edit",
        {"title": "Walking helps", "summary": "", "reviewed_by": ZERO_WIDTH},
    )
    assert response.status_code == 400
    assert errors_in(response.text) == ["Enter the reviewer's name with letters or numbers."]
    assert table_fingerprint() == before


def test_a_keyword_rule_of_nothing_that_shows_is_refused(admin_client):
    response = admin_client.submit(
        "/admin/feeds/rules",
        {"kind": "block", "phrase": ZERO_WIDTH, "feed_id": 0, "action": "save"},
    )
    assert response.status_code == 400
    assert errors_in(response.text) == ["Enter a phrase with letters or numbers."]


def test_a_rule_for_a_feed_deleted_since_its_preview_says_so(admin_client):
    feed = make_feed(title="Golem")
    form = {"kind": "block", "phrase": "golem", "feed_id": feed.id}
    previewed = f"block|{feed.id}|golem"  # what the admin previewed
    db.session.delete(feed)
    db.session.commit()  # another admin, meanwhile
    response = admin_client.submit(
        "/admin/feeds/rules", {**form, "previewed": previewed, "action": "save"}
    )
    assert response.status_code == 400
    assert errors_in(response.text) == [
        "That feed is not on the site any more (deleted meanwhile): "
        "choose where the rule applies again."
    ]


def test_an_article_edit_refuses_a_topic_name_too_long_to_keep_whole(admin_client):
    article = make_article(status="pending", title="Walking helps")
    before = table_fingerprint()
    long_name = "Brand new topic " + "T" * 100
    response = admin_client.submit(
        f"/admin/articles/{article.id}/edit",
        {"title": "Walking helps", "summary": "", "topics": f"Health, {long_name}"},
    )
    assert response.status_code == 400
    assert errors_in(response.text) == [
        "“Brand new topic TTTTTTTTTTTTTT…” is too long for a topic name: use at most 80 characters."
    ]
    assert table_fingerprint() == before


def test_an_article_edit_refuses_more_topics_than_an_article_may_have(admin_client):
    article = make_article(status="pending", title="Walking helps")
    before = table_fingerprint()
    typed = ", ".join(f"Topic {n}" for n in range(11))
    response = admin_client.submit(
        f"/admin/articles/{article.id}/edit",
        {"title": "Walking helps", "summary": "", "topics": typed},
    )
    assert response.status_code == 400
    assert errors_in(response.text) == ["Give an article at most 10 topics: this list names 11."]
    assert f'value="{typed}"' in response.text  # kept, to shorten
    assert table_fingerprint() == before


def test_an_article_may_have_ten_topics_however_often_they_are_typed(admin_client):
    article = make_article(status="pending", title="Walking helps")
    typed = ", ".join(f"Topic {n}, topic {n}" for n in range(10))
    response = admin_client.submit(
        f"/admin/articles/{article.id}/edit",
        {"title": "Walking helps", "summary": "", "topics": typed},
    )
    assert response.status_code == 302
    assert len(db.session.get(type(article), article.id).topics) == 10


def test_a_topic_name_counts_its_letters_as_composed_not_as_typed(admin_client):
    article = make_article(status="pending", title="Walking helps")
    typed = unicodedata.normalize("NFD", "é" * 80)  # as some keyboards send accents: 160
    response = admin_client.submit(
        f"/admin/articles/{article.id}/edit",
        {"title": "Walking helps", "summary": "", "topics": typed},
    )
    assert response.status_code == 302
    assert [t.name for t in db.session.get(type(article), article.id).topics] == ["é" * 80]


def test_a_feed_or_topic_named_with_separate_accent_marks_is_counted_as_composed(admin_client):
    # The rename and feed forms took the raw length first: 50 letters refused as 100.
    typed = unicodedata.normalize("NFD", "é" * 50)
    topic = make_topic("Diet")
    feed = make_feed()

    renamed = admin_client.submit(
        f"/admin/topics/{topic.id}/edit", {"name": typed, "drawn": "Diet"}
    )
    edited = edit_feed(admin_client, feed, topic=typed)

    assert (renamed.status_code, edited.status_code) == (302, 302)
    db.session.expire_all()
    assert topic.name == feed.topic.name == "é" * 50


def test_an_opml_outline_named_with_nothing_that_shows_gets_its_address_for_a_name(admin_client):
    opml = (
        '<opml version="2.0"><body><outline type="rss" text="\u200b" '
        'xmlUrl="https://quiet.example.com/feed.xml"/></body></opml>'
    ).encode()
    import_opml(admin_client, opml)
    [feed] = db.session.scalars(db.select(Feed)).all()
    assert feed.name == "https://quiet.example.com/feed.xml"


def test_a_feed_whose_own_title_shows_nothing_is_named_by_its_address(app):
    feed = make_feed(title=ZERO_WIDTH, url="https://quiet.example.com/feed.xml")
    assert feed.name == "https://quiet.example.com/feed.xml"


def test_an_article_tagged_past_the_topic_limit_before_it_existed_can_still_be_edited(
    admin_client,
):
    article = make_article(status="pending", title="Walking helps")
    article.topics = [topic_for(f"Topic {n}") for n in range(11)]
    db.session.commit()
    kept = ", ".join(sorted(f"Topic {n}" for n in range(11)))
    fields = {"title": "Walking helps you", "summary": "", "topics": kept}

    fixed = admin_client.submit(f"/admin/articles/{article.id}/edit", fields)
    more = admin_client.submit(
        f"/admin/articles/{article.id}/edit", {**fields, "topics": f"{kept}, Topic 11"}
    )

    assert fixed.status_code == 302 and more.status_code == 400
    assert errors_in(more.text) == ["Give an article at most 10 topics: this list names 12."]
    assert db.session.get(type(article), article.id).title == "Walking helps you"
