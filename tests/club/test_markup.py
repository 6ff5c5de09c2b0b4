"""Every page's markup: element ids are unique, every label names a field on its page, and
the headings in ``<main>`` start at h1 and skip no level.

A second ``id="csrf_token"`` or ``id="email"`` makes a label, a skip link or a screen
reader's "jump to" land on the wrong form; a skipped heading level makes a screen reader's
outline look as if a section were missing.
"""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser
from itertools import pairwise

import pytest

from articles.models import Topic
from club.community.models import Bookmark, TopicFollow
from club.extensions import db
from club.models import Appeal
from tests.club.test_banner import site_pages
from tests.community.conftest import add_comment
from tests.conftest import login, make_article


class IdCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: Counter[str] = Counter()
        self.label_targets: list[str] = []
        self.in_main = False
        self.heading_levels: list[int] = []

    def handle_starttag(self, tag, attrs) -> None:
        values = dict(attrs)
        if tag == "main":
            self.in_main = True
        elif self.in_main and tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.heading_levels.append(int(tag[1]))
        if values.get("id"):
            self.ids[values["id"]] += 1
        if tag == "label" and values.get("for"):
            self.label_targets.append(values["for"])

    def handle_endtag(self, tag) -> None:
        if tag == "main":
            self.in_main = False


def markup_problems(html: str) -> list[str]:
    collector = IdCollector()
    collector.feed(html)
    problems = [f"id {name!r} used {n} times" for name, n in collector.ids.items() if n > 1]
    problems += [
        f"label for missing id {name!r}"
        for name in collector.label_targets
        if name not in collector.ids
    ]
    levels = collector.heading_levels
    if levels and levels[0] != 1:
        problems.append(f"the first heading in main is h{levels[0]}")
    problems += [
        f"h{before} followed by h{after}"
        for before, after in pairwise(levels)
        if after > before + 1
    ]
    return problems


def pages_for(app, article, comment, author) -> list[str]:
    """Every page without arguments, and one of each kind that shows a thing."""
    return [
        *site_pages(app, author.handle),
        f"/articles/{article.id}",
        f"/search?q={article.title.split()[0]}",
        f"/topics/{article.topics[0].slug}",
        f"/comments/{comment.id}",
        f"/comments/{comment.id}/edit",
        f"/comments/{comment.id}/report",
        f"/admin/users/{author.id}",
        f"/admin/feeds/{article.feed_id}/edit",
        f"/admin/feeds/{article.feed_id}/delete",
        f"/admin/articles/{article.id}/edit",
    ]


@pytest.mark.parametrize("persona", [None, "alice", "bob", "carol"])
def test_no_page_repeats_an_element_id_or_labels_a_missing_field(app, client, request, persona):
    topic = Topic(slug="back-pain", name="Back pain")
    article = make_article(title="Walking helps back pain", topics=[topic])
    author = request.getfixturevalue("alice")
    # Saved and For you list the article for alice.
    db.session.add_all([Bookmark(user_id=author.id, article_id=article.id)])
    db.session.add(TopicFollow(user_id=author.id, topic_id=topic.id))
    first = add_comment(article, author, "First thoughts")
    add_comment(article, author, "A reply", parent=first)
    add_comment(article, author, "Second thoughts")
    frozen = request.getfixturevalue("frank")  # with an open appeal, for the admin's page
    db.session.add(Appeal(user_id=frozen.id, freeze_started_at=frozen.frozen_at, text="Please"))
    db.session.commit()
    if persona:
        login(client, request.getfixturevalue(persona))
    checked = 0
    for path in pages_for(app, article, first, author):
        response = client.get(path)
        if response.mimetype != "text/html" or response.status_code != 200:
            continue
        checked += 1
        assert markup_problems(response.get_data(as_text=True)) == [], path
    assert checked >= 5


def element_with_id(html: str, name: str) -> str:
    """The start tag and text of the element whose id is ``name``, up to its end tag."""
    start = html.rindex("<", 0, html.index(f'id="{name}"'))
    return html[start : html.index("</", start)]


@pytest.mark.parametrize(
    ("path", "data", "field", "error"),
    [
        ("/signup", {"email": "not-an-address"}, "email", "Enter a valid email address."),
        ("/login", {"email": ""}, "email", "This field is required."),
    ],
)
def test_a_field_with_an_error_is_marked_invalid_and_names_its_error(
    client, path, data, field, error
):
    html = client.submit(path, data).get_data(as_text=True)

    tag = element_with_id(html, field)
    assert 'aria-invalid="true"' in tag
    described = tag.split('aria-describedby="', 1)[1].split('"', 1)[0].split()
    assert f"{field}-errors" in described
    assert error in element_with_id(html, f"{field}-errors")
    assert markup_problems(html) == []


def test_a_hint_is_read_with_its_field(client):
    html = client.get("/signup").get_data(as_text=True)

    password = element_with_id(html, "password")
    assert 'aria-describedby="password-hint"' in password and "aria-invalid" not in password
    assert "10 characters" in element_with_id(html, "password-hint")
