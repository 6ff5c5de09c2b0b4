"""Search results: ranked by relevance, and among equally relevant results newest first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from club.clock import utcnow
from tests.conftest import make_article


def test_equally_relevant_results_come_newest_first(client):
    # One fetch stores a feed's entries newest first, so the newest gets the lowest id:
    # ordered by id alone, ties came out oldest first.
    now = utcnow()
    for hours, name in ((1, "newest"), (5, "middle"), (29, "oldest")):
        make_article(
            title=f"Sleep notes {name}",
            summary="Sleep well.",
            published_at=now - timedelta(hours=hours),
        )

    html = client.get("/search?q=sleep").get_data(as_text=True)

    assert html.index("notes newest") < html.index("notes middle") < html.index("notes oldest")


@pytest.mark.parametrize(
    ("query", "advice"),
    [
        ('"quality sleep"', "try it without the quotes"),
        ('"quality sleep" knees', "try it without the quotes"),
        ("quality sleep", "try fewer words"),
        ('"sleep"', None),
        ("sleep ***", None),
    ],
)
def test_it_gives_advice_that_fits_the_query_when_nothing_matches(client, query, advice):
    make_article(title="Walking for back pain", summary="Walk daily.")
    html = client.get("/search", query_string={"q": query}).get_data(as_text=True)
    assert "No articles match" in html
    shown = [words for words in ("try it without the quotes", "try fewer words") if words in html]
    assert shown == ([advice] if advice else [])
