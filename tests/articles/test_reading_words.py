"""What the reading pages say in words: an article's byline, and how search reads a query."""

from __future__ import annotations

import re

from articles.models import Article
from tests.conftest import make_article, make_feed


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def byline_of(client, article: Article) -> str:
    page = client.get(f"/articles/{article.id}").get_data(as_text=True)
    line = re.search(r'<p class="byline">(.*?)</p>', page, re.DOTALL).group(1)
    return " ".join(re.sub(r"<[^>]+>", " ", line).split())


def test_the_byline_names_an_author_other_than_the_source(client):
    feed = make_feed(title="Move Well Daily")
    written = make_article(feed, source_name="Move Well Daily", author="Dana Ortiz")
    channel = make_article(feed, source_name="Move Well Daily", author="move well daily")
    assert "· by Dana Ortiz" in byline_of(client, written)
    assert "by" not in byline_of(client, channel).split()


def test_search_says_every_word_must_appear_when_several_find_nothing(client):
    make_article(title="Breakfast habits")
    make_article(title="Sleep habits")
    form = page(client, "/search")
    assert 'aria-describedby="q-hint"' in form and "every word you type" in form
    both = page(client, "/search?q=breakfast+OR+sleep")
    assert "No articles match" in both and "Every word must appear in an article" in both
    one = page(client, "/search?q=dinner")
    assert "No articles match" in one and "Every word must appear" not in one
