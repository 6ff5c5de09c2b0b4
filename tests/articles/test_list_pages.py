"""Past a list's first page: a way back to the newest, and a title of the page's own;
the reading lists' tabs on every list they name."""

from __future__ import annotations

import re
from datetime import timedelta

from articles.models import Topic
from club.clock import utcnow
from club.community.models import Bookmark
from club.extensions import db
from tests.conftest import login, make_article, make_feed

BACK = "Back to the newest</a>"


def title_of(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1)


def older_link(html: str) -> str:
    return html.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")


def make_many(count: int, **fields) -> list:
    feed, now = make_feed(title="Bulk Source"), utcnow()
    return [
        make_article(feed, title=f"Bulk {n}", published_at=now - timedelta(minutes=n), **fields)
        for n in range(count)
    ]


def test_an_older_page_of_the_home_page_leads_back_and_says_what_it_is(client):
    make_many(25)
    first = client.get("/").get_data(as_text=True)
    second = client.get(older_link(first)).get_data(as_text=True)

    assert BACK not in first and title_of(first) == "Billionaire Club"
    assert 'href="/">Back to the newest</a>' in second
    assert title_of(second) == "Latest (older) · Billionaire Club"


def test_an_older_page_of_a_topic_leads_back_to_the_topic(client):
    topic = Topic(name="Sleep", slug="sleep")
    db.session.add(topic)
    for article in make_many(25):
        article.topics.append(topic)
    db.session.commit()
    first = client.get("/topics/sleep").get_data(as_text=True)
    second = client.get(older_link(first)).get_data(as_text=True)

    assert 'href="/topics/sleep">Back to the newest</a>' in second
    assert title_of(second) == "Sleep (older) · Billionaire Club"


def test_an_older_page_of_saved_articles_leads_back(client, alice):
    for article in make_many(25):
        db.session.add(Bookmark(user_id=alice.id, article_id=article.id))
    db.session.commit()
    login(client, alice)
    first = client.get("/saved").get_data(as_text=True)
    second = client.get(older_link(first)).get_data(as_text=True)

    assert BACK not in first and 'href="/saved">Back to the newest</a>' in second


def test_a_search_page_is_titled_with_its_query_and_page(client):
    make_many(25, summary="Sleep well.")

    first = client.get("/search?q=sleep").get_data(as_text=True)
    second = client.get("/search?q=sleep&page=2").get_data(as_text=True)

    assert title_of(first) == "“sleep” · Search · Billionaire Club"
    assert title_of(second) == "“sleep” · page 2 · Search · Billionaire Club"
    assert title_of(client.get("/search").get_data(as_text=True)) == "Search · Billionaire Club"


def test_for_you_keeps_the_tabs_it_is_one_of(client, alice):
    login(client, alice)

    html = client.get("/for-you").get_data(as_text=True)

    tabs = html.split('<nav class="tabs" aria-label="Articles">')[1].split("</nav>")[0]
    assert '<a href="/for-you" aria-current="page">For you</a>' in tabs
    assert ">Latest</a>" in tabs and ">Videos</a>" in tabs
