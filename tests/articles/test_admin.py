"""Curation under /admin: feeds and keyword rules, every action audited.

OPML is in test_opml.py; deleting a feed and adding it again in test_feed_removal.py.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from articles import curation
from articles.models import Article, Feed, KeywordRule, Topic
from club.clock import utcnow
from club.extensions import db
from club.models import AuditEntry
from tests.articles.conftest import audit_actions, feed_bytes, form_as_sent, item, rss
from tests.conftest import login, make_article, make_feed, table_fingerprint

# What every refused destination reads, whatever refused it.
REFUSED = (
    "not an address feeds may be fetched from "
    "(public web addresses only, on the usual ports, without a user name or password)"
)


@pytest.mark.parametrize(
    "url", ["/admin/feeds/", "/admin/feeds/new", "/admin/feeds/rules", "/admin/articles/"]
)
def test_it_refuses_curation_pages_to_members(client, alice, url):
    login(client, alice)
    assert client.get(url).status_code == 403


def test_it_refuses_curation_actions_to_members(client, alice):
    article = make_article(status="pending")
    login(client, alice)
    assert client.submit(f"/admin/articles/{article.id}/approve").status_code == 403
    db.session.expire_all()
    assert db.session.get(Article, article.id).status == "pending"


@pytest.mark.parametrize(
    "path", ["/admin/feeds/", "/admin/feeds/new", "/admin/articles/", "/admin/feeds/rules"]
)
def test_it_styles_every_curation_page(admin_client, path):
    response = admin_client.get(path)
    assert response.status_code == 200, path
    assert "/articles/static/articles.css" in response.get_data(as_text=True), path


def test_it_shows_feed_health(admin_client):
    make_feed(title="Healthy Source")
    make_feed(
        title="Broken Source",
        status="failing",
        last_error="the source answered with an error (500)",
        consecutive_errors=4,
    )
    html = admin_client.get("/admin/feeds/").get_data(as_text=True)
    assert "Healthy Source" in html and "error (500)" in html and "4 in a row" in html


def test_it_lists_failing_feeds_first_with_when_they_last_worked(admin_client):
    make_feed(title="A paused source", status="paused")
    make_feed(title="B healthy source")
    make_feed(
        title="C broken source",
        status="failing",
        last_error="the source answered with an error (404)",
        last_fetched_at=datetime(2026, 11, 26, 14, 45, tzinfo=UTC),
        last_success_at=datetime(2026, 11, 20, 9, 5, tzinfo=UTC),
    )
    html = admin_client.get("/admin/feeds/").get_data(as_text=True)
    order = [html.index(name) for name in ("C broken", "B healthy", "A paused")]
    assert order == sorted(order)
    assert "last worked: 20 Nov 09:05" in html


def test_it_refuses_a_topic_name_with_no_letter_or_digit(admin_client):
    """'!!!' and '???' would share one address (and so one topic)."""
    feed = make_feed()
    before = table_fingerprint()
    response = admin_client.submit(
        f"/admin/feeds/{feed.id}/edit",
        {"title": feed.title, "topic": "!!!", "full_content": "y", "interval_minutes": 30},
    )
    assert response.status_code == 400
    assert "“!!!” is not a topic name: use letters or digits." in response.text
    assert table_fingerprint() == before


def test_it_keeps_a_topic_named_before_the_rule_editable(admin_client):
    """A topic called "!!!" from before names needed a letter must not block every edit."""
    old = Topic(slug="topic", name="!!!")
    db.session.add(old)
    feed = make_feed(topic=old)
    response = admin_client.submit(
        f"/admin/feeds/{feed.id}/edit",
        {"title": "Renamed", "topic": "!!!", "full_content": "y", "interval_minutes": 30},
    )
    assert response.status_code == 302
    feed = db.session.get(Feed, feed.id)
    assert (feed.title, feed.topic_id) == ("Renamed", old.id)
    assert db.session.scalar(sa.select(sa.func.count(Topic.id))) == 1


def test_it_renames_the_source_on_the_feeds_articles(admin_client):
    feed = make_feed(title="BBC News - Health")
    article = make_article(feed, source_name="BBC News - Health")
    elsewhere = make_article(make_feed(title="Other"), source_name="Other")

    admin_client.submit(
        f"/admin/feeds/{feed.id}/edit",
        {"title": " BBC Health ", "full_content": "y", "interval_minutes": 30},
    )

    page = admin_client.get(f"/articles/{article.id}").text
    assert "Read the original article on BBC Health" in page
    assert db.session.get(Article, elsewhere.id).source_name == "Other"


def test_it_keeps_the_name_when_the_field_is_left_empty(admin_client):
    feed = make_feed(title="Kept")
    article = make_article(feed, source_name="Kept")
    admin_client.submit(
        f"/admin/feeds/{feed.id}/edit", {"title": "  ", "full_content": "y", "interval_minutes": 30}
    )
    assert db.session.get(Feed, feed.id).title == "Kept"
    assert db.session.get(Article, article.id).source_name == "Kept"


def test_it_moves_the_next_fetch_when_the_interval_changes(admin_client):
    fetched = utcnow() - timedelta(minutes=10)
    feed = make_feed(
        interval_minutes=30, last_fetched_at=fetched, next_fetch_at=fetched + timedelta(minutes=30)
    )
    admin_client.submit(
        f"/admin/feeds/{feed.id}/edit",
        {"title": feed.title, "auto_publish": "y", "full_content": "y", "interval_minutes": 1440},
    )
    feed = db.session.get(Feed, feed.id)
    assert feed.next_fetch_at == fetched + timedelta(minutes=1440)
    detail = db.session.scalar(sa.select(AuditEntry.detail))
    assert "auto-publish" in detail and "every 1440 min" in detail


def test_it_previews_a_feed_on_a_trusted_internal_address(app, admin_client, feed_server):
    # FEEDS_TRUSTED_ADDRESSES lets refresh fetch an internal feed host; adding one must work.
    app.config["FEEDS_TRUSTED_ADDRESSES"] = ["127.0.0.1"]
    url = feed_server.route("/feed.xml", body=rss(item(1, title="Internal entry")))

    page = admin_client.submit(
        "/admin/feeds/new", {"url": url, "interval_minutes": 30, "action": "preview"}
    ).get_data(as_text=True)

    assert REFUSED not in page
    assert "Internal entry" in page


def test_it_explains_a_host_name_that_is_not_valid_punycode(admin_client):
    response = admin_client.submit(
        "/admin/feeds/new", {"url": "http://xn--/feed", "interval_minutes": 30, "action": "preview"}
    )
    assert response.status_code == 400
    assert "not a valid URL" in response.get_data(as_text=True)


def previewed_feed(html: str) -> str:
    """The feed address the preview page says Save will add (its hidden field)."""
    return re.search(r'name="previewed" type="hidden" value="([^"]*)"', html).group(1)


def test_it_saves_only_the_feed_the_admin_previewed(allow_local_feeds, admin_client, feed_server):
    first = feed_server.route("/a.xml", body=rss(item(1, title="Entry of A"), title="Source A"))
    second = feed_server.route("/b.xml", body=rss(item(2, title="Entry of B"), title="Source B"))
    preview = admin_client.submit(
        "/admin/feeds/new", {"url": first, "interval_minutes": 30, "action": "preview"}
    ).get_data(as_text=True)

    # The address is changed after the preview, then Save is clicked.
    fields = {"url": second, "interval_minutes": 30, "previewed": previewed_feed(preview)}
    response = admin_client.submit("/admin/feeds/new", {**fields, "action": "save"})

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Nothing was saved: this is not the feed you previewed." in html
    assert "Entry of B" in html and previewed_feed(html) == second
    assert db.session.scalar(sa.select(sa.func.count(Feed.id))) == 0
    again = admin_client.submit(
        "/admin/feeds/new", {**fields, "previewed": second, "action": "save"}
    )
    assert again.status_code == 302
    assert db.session.scalars(sa.select(Feed.title)).all() == ["Source B"]


def test_a_feed_another_admin_adds_at_the_same_moment_is_explained(
    allow_local_feeds, admin_client, feed_server
):
    url = feed_server.route("/feed.xml", body=rss(item(1), title="Server Source"))
    preview = admin_client.submit(
        "/admin/feeds/new", {"url": url, "interval_minutes": 30, "action": "preview"}
    ).get_data(as_text=True)

    def other_admin_saves_it_first(mapper, connection, feed) -> None:
        # Another admin's request commits the same feed just before this one's INSERT.
        with db.engine.begin() as other:
            other.execute(sa.insert(Feed.__table__).values(url=feed.url, title="Theirs"))

    sa.event.listen(Feed, "before_insert", other_admin_saves_it_first, once=True)
    try:
        fields = {"url": url, "interval_minutes": 30, "previewed": previewed_feed(preview)}
        response = admin_client.submit("/admin/feeds/new", {**fields, "action": "save"})
    finally:
        if sa.event.contains(Feed, "before_insert", other_admin_saves_it_first):
            sa.event.remove(Feed, "before_insert", other_admin_saves_it_first)

    assert response.status_code == 400
    assert "The site already has this feed: Theirs." in response.get_data(as_text=True)
    assert db.session.scalars(sa.select(Feed.title)).all() == ["Theirs"]


def test_it_previews_then_adds_a_feed(allow_local_feeds, admin_client, feed_server):
    url = feed_server.route(
        "/feed.xml", body=rss(item(1, title="Preview entry"), title="Server Source")
    )
    preview = admin_client.submit(
        "/admin/feeds/new", {"url": url, "interval_minutes": 30, "action": "preview"}
    )
    assert "Preview entry" in preview.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Feed.id))) == 0
    saved = admin_client.submit(
        "/admin/feeds/new",
        {
            "url": url,
            "topic": "Sleep",
            "auto_publish": "y",
            "interval_minutes": 30,
            "action": "save",
            "previewed": previewed_feed(preview.get_data(as_text=True)),
        },
    )
    assert saved.status_code == 302
    feed = db.session.scalar(sa.select(Feed))
    assert feed.title == "Server Source" and feed.topic.name == "Sleep" and feed.auto_publish
    # Saved feeds are refreshed straight away (inline without Redis).
    assert db.session.scalar(sa.select(Article.title)) == "Preview entry"
    assert audit_actions() == ["feed.add"]


@pytest.mark.parametrize("spelling", ["{url}?", "{url}#top", "{url}?utm_source=x", "./"])
def test_it_refuses_a_feed_it_has_under_another_spelling(
    allow_local_feeds, admin_client, feed_server, spelling
):
    url = feed_server.route("/feed.xml", body=rss(item(1)))
    curation.create_feed(url, title="Server Source")
    db.session.commit()
    typed = (
        url.replace("/feed.xml", "/./feed.xml") if spelling == "./" else spelling.format(url=url)
    )
    for action in ("preview", "save"):
        html = admin_client.submit(
            "/admin/feeds/new", {"url": typed, "interval_minutes": 30, "action": action}
        ).get_data(as_text=True)
        assert "The site already has this feed: Server Source." in html
        assert "Save this feed" not in html and typed in html  # what was typed is kept
    assert db.session.scalar(sa.select(sa.func.count(Feed.id))) == 1


def test_it_discovers_the_feed_a_site_advertises(allow_local_feeds, admin_client, feed_server):
    feed_server.route("/feed.xml", body=rss(item(1, title="Discovered")))
    site = feed_server.route(
        "/", body=feed_bytes("html_page.html"), headers={"Content-Type": "text/html"}
    )
    html = admin_client.submit(
        "/admin/feeds/new", {"url": site, "interval_minutes": 30, "action": "preview"}
    ).get_data(as_text=True)
    assert "Discovered" in html and feed_server.url("/feed.xml") in html


def test_it_explains_why_an_address_cannot_be_added(admin_client, feed_server):
    url = feed_server.route("/feed.xml", body=rss(item(1)))
    html = admin_client.submit(
        "/admin/feeds/new", {"url": url, "interval_minutes": 30, "action": "save"}
    ).get_data(as_text=True)
    assert f"We could not read a feed there: {REFUSED}." in html
    assert db.session.scalar(sa.select(sa.func.count(Feed.id))) == 0


def test_it_edits_pauses_and_resumes_a_feed(admin_client):
    feed = make_feed()
    admin_client.submit(
        f"/admin/feeds/{feed.id}/edit",
        {"title": "Renamed", "topic": "Knees", "interval_minutes": 60},
    )
    admin_client.submit(f"/admin/feeds/{feed.id}/pause")
    assert db.session.get(Feed, feed.id).status == "paused"
    admin_client.submit(f"/admin/feeds/{feed.id}/resume")
    feed = db.session.get(Feed, feed.id)
    assert (feed.title, feed.topic.name, feed.interval_minutes, feed.status) == (
        "Renamed",
        "Knees",
        60,
        "active",
    )
    assert audit_actions() == ["feed.edit", "feed.pause", "feed.resume"]


def feed_edit_form(admin_client, feed: Feed) -> dict[str, str]:
    """The feed's edit form as a browser would send it untouched."""
    html = admin_client.get(f"/admin/feeds/{feed.id}/edit").get_data(as_text=True)
    return form_as_sent(html, holding="revision")


def test_a_feed_edit_drawn_before_another_admins_save_changes_nothing_unseen(admin_client):
    feed = make_feed(title="Source")
    stale = feed_edit_form(admin_client, feed)
    admin_client.submit(f"/admin/feeds/{feed.id}/edit", {**stale, "topic": "Sleep"})

    response = admin_client.submit(f"/admin/feeds/{feed.id}/edit", {**stale, "auto_publish": "y"})

    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone saved this feed's settings after you opened them." in html
    assert "<dt>Topic</dt><dd>Sleep</dd>" in html
    feed = db.session.get(Feed, feed.id)
    assert feed.topic.name == "Sleep" and not feed.auto_publish
    # The form holds this admin's choice and, in the topic they left alone, the new one.
    shown = form_as_sent(html, holding="revision")
    assert (shown["topic"], shown["auto_publish"]) == ("Sleep", "y")

    again = admin_client.submit(f"/admin/feeds/{feed.id}/edit", shown)

    assert again.status_code == 302
    feed = db.session.get(Feed, feed.id)
    assert (feed.topic.name, feed.auto_publish) == ("Sleep", True)


def test_a_setting_both_admins_changed_keeps_the_second_ones_once_saved_again(admin_client):
    feed = make_feed(title="Source")
    stale = feed_edit_form(admin_client, feed)
    admin_client.submit(f"/admin/feeds/{feed.id}/edit", {**stale, "topic": "Sleep"})

    response = admin_client.submit(f"/admin/feeds/{feed.id}/edit", {**stale, "topic": "Knees"})
    assert "You both changed “Topic”: the form holds your choice." in response.text
    admin_client.submit(f"/admin/feeds/{feed.id}/edit", form_as_sent(response.text, "revision"))

    assert db.session.get(Feed, feed.id).topic.name == "Knees"


def test_a_fetch_naming_an_untitled_feed_is_not_taken_for_another_admins_save(admin_client):
    feed = make_feed()
    feed.title = ""
    db.session.commit()
    drawn = feed_edit_form(admin_client, feed)
    feed.title, feed.site_url = "Named By Its Feed", "https://site.example.com/"  # a fetch
    db.session.commit()

    response = admin_client.submit(f"/admin/feeds/{feed.id}/edit", {**drawn, "topic": "Sleep"})

    assert response.status_code == 302
    feed = db.session.get(Feed, feed.id)
    assert (feed.title, feed.topic.name) == ("Named By Its Feed", "Sleep")


def test_a_feeds_new_topic_reaches_its_articles_but_not_hand_chosen_topics(admin_client, client):
    feed = make_feed(title="Source")
    admin_client.submit(
        f"/admin/feeds/{feed.id}/edit",
        {"title": "Source", "topic": "Knees", "interval_minutes": 30},
    )
    plain = make_article(feed, title="Walking helps")
    plain.topics = [db.session.get(Feed, feed.id).topic]
    chosen = make_article(feed, title="Chosen by hand", edited_fields=["topics"])
    chosen.topics = [db.session.get(Feed, feed.id).topic]
    db.session.commit()

    admin_client.submit(
        f"/admin/feeds/{feed.id}/edit",
        {"title": "Source", "topic": "Sleep", "interval_minutes": 30},
    )

    sleep = client.get("/topics/sleep").get_data(as_text=True)
    knees = client.get("/topics/knees").get_data(as_text=True)
    assert "Walking helps" in sleep and "Walking helps" not in knees
    assert "Chosen by hand" in knees and "Chosen by hand" not in sleep


def test_it_refreshes_a_feed_on_request(allow_local_feeds, admin_client, feed_server):
    feed = make_feed(url=feed_server.route("/feed.xml", body=rss(item(1))))
    admin_client.submit(f"/admin/feeds/{feed.id}/refresh")
    assert feed_server.hits("/feed.xml") == 1 and audit_actions() == ["feed.refresh"]


def test_refresh_now_says_when_the_fetch_it_ran_failed(
    allow_local_feeds, admin_client, feed_server
):
    # No Redis: the fetch runs during the click, so the page can say how it went.
    feed = make_feed(url=feed_server.route("/feed.xml", status=500))

    response = admin_client.submit(f"/admin/feeds/{feed.id}/refresh", follow_redirects=True)

    page = response.get_data(as_text=True)
    assert f"Could not refresh {feed.name}: the source answered with an error (500)." in page
    assert "Refreshing" not in page


def test_refresh_now_says_when_the_host_was_busy_instead_of_calling_it_refreshed(
    allow_local_feeds, admin_client, feed_server
):
    from articles import refresh

    feed = make_feed(url=feed_server.route("/feed.xml", body=rss(item(1))))
    host = refresh.slot_host(feed.url)
    assert refresh.acquire_slot(host) is not None and refresh.acquire_slot(host) is not None

    response = admin_client.submit(f"/admin/feeds/{feed.id}/refresh", follow_redirects=True)

    page = response.get_data(as_text=True)
    assert f"{feed.name} was not refreshed: two fetches to its host are already running" in page
    assert "Refreshed" not in page and feed_server.hits("/feed.xml") == 0
    assert "It will be fetched in a minute." in page


def test_refresh_now_on_a_busy_host_promises_a_paused_feed_no_fetch_it_will_not_get(
    allow_local_feeds, admin_client, feed_server
):
    from articles import refresh

    feed = make_feed(url=feed_server.route("/feed.xml", body=rss(item(1))), status="paused")
    host = refresh.slot_host(feed.url)
    assert refresh.acquire_slot(host) is not None and refresh.acquire_slot(host) is not None

    response = admin_client.submit(f"/admin/feeds/{feed.id}/refresh", follow_redirects=True)

    page = response.get_data(as_text=True)
    assert "Try again in a minute. It stays paused." in page
    assert "will be fetched" not in page


def test_refresh_now_does_not_call_a_feed_the_fetch_just_paused_one_that_stays_paused(
    allow_local_feeds, admin_client, feed_server
):
    feed = make_feed(url=feed_server.route("/feed.xml", status=410))  # active until now

    response = admin_client.submit(f"/admin/feeds/{feed.id}/refresh", follow_redirects=True)

    page = response.get_data(as_text=True)
    assert f"Could not refresh {feed.name}" in page and "stays paused" not in page


def test_refresh_now_reports_what_the_fetch_it_ran_stored(
    allow_local_feeds, admin_client, feed_server
):
    feed = make_feed(url=feed_server.route("/feed.xml", body=rss(item(1), item(2))))

    response = admin_client.submit(f"/admin/feeds/{feed.id}/refresh", follow_redirects=True)

    assert "2 new, 0 updated, 0 unchanged, 0 skipped" in response.get_data(as_text=True)


def test_it_fetches_a_paused_feed_asked_for_by_name_and_keeps_it_paused(
    allow_local_feeds, admin_client, feed_server
):
    feed = make_feed(url=feed_server.route("/feed.xml", body=rss(item(1))), status="paused")
    response = admin_client.submit(f"/admin/feeds/{feed.id}/refresh", follow_redirects=True)
    assert "Refreshed" in response.get_data(as_text=True)
    assert "It stays paused." in response.get_data(as_text=True)
    assert feed_server.hits("/feed.xml") == 1
    feed = db.session.get(Feed, feed.id)
    assert feed.status == "paused" and feed.last_fetched_at is not None


def test_it_previews_a_keyword_rule_before_saving_it(admin_client):
    make_article(title="Miracle cure for back pain")
    make_article(title="Walking for back pain")
    html = admin_client.submit(
        "/admin/feeds/rules",
        {"kind": "block", "phrase": "miracle cure", "feed_id": 0, "action": "preview"},
    ).get_data(as_text=True)
    assert "Miracle cure for back pain" in html and "Walking for back pain" not in html
    assert db.session.scalar(sa.select(sa.func.count(KeywordRule.id))) == 0
    admin_client.submit(
        "/admin/feeds/rules",
        {"kind": "block", "phrase": "miracle cure", "feed_id": 0, "action": "save",
         "previewed": previewed_rule(html)},
    )  # fmt: skip
    assert db.session.scalar(sa.select(KeywordRule.phrase)) == "miracle cure"
    assert audit_actions() == ["rule.add"]
    assert db.session.scalar(sa.select(AuditEntry.detail)) == "block: miracle cure · all feeds"


def previewed_rule(html: str) -> str:
    """What the rules page says it previewed (sent back with Save)."""
    return re.search(r'name="previewed" value="([^"]*)"', html).group(1)


def test_it_saves_only_the_rule_it_previewed(admin_client):
    make_article(title="Fitness trackers compared")
    html = admin_client.submit(
        "/admin/feeds/rules",
        {"kind": "block", "phrase": "sponsored", "feed_id": 0, "action": "preview"},
    ).get_data(as_text=True)
    changed = admin_client.submit(
        "/admin/feeds/rules",
        {"kind": "block", "phrase": "fitness", "feed_id": 0, "action": "save",
         "previewed": previewed_rule(html)},
    ).get_data(as_text=True)  # fmt: skip
    assert "The rule changed after its preview" in changed
    assert "Fitness trackers compared" in changed  # now shown what it would catch
    assert db.session.scalar(sa.select(sa.func.count(KeywordRule.id))) == 0
    assert audit_actions() == []


def test_its_preview_says_a_rule_is_already_in_force_rather_than_catching_nothing(
    admin_client,
):
    curation.add_rule("block", "Miracle Cure", None)
    make_article(title="A miracle cure for back pain")
    db.session.commit()
    fields = {"kind": "block", "phrase": "miracle cure", "feed_id": 0, "action": "preview"}

    response = admin_client.submit("/admin/feeds/rules", fields)

    assert response.status_code == 400
    assert "That rule is already in force: it is in the list below." in response.text
    assert "would have blocked" not in response.text


def test_it_refuses_a_rule_saved_by_someone_else_after_its_preview(admin_client):
    fields = {"kind": "block", "phrase": "miracle cure", "feed_id": 0, "action": "preview"}
    html = admin_client.submit("/admin/feeds/rules", fields).get_data(as_text=True)
    curation.add_rule("block", "Miracle Cure", None)
    db.session.commit()
    again = admin_client.submit(
        "/admin/feeds/rules", {**fields, "action": "save", "previewed": previewed_rule(html)}
    ).get_data(as_text=True)
    assert "That rule is already in force" in again
    assert db.session.scalar(sa.select(sa.func.count(KeywordRule.id))) == 1


def test_a_rule_differing_only_in_the_case_of_an_accented_letter_is_already_in_force(admin_client):
    curation.add_rule("block", "ÉNERGIE", None)
    db.session.commit()
    with pytest.raises(ValueError, match="already in force"):
        curation.add_rule("block", "énergie", None)


def add_listed_rows(url: str, count: int) -> None:
    """Add ``count`` rows to the admin list at ``url``, each pointing at rows of its own."""
    for _ in range(count):
        if url == "/admin/articles/":
            make_article(status="pending")
            continue
        feed = make_feed()
        if url == "/admin/feeds/rules":
            db.session.add(KeywordRule(kind="block", phrase=f"phrase {feed.id}", feed=feed))
        else:
            feed.topic = curation.topic_for(f"Topic {feed.id}")
        db.session.commit()


@pytest.mark.parametrize(
    "url", ["/admin/feeds/", "/admin/feeds/export.opml", "/admin/feeds/rules", "/admin/articles/"]
)
def test_it_costs_the_same_number_of_queries_with_1_or_20_rows(admin_client, count_queries, url):
    def measure(total: int, already: int) -> int:
        add_listed_rows(url, total - already)
        with count_queries() as counter:
            assert admin_client.get(url).status_code == 200
        return counter.count

    assert measure(1, 0) == measure(20, 1)


def test_it_previews_a_required_phrase_as_storing_would_apply_it(admin_client):
    curation.add_rule("require", "walking", None)
    db.session.commit()
    make_article(title="Walking helps back pain")
    make_article(title="Knee care at home")
    html = admin_client.submit(
        "/admin/feeds/rules",
        {"kind": "require", "phrase": "yoga", "feed_id": 0, "action": "preview"},
    ).get_data(as_text=True)
    # "walking" already lets the first in; requiring "yoga" as well changes nothing for it.
    assert "Walking helps back pain" not in html and "Knee care at home" not in html


def test_it_saves_a_feed_name_without_direction_overrides(admin_client):
    feed = make_feed(title="Kept")
    admin_client.submit(
        f"/admin/feeds/{feed.id}/edit",
        {"title": "\u202eNew  name", "full_content": "y", "interval_minutes": 30},
    )
    assert db.session.get(Feed, feed.id).title == "New name"
