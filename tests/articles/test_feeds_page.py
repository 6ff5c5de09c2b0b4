"""The feeds page's filters (status, topic, words) and its pages of 50, under /admin/feeds."""

from __future__ import annotations

import html as html_module
import re

import pytest
import sqlalchemy as sa

from articles import curation
from articles.models import Feed
from club.extensions import db
from tests.articles.conftest import FEEDS, action_names
from tests.conftest import make_article, make_feed


def listed(html: str) -> list[str]:
    """The feed names the page's table lists, in its order."""
    return re.findall(r"<td><strong>([^<]*)</strong>", html)


def link(html: str, text: str) -> str | None:
    """The address of the link reading ``text``, or None."""
    found = re.search(rf'href="([^"]*)"[^>]*>{re.escape(text)}<', html)
    return html_module.unescape(found.group(1)) if found else None


def current_status(html: str) -> str:
    """The status link marked as the current one."""
    return re.search(r'aria-current="page">([^<]*)</a>', html.split('aria-label="Feeds by')[1])[1]


def test_the_status_links_count_each_status_and_mark_the_current_one(admin_client):
    for title, status in [("Up A", "active"), ("Up B", "active"), ("Resting", "paused")]:
        make_feed(title=title, status=status)
    for n in range(3):
        make_feed(title=f"Broken {n}", status="failing", last_error="the source answered 500")

    html = admin_client.get("/admin/feeds/?status=failing").text

    assert listed(html) == ["Broken 0", "Broken 1", "Broken 2"]
    assert current_status(html) == "Failing (3)"
    for label in ("All (6)", "Active (2)", "Paused (1)"):
        assert link(html, label) is not None, label
    assert listed(admin_client.get(link(html, "Paused (1)")).text) == ["Resting"]
    assert current_status(admin_client.get("/admin/feeds/").text) == "All (6)"


def test_it_filters_by_topic_and_marks_the_chosen_topic(admin_client):
    sleep, knees = curation.topic_for("Sleep"), curation.topic_for("Knees")
    make_feed(title="Sleep Weekly", topic=sleep)
    make_feed(title="Knee Notes", topic=knees)
    make_feed(title="No Topic")

    html = admin_client.get(f"/admin/feeds/?topic={sleep.id}").text

    assert listed(html) == ["Sleep Weekly"]
    assert f'<option value="{sleep.id}" selected>Sleep</option>' in html
    assert '<label for="filter-topic">Topic</label>' in html


def test_the_topic_choices_are_in_name_order_whatever_the_case(admin_client):
    for name in ("sleep", "Knees", "Zinc", "ágil"):
        make_feed(title=f"{name} news", topic=curation.topic_for(name))

    html = admin_client.get("/admin/feeds/").text

    choices = re.findall(r'<option value="\d+">([^<]*)</option>', html)
    assert choices[:3] == ["Knees", "sleep", "Zinc"]


def test_it_finds_feeds_by_words_in_their_title_or_address(admin_client):
    make_feed(title="Walking Daily")
    make_feed(title="Untitled", url="https://walkers.example.org/rss")
    make_feed(title="Sleep Weekly")
    make_feed(title="100% Health")

    assert listed(admin_client.get("/admin/feeds/?q=WALK").text) == ["Untitled", "Walking Daily"]
    # Typed characters are matched as themselves, not as SQL wildcards.
    assert listed(admin_client.get("/admin/feeds/?q=%25").text) == ["100% Health"]


def test_words_match_whatever_the_case_of_accented_letters(admin_client):
    make_feed(title="Économie de la Santé")
    make_feed(title="ÜBUNG UND GESUNDHEIT")
    make_feed(title="Sleep Weekly")

    assert listed(admin_client.get("/admin/feeds/?q=économie").text) == ["Économie de la Santé"]
    assert listed(admin_client.get("/admin/feeds/?q=übung").text) == ["ÜBUNG UND GESUNDHEIT"]


def test_the_status_counts_follow_the_other_filters(admin_client):
    make_feed(title="Walking Daily", status="failing")
    make_feed(title="Walking Weekly")
    make_feed(title="Sleep Weekly", status="failing")

    html = admin_client.get("/admin/feeds/?q=walking").text

    assert current_status(html) == "All (2)"
    assert link(html, "Failing (1)") == "/admin/feeds/?status=failing&q=walking"


def test_a_filter_that_matches_nothing_says_so_and_offers_to_clear_it(admin_client):
    make_feed(title="Walking Daily")

    html = admin_client.get("/admin/feeds/?status=paused&q=walking").text

    assert listed(html) == []
    assert "No feed matches these filters." in html and "No feeds yet" not in html
    assert link(html, "Clear the filters") == "/admin/feeds/"
    assert listed(admin_client.get("/admin/feeds/").text) == ["Walking Daily"]


def add_feeds(count: int, **fields) -> list[Feed]:
    return [make_feed(title=f"Source {n:03}", **fields) for n in range(count)]


def walk_pages(admin_client, start: str) -> list[list[str]]:
    """The names each page lists, following Next from ``start`` to the end."""
    pages, url = [], start
    while url:
        html = admin_client.get(url).text
        pages.append(listed(html))
        url = link(html, "Next")
    return pages


def test_it_lists_50_feeds_a_page_with_next_and_previous_keeping_the_filters(admin_client):
    add_feeds(120, status="failing")
    make_feed(title="Source 999")  # active: the failing filter leaves it out

    first = admin_client.get("/admin/feeds/?status=failing").text
    pages = walk_pages(admin_client, "/admin/feeds/?status=failing")

    assert [len(page) for page in pages] == [50, 50, 20]
    assert [name for page in pages for name in page] == [f"Source {n:03}" for n in range(120)]
    assert link(first, "Previous") is None
    second = admin_client.get(link(first, "Next")).text
    assert "status=failing" in link(second, "Next") and "status=failing" in link(second, "Previous")
    assert listed(admin_client.get(link(second, "Previous")).text) == pages[0]


def test_previous_from_the_last_page_leads_back_page_by_page(admin_client):
    add_feeds(120)
    pages = walk_pages(admin_client, "/admin/feeds/")
    html = admin_client.get("/admin/feeds/").text
    while link(html, "Next"):
        html = admin_client.get(link(html, "Next")).text

    back = []
    while True:
        back.append(listed(html))
        if not link(html, "Previous"):
            break
        html = admin_client.get(link(html, "Previous")).text

    assert len(back) == 3 and back[::-1] == pages


def test_a_feed_paused_on_one_page_does_not_make_the_next_page_skip_one(admin_client):
    feeds = add_feeds(60)
    first = admin_client.get("/admin/feeds/").text
    response = admin_client.submit(f"/admin/feeds/{feeds[0].id}/pause")  # moves to the end
    assert response.status_code == 302

    second = admin_client.get(link(first, "Next")).text

    assert listed(second)[0] == "Source 050"
    assert listed(second)[-1] == "Source 000"  # paused feeds come last


@pytest.mark.parametrize(
    "query",
    [
        "status=bogus",
        "status=",
        "topic=abc",
        "topic=99999",
        "topic=-1",
        "after=garbage",
        "before=garbage",
        "after=7-1-Source",
        "after=1-0-x",
        "after=1-99999999999-x",
        "before=1-1-" + "x" * 400,
        "after=1-1-%00",
        "q=%00",
        "q=" + "x" * 2000,
    ],
)
def test_bad_parameters_are_answered_with_the_unfiltered_page(admin_client, query):
    add_feeds(3)
    response = admin_client.get(f"/admin/feeds/?{query}")
    assert response.status_code == 200
    if not query.startswith("q="):
        assert listed(response.text) == ["Source 000", "Source 001", "Source 002"]


def test_a_page_past_the_end_leads_back_to_the_first(admin_client):
    add_feeds(2)
    html = admin_client.get("/admin/feeds/?status=active&after=1-99999-zzz").text
    assert "No more feeds here." in html
    assert link(html, "Back to the first page") == "/admin/feeds/?status=active"


def test_each_feed_links_to_its_pending_articles_in_the_queue(admin_client):
    busy, quiet = make_feed(title="Busy Source"), make_feed(title="Quiet Source")
    for _ in range(2):
        make_article(busy, status="pending")
    make_article(busy, status="published")
    make_article(quiet, status="published")

    html = admin_client.get("/admin/feeds/").text

    found = re.findall(
        r'href="([^"]*)">(\d+) pending<span class="visually-hidden"> from ([^<]*)<', html
    )
    assert found == [(f"/admin/articles/?status=pending&amp;feed={busy.id}", "2", "Busy Source")]


@pytest.mark.parametrize("action", ["pause", "refresh"])
def test_a_rows_action_returns_to_the_filtered_page_it_was_on(admin_client, action):
    feed = make_feed(title="Walking Daily", url="https://127.0.0.1:1/feed.xml")
    page = "/admin/feeds/?status=active&q=walking"
    html = admin_client.get(page).text
    sent_back = html_module.unescape(re.search(r'name="next" value="([^"]*)"', html).group(1))

    response = admin_client.submit(f"/admin/feeds/{feed.id}/{action}", {"next": sent_back})

    assert response.headers["Location"] == page


def test_a_rows_action_never_returns_off_site(admin_client):
    feed = make_feed()
    response = admin_client.submit(f"/admin/feeds/{feed.id}/pause", {"next": "//evil.example/"})
    assert response.headers["Location"] == "/admin/feeds/"


def test_the_feeds_page_costs_the_same_queries_for_5_or_120_feeds(admin_client, count_queries):
    def measure(total: int) -> int:
        while (n := db.session.scalar(sa.select(sa.func.count(Feed.id)))) < total:
            feed = make_feed(status=("active", "paused", "failing")[n % 3])
            feed.topic = curation.topic_for(f"Topic {n % 7}")
            make_article(feed, status="pending")
        with count_queries() as counter:
            html = admin_client.get("/admin/feeds/?q=source").text
        assert "1 pending" in html
        return counter.count

    assert measure(5) == measure(120)


def test_each_feed_action_is_named_with_its_feed(admin_client):
    make_feed(url="https://a.example/feed", title="Walking Weekly")
    make_feed(url="https://b.example/feed", title="Sleep Notes", status="paused")
    names = action_names(admin_client.get("/admin/feeds/").get_data(as_text=True))
    assert sorted(names) == sorted(
        [f"{verb} Walking Weekly" for verb in ("Edit", "Refresh now", "Pause", "Delete")]
        + [f"{verb} Sleep Notes" for verb in ("Edit", "Refresh now", "Resume", "Delete")]
    )


def test_two_feeds_of_one_title_have_actions_told_apart_by_address(admin_client):
    make_feed(url="https://kitchen.example.com/nutrition.xml", title="The Kitchen Table")
    make_feed(url="https://kitchen.example.com/recipes.xml", title="The Kitchen Table")
    make_feed(url="https://sleep.example.com/feed.xml", title="Sleep Notes")
    names = action_names(admin_client.get("/admin/feeds/").get_data(as_text=True))
    edits = sorted(name for name in names if name.startswith("Edit "))
    assert edits == [
        "Edit Sleep Notes",
        "Edit The Kitchen Table (kitchen.example.com/nutrition.xml)",
        "Edit The Kitchen Table (kitchen.example.com/recipes.xml)",
    ]


def test_the_dashboards_failing_feeds_line_opens_the_failing_feeds(admin_client):
    make_feed(title="Broken Source", status="failing", last_error="error (500)")
    make_feed(title="Fine Source")
    dashboard = admin_client.get("/admin/").get_data(as_text=True)
    waiting = dashboard.split('<ul class="waiting">', 1)[1].split("</ul>", 1)[0]

    page = admin_client.get(link(waiting, "Feeds")).get_data(as_text=True)

    assert listed(page) == ["Broken Source"]
    assert current_status(page) == "Failing (1)"


def test_a_feed_loaded_from_a_file_says_where_its_articles_came_from(app, admin_client):
    make_feed(title="Never fetched", url="https://quiet.example.com/feed.xml")
    loaded = app.test_cli_runner().invoke(
        args=[
            "feeds", "ingest-file", str(FEEDS / "duplicate_guids.xml"),
            "--source-url", "https://dupes.example.com/feed.xml",
        ]
    )  # fmt: skip
    assert loaded.exit_code == 0, loaded.output
    page = admin_client.get("/admin/feeds/").get_data(as_text=True)
    rows = {row.split("</strong>")[0]: row for row in page.split("<strong>")[1:]}
    [from_file] = [row for name, row in rows.items() if name != "Never fetched"]
    assert "never: its articles came from a file" in from_file
    assert "came from a file" not in rows["Never fetched"]
