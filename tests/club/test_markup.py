"""Every page's markup: element ids are unique, and every label names a field on its page.

A second ``id="csrf_token"`` or ``id="email"`` makes a label, a skip link or a screen
reader's "jump to" land on the wrong form.
"""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

import pytest

from tests.club.test_banner import site_pages
from tests.community.conftest import add_comment
from tests.conftest import login, make_article


class IdCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: Counter[str] = Counter()
        self.label_targets: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids[values["id"]] += 1
        if tag == "label" and values.get("for"):
            self.label_targets.append(values["for"])


def markup_problems(html: str) -> list[str]:
    collector = IdCollector()
    collector.feed(html)
    problems = [f"id {name!r} used {n} times" for name, n in collector.ids.items() if n > 1]
    problems += [
        f"label for missing id {name!r}"
        for name in collector.label_targets
        if name not in collector.ids
    ]
    return problems


def pages_for(app, article, comment, author) -> list[str]:
    """Every page without arguments, and one of each kind that shows a thing."""
    return [
        *site_pages(app, author.handle),
        f"/articles/{article.id}",
        f"/search?q={article.title.split()[0]}",
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
    article = make_article(title="Walking helps back pain")
    author = request.getfixturevalue("alice")
    first = add_comment(article, author, "First thoughts")
    add_comment(article, author, "A reply", parent=first)
    add_comment(article, author, "Second thoughts")
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
