"""The review queue under /admin/articles: approve, reject, hide, feature, bulk and edit."""

from __future__ import annotations

import html as html_module
import io
import re
from datetime import timedelta
from email.utils import format_datetime

import feedparser
import pytest
import sqlalchemy as sa

from articles import curation, refresh
from articles.models import Article, Tombstone
from club.clock import utcnow
from club.extensions import db
from club.models import AuditEntry
from tests.articles.conftest import audit_actions, form_as_sent, item, rss
from tests.conftest import make_article, make_feed, table_fingerprint


def hours_ago(hours: int) -> str:
    """An RSS date ``hours`` before now."""
    return format_datetime(utcnow() - timedelta(hours=hours))


@pytest.mark.parametrize(
    ("start", "action", "status", "featured"),
    [
        ("pending", "approve", "published", False),
        ("pending", "reject", "rejected", False),
        ("published", "hide", "hidden", False),
        ("pending", "feature", "published", True),
    ],
)
def test_it_acts_on_one_article(admin_client, start, action, status, featured):
    article = make_article(status=start)
    admin_client.submit(f"/admin/articles/{article.id}/{action}")
    article = db.session.get(Article, article.id)
    assert (article.status, article.featured) == (status, featured)
    assert audit_actions() == [f"article.{action}"]


def test_it_leaves_a_tombstone_when_rejecting(admin_client):
    article = make_article(status="pending")
    admin_client.submit(f"/admin/articles/{article.id}/reject")
    assert db.session.scalar(sa.select(Tombstone.guid)) == article.guid


def test_it_approves_and_rejects_in_bulk(admin_client):
    a, b, c = (make_article(status="pending") for _ in range(3))
    admin_client.submit("/admin/articles/bulk", {"action": "approve", "ids": [a.id, b.id]})
    admin_client.submit("/admin/articles/bulk", {"action": "reject", "ids": [c.id]})
    statuses = [db.session.get(Article, x.id).status for x in (a, b, c)]
    assert statuses == ["published", "published", "rejected"]
    assert audit_actions() == ["article.approve", "article.approve", "article.reject"]


def test_it_leaves_alone_an_article_another_admin_decided_meanwhile(admin_client):
    article = make_article(status="pending", title="Cardio")
    admin_client.submit(f"/admin/articles/{article.id}/reject")  # the other tab, first
    response = admin_client.submit(
        f"/admin/articles/{article.id}/approve", {"seen": "pending"}, follow_redirects=True
    )
    assert "“Cardio” is rejected now: someone changed it" in response.get_data(as_text=True)
    assert db.session.get(Article, article.id).status == "rejected"
    assert audit_actions() == ["article.reject"]


def test_a_double_clicked_approve_is_reported_as_done(admin_client):
    # The browser shows the second answer: it must not blame "someone" for the first.
    article = make_article(status="pending", title="Cardio")
    admin_client.submit(f"/admin/articles/{article.id}/approve", {"seen": "pending"})
    response = admin_client.submit(
        f"/admin/articles/{article.id}/approve", {"seen": "pending"}, follow_redirects=True
    )
    html = response.get_data(as_text=True)
    assert "Approved: Cardio" in html and "someone changed it" not in html
    assert audit_actions() == ["article.approve"]


def test_bulk_counts_what_is_already_as_asked_as_done(admin_client):
    a, b = make_article(status="pending"), make_article(status="pending")
    admin_client.submit(f"/admin/articles/{b.id}/approve")  # another admin, the same choice
    admin_client.submit(
        "/admin/articles/bulk", {"action": "approve", "ids": [a.id, b.id], "seen": "pending"}
    )
    html = admin_client.get("/admin/articles/").get_data(as_text=True)
    assert "Approved 2 article(s)." in html and "left as they were" not in html
    assert audit_actions() == ["article.approve", "article.approve"]


def test_it_approves_in_bulk_only_what_is_still_as_the_admin_saw_it(admin_client):
    a, b = make_article(status="pending"), make_article(status="pending")
    admin_client.submit(f"/admin/articles/{b.id}/reject")
    response = admin_client.submit(
        "/admin/articles/bulk", {"action": "approve", "ids": [a.id, b.id], "seen": "pending"}
    )
    assert response.headers["Location"].endswith("/admin/articles/?status=pending")
    assert [db.session.get(Article, x.id).status for x in (a, b)] == ["published", "rejected"]
    html = admin_client.get("/admin/articles/").get_data(as_text=True)
    assert "Approved 1 article(s). 1 left as they were: someone changed them meanwhile." in html


def older_link(html: str) -> str:
    """The address of the review page's "Older" button."""
    return re.search(r'href="([^"]*)">Older<', html).group(1).replace("&amp;", "&")


def test_bulk_actions_return_to_the_page_the_admin_was_on(admin_client):
    articles = [make_article(status="pending", title=f"Waiting {n}") for n in range(60)]
    first = admin_client.get("/admin/articles/").get_data(as_text=True)
    page_two = admin_client.get(older_link(first)).get_data(as_text=True)
    before = re.search(r'name="before" value="([^"]+)"', page_two).group(1)

    response = admin_client.submit(
        "/admin/articles/bulk",
        {"action": "approve", "ids": [articles[0].id], "seen": "pending", "before": before},
    )

    assert response.headers["Location"].endswith(f"/admin/articles/?status=pending&before={before}")


def queue_titles(html: str) -> list[str]:
    """The titles the review page lists, in its order."""
    return re.findall(r'form="bulk" aria-label="Select ([^"]*)"', html)


def test_the_queue_starts_with_the_newest_entry_of_a_fetch(admin_client):
    # A document lists its newest entry first, and the store inserts in that order.
    feed = make_feed()
    hours = range(60)
    items = [item(n, title=f"Posted {n} hours ago", date=hours_ago(n)) for n in hours]
    refresh.ingest_document(feed, rss(*items))
    db.session.commit()

    first = admin_client.get("/admin/articles/").get_data(as_text=True)
    second = admin_client.get(older_link(first)).get_data(as_text=True)

    listed = queue_titles(first) + queue_titles(second)
    assert listed == [f"Posted {n} hours ago" for n in hours]


def test_an_emptied_older_page_leads_back_to_the_newest(admin_client):
    articles = [make_article(status="pending") for _ in range(60)]
    first = admin_client.get("/admin/articles/").get_data(as_text=True)
    page_two = admin_client.get(older_link(first)).get_data(as_text=True)
    before = re.search(r'name="before" value="([^"]+)"', page_two).group(1)
    on_page_two = [a.id for a in articles if f'value="{a.id}" form="bulk"' in page_two]
    assert len(on_page_two) == 10

    response = admin_client.submit(
        "/admin/articles/bulk",
        {"action": "approve", "ids": on_page_two, "seen": "pending", "before": before},
        follow_redirects=True,
    )

    html = response.get_data(as_text=True)
    assert "Nothing older is pending." in html and "Nothing pending." not in html
    assert 'href="/admin/articles/?status=pending">Back to the newest</a>' in html


def test_save_and_cancel_return_to_the_queue_page_the_edit_began_on(admin_client):
    articles = [make_article(status="pending") for _ in range(60)]
    first = admin_client.get("/admin/articles/").get_data(as_text=True)
    page_two_url = older_link(first)
    page_two = admin_client.get(page_two_url).get_data(as_text=True)
    article = next(a for a in articles if f'value="{a.id}" form="bulk"' in page_two)
    edit = re.search(rf'href="(/admin/articles/{article.id}/edit[^"]*)"', page_two).group(1)
    edit = html_module.unescape(edit)

    form = admin_client.get(edit).get_data(as_text=True)
    cancel = re.search(r'<a href="([^"]*)">Cancel</a>', form).group(1)
    saved = admin_client.submit(edit, {"title": "A better title"})

    assert html_module.unescape(cancel) == page_two_url
    assert saved.status_code == 302 and saved.headers["Location"] == page_two_url


def test_an_edit_never_returns_off_site(admin_client):
    article = make_article(status="pending")
    saved = admin_client.submit(
        f"/admin/articles/{article.id}/edit?next=//evil.example/", {"title": "A better title"}
    )
    assert saved.headers["Location"] == "/admin/articles/?status=pending"


def test_it_asks_for_a_selection_before_acting_in_bulk(admin_client):
    make_article(status="rejected")
    response = admin_client.submit(
        "/admin/articles/bulk", {"action": "approve", "seen": "rejected"}, follow_redirects=True
    )
    html = response.get_data(as_text=True)
    assert "Select at least one article first." in html and "Approved 0" not in html
    assert "Reject selected" not in html  # back on the Rejected tab, where it came from
    assert audit_actions() == []


def test_it_edits_an_article_and_remembers_the_edited_fields(admin_client):
    article = make_article(status="pending", title="Source title")
    admin_client.submit(
        f"/admin/articles/{article.id}/edit",
        {
            "title": "Better title",
            "summary": "Short.",
            "reviewed_by": "Dr. Ada Lane",
            "topics": "Sleep, Knees",
        },
    )
    article = db.session.get(Article, article.id)
    assert article.title == "Better title" and article.reviewed_by == "Dr. Ada Lane"
    assert sorted(t.name for t in article.topics) == ["Knees", "Sleep"]
    assert set(article.edited_fields) == {"title", "summary", "reviewed_by", "topics"}
    note = admin_client.get(f"/admin/articles/{article.id}/edit").get_data(as_text=True)
    note = note.split("edited here: ", 1)[1].split(" (later fetches", 1)[0]
    assert sorted(note.split(", ")) == ["reviewer line", "summary", "title", "topics"]
    assert audit_actions() == ["article.edit"]
    detail = db.session.scalar(sa.select(AuditEntry.detail))
    assert "title: 'Source title' → 'Better title'" in detail
    assert "reviewed_by: '' → 'Dr. Ada Lane'" in detail and "'Knees, Sleep'" in detail


def test_it_answers_400_and_saves_nothing_for_an_edit_it_refuses(admin_client):
    article = make_article(status="pending", title="Source title")
    before = table_fingerprint()
    response = admin_client.submit(
        f"/admin/articles/{article.id}/edit", {"title": "", "topics": "Sleep, ???"}
    )
    assert response.status_code == 400
    assert "is not a topic name" in response.text
    assert table_fingerprint() == before


def test_it_refuses_a_title_of_nothing_that_shows(admin_client):
    """Control characters are stripped on save: 'Article saved.' changed nothing."""
    article = make_article(status="pending", title="Source title")
    before = table_fingerprint()
    response = admin_client.submit(
        f"/admin/articles/{article.id}/edit", {"title": "\x01\x02\u200b", "summary": ""}
    )
    assert response.status_code == 400
    assert "Enter a title with letters or numbers." in response.text
    assert "Article saved." not in response.text
    assert table_fingerprint() == before


def edit_form(admin_client, article: Article) -> dict[str, str]:
    """The article's edit form as a browser would send it untouched."""
    page = admin_client.get(f"/admin/articles/{article.id}/edit").get_data(as_text=True)
    return form_as_sent(page, holding="revision")


def test_it_never_silently_undoes_another_admins_edit(admin_client):
    article = make_article(status="pending", title="Source title", summary="Short.")
    fields = edit_form(admin_client, article)
    admin_client.submit(f"/admin/articles/{article.id}/edit", {**fields, "title": "A's title"})
    stale = admin_client.submit(
        f"/admin/articles/{article.id}/edit", {**fields, "reviewed_by": "Dr. B"}
    )
    html = stale.get_data(as_text=True)
    assert stale.status_code == 409 and "Someone saved this article after you opened it" in html
    assert "<dd>A&#39;s title</dd>" in html
    shown = form_as_sent(html, holding="revision")
    assert (shown["title"], shown["reviewed_by"]) == ("A's title", "Dr. B")  # theirs and mine
    article = db.session.get(Article, article.id)
    assert (article.title, article.reviewed_by) == ("A's title", None)

    admin_client.submit(f"/admin/articles/{article.id}/edit", shown)  # Save again

    article = db.session.get(Article, article.id)
    assert (article.title, article.reviewed_by) == ("A's title", "Dr. B")
    assert audit_actions() == ["article.edit", "article.edit"]


def test_save_again_after_a_conflict_keeps_what_the_other_admin_added(admin_client):
    """B changed only the summary: A's reviewer line, added meanwhile, stays."""
    article = make_article(status="pending", title="Source title", summary="Short.")
    fields = edit_form(admin_client, article)
    admin_client.submit(
        f"/admin/articles/{article.id}/edit",
        {**fields, "title": "Walking, reviewed", "reviewed_by": "Dr. Jane Roe, MD"},
    )
    stale = admin_client.submit(
        f"/admin/articles/{article.id}/edit", {**fields, "summary": "Short, fixed."}
    )
    assert stale.status_code == 409
    assert "You both changed" not in stale.text

    admin_client.submit(f"/admin/articles/{article.id}/edit", form_as_sent(stale.text, "revision"))

    article = db.session.get(Article, article.id)
    assert (article.title, article.summary, article.reviewed_by) == (
        "Walking, reviewed",
        "Short, fixed.",
        "Dr. Jane Roe, MD",
    )
    assert article.edited_fields == ["reviewed_by", "summary", "title"]


def test_a_field_both_admins_changed_keeps_the_second_ones_and_says_so(admin_client):
    article = make_article(status="pending", title="Source title", summary="Line one.")
    fields = edit_form(admin_client, article)
    admin_client.submit(f"/admin/articles/{article.id}/edit", {**fields, "title": "A's title"})
    # A browser sends a text area's line breaks as CRLF: an untouched summary is no change.
    stale = admin_client.submit(
        f"/admin/articles/{article.id}/edit",
        {**fields, "title": "B's title", "summary": "Line one.\r\n"},
    )

    assert "You both changed “Title”: the form holds your version." in stale.text
    assert form_as_sent(stale.text, "revision")["title"] == "B's title"
    assert db.session.get(Article, article.id).title == "A's title"


def test_it_lists_the_review_queue(admin_client):
    make_article(status="pending", title="Needs a look")
    make_article(status="published", title="Already out")
    html = admin_client.get("/admin/articles/").get_data(as_text=True)
    assert "Needs a look" in html and "Already out" not in html


@pytest.mark.parametrize("target", ["//evil.example/", "/\t/evil.example/", "/\\evil.example/"])
def test_it_does_not_redirect_off_site_after_an_action(admin_client, target):
    article = make_article(status="pending")
    response = admin_client.submit(f"/admin/articles/{article.id}/approve", {"next": target})
    assert response.headers["Location"] == "/admin/articles/"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Heart, heart", ["Heart"]),
        ("心脏, 睡眠", ["心脏", "睡眠"]),
        ("Sleep, ,Sleep ", ["Sleep"]),
    ],
)
def test_it_saves_the_topics_an_admin_types(admin_client, typed, expected):
    article = make_article()
    response = admin_client.submit(
        f"/admin/articles/{article.id}/edit", {"title": article.title, "topics": typed}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert sorted(t.name for t in article.topics) == sorted(expected)


def test_it_keeps_a_topic_whose_name_had_a_comma_through_an_edit(admin_client):
    feed = curation.create_feed("https://diet.example.com/feed.xml", topic_name="Diet, nutrition")
    article = make_article(feed=feed)
    article.topics = [feed.topic]
    db.session.commit()
    form = admin_client.get(f"/admin/articles/{article.id}/edit").get_data(as_text=True)
    shown = form.split('name="topics"')[1].split('value="')[1].split('"')[0]
    admin_client.submit(
        f"/admin/articles/{article.id}/edit", {"title": "A new title", "topics": shown}
    )
    db.session.expire_all()
    assert [t.name for t in article.topics] == ["Diet nutrition"]


def test_it_keeps_control_characters_out_of_the_site_feed(admin_client, client):
    article = make_article()
    admin_client.submit(
        f"/admin/articles/{article.id}/edit", {"title": "Bad\x0bTitle", "summary": "x\x01y"}
    )
    parsed = feedparser.parse(io.BytesIO(client.get("/feed.xml").data))
    assert not parsed.bozo and parsed.entries[0].title == "BadTitle"


@pytest.mark.parametrize(
    ("status", "action", "said"),
    [
        ("pending", "approve", "Approved"),
        ("pending", "reject", "Rejected"),
        ("published", "hide", "Hidden"),
        ("published", "feature", "Featured"),
        ("pending", "feature", "Published and featured"),
        ("hidden", "approve", "Unhidden"),
    ],
)
def test_it_says_what_it_did_in_plain_words(admin_client, status, action, said):
    article = make_article(status=status, title="Plain words")
    page = admin_client.submit(f"/admin/articles/{article.id}/{action}", follow_redirects=True)
    assert f"{said}: Plain words" in page.get_data(as_text=True)


@pytest.mark.parametrize("status", ["hidden", "rejected"])
def test_a_button_that_would_publish_a_hidden_article_says_so(admin_client, status):
    article = make_article(status=status, title="Desk stretches")
    page = admin_client.get(f"/admin/articles/?status={status}").get_data(as_text=True)
    buttons = re.findall(r'<button class="link" type="submit">([^<]*)<', page)
    assert "Publish and feature" in buttons and "Feature" not in buttons
    assert ("Unhide" in buttons) is (status == "hidden")

    shown = admin_client.submit(
        f"/admin/articles/{article.id}/feature", {"seen": status}, follow_redirects=True
    )
    assert "Published and featured: Desk stretches" in shown.get_data(as_text=True)
    detail = db.session.scalar(sa.select(AuditEntry.detail))
    assert detail == "Published and featured: Desk stretches"


@pytest.mark.parametrize("status", ["pending", "rejected"])
def test_an_article_never_published_cannot_be_hidden_so_unhide_never_publishes_it(
    admin_client, status
):
    # Hidden while pending, "Unhide" would later publish what no admin approved.
    article = make_article(status=status, title="Miracle cure")
    page = admin_client.get(f"/admin/articles/?status={status}").get_data(as_text=True)
    assert f'/admin/articles/{article.id}/hide"' not in page

    refused = admin_client.submit(
        f"/admin/articles/{article.id}/hide", {"seen": status}, follow_redirects=True
    )

    said = refused.get_data(as_text=True)
    assert f"“Miracle cure” is {status}, not on the site, so there is nothing to hide" in said
    assert db.session.get(Article, article.id).status == status
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 0


def test_a_published_article_offers_hide(admin_client):
    article = make_article(status="published", title="Desk stretches")
    page = admin_client.get("/admin/articles/?status=published").get_data(as_text=True)
    assert f'/admin/articles/{article.id}/hide"' in page


def test_the_hidden_tab_unhides_what_is_ticked(admin_client):
    article = make_article(status="hidden", title="Desk stretches")
    page = admin_client.get("/admin/articles/?status=hidden").get_data(as_text=True)
    assert 'value="approve">Unhide selected</button>' in page
    shown = admin_client.submit(
        "/admin/articles/bulk",
        {"action": "approve", "ids": [article.id], "seen": "hidden"},
        follow_redirects=True,
    )
    assert "Unhidden 1 article(s)." in shown.get_data(as_text=True)
    assert db.session.get(Article, article.id).status == "published"


# --- One feed's articles ---------------------------------------------------------------------


def test_it_narrows_the_queue_to_one_feed_and_leads_back_to_all(admin_client):
    walking, sleep = make_feed(title="Walking Daily"), make_feed(title="Sleep Weekly")
    make_article(walking, status="pending", title="Walk at lunch")
    make_article(sleep, status="pending", title="Sleep early")

    html = admin_client.get(f"/admin/articles/?feed={walking.id}").get_data(as_text=True)

    assert queue_titles(html) == ["Walk at lunch"]
    assert "From <strong>Walking Daily</strong>" in html
    show_all = re.search(r'<a href="([^"]*)">show all<', html).group(1)
    assert html_module.unescape(show_all) == "/admin/articles/?status=pending"
    tabs = re.findall(r'href="([^"]*)"[^>]*>Rejected<', html)
    assert html_module.unescape(tabs[0]) == f"/admin/articles/?status=rejected&feed={walking.id}"


def test_each_article_leads_to_its_feeds_articles_alone(admin_client):
    walking = make_feed(title="Walking Daily")
    make_article(walking, status="pending", source_name="Walking Daily")
    html = admin_client.get("/admin/articles/").get_data(as_text=True)
    only = re.search(r'href="([^"]*)"><span class="visually-hidden">Only articles from ', html)
    assert html_module.unescape(only.group(1)) == (
        f"/admin/articles/?status=pending&feed={walking.id}"
    )


def test_the_feed_filter_is_kept_on_older_pages(admin_client):
    walking, sleep = make_feed(title="Walking Daily"), make_feed(title="Sleep Weekly")
    for n in range(55):
        make_article(walking, status="pending", title=f"Walk {n}")
    make_article(sleep, status="pending", title="Sleep early")

    first = admin_client.get(f"/admin/articles/?feed={walking.id}").get_data(as_text=True)
    assert f"feed={walking.id}" in older_link(first)
    second = admin_client.get(older_link(first)).get_data(as_text=True)

    listed = queue_titles(first) + queue_titles(second)
    assert sorted(listed) == sorted(f"Walk {n}" for n in range(55))


def test_an_action_returns_to_the_feeds_filtered_page(admin_client):
    walking = make_feed(title="Walking Daily")
    article = make_article(walking, status="pending")
    page = f"/admin/articles/?status=pending&feed={walking.id}"
    html = admin_client.get(page).get_data(as_text=True)
    back = html_module.unescape(re.search(r'name="next" value="([^"]*)"', html).group(1))

    response = admin_client.submit(
        f"/admin/articles/{article.id}/reject", {"next": back, "seen": "pending"}
    )

    assert response.headers["Location"] == page


def test_bulk_actions_return_to_the_feeds_filtered_page(admin_client):
    walking = make_feed(title="Walking Daily")
    articles = [make_article(walking, status="pending") for _ in range(55)]
    first = admin_client.get(f"/admin/articles/?feed={walking.id}").get_data(as_text=True)
    page_two = admin_client.get(older_link(first)).get_data(as_text=True)
    fields = dict(
        re.findall(r'<input type="hidden" name="(seen|feed|before)" value="([^"]*)"', page_two)
    )

    response = admin_client.submit(
        "/admin/articles/bulk", {**fields, "action": "approve", "ids": [articles[0].id]}
    )

    assert response.headers["Location"].endswith(
        f"/admin/articles/?status=pending&feed={walking.id}&before={fields['before']}"
    )


def test_a_feed_with_nothing_waiting_says_so_by_name(admin_client):
    walking = make_feed(title="Walking Daily")
    make_article(status="pending")  # from another feed
    html = admin_client.get(f"/admin/articles/?feed={walking.id}").get_data(as_text=True)
    assert "Nothing pending from Walking Daily." in html


@pytest.mark.parametrize("feed", ["abc", "-1", "0", "1e3", ""])
def test_an_unknown_feed_shows_the_whole_queue(admin_client, feed):
    make_article(status="pending", title="Needs a look")
    response = admin_client.get(f"/admin/articles/?feed={feed}")
    assert response.status_code == 200
    assert queue_titles(response.get_data(as_text=True)) == ["Needs a look"]


def test_the_same_change_made_by_two_admins_is_no_conflict(admin_client):
    article = make_article(status="pending", title="Source title", summary="Short.")
    fields = edit_form(admin_client, article)
    admin_client.submit(f"/admin/articles/{article.id}/edit", {**fields, "title": "Fixed"})

    again = admin_client.submit(
        f"/admin/articles/{article.id}/edit", {**fields, "title": "Fixed", "summary": "Longer."}
    )

    assert again.status_code == 302
    article = db.session.get(Article, article.id)
    assert (article.title, article.summary) == ("Fixed", "Longer.")


def test_an_edit_form_with_no_readable_record_of_what_it_showed_still_saves(admin_client):
    """A form drawn before the record was kept this way (a bare fingerprint) has nothing to
    compare against: it saves, as it did then."""
    article = make_article(status="pending", title="Source title", summary="Short.")
    fields = {**edit_form(admin_client, article), "revision": "3f9a0c1b2d4e5f60"}

    response = admin_client.submit(
        f"/admin/articles/{article.id}/edit", {**fields, "title": "New title"}
    )

    assert response.status_code == 302
    assert db.session.get(Article, article.id).title == "New title"


def test_saving_an_article_unchanged_says_so_and_audits_nothing(admin_client):
    article = make_article(status="pending", title="Source title", summary="Short.")

    response = admin_client.submit(
        f"/admin/articles/{article.id}/edit", edit_form(admin_client, article)
    )

    assert response.status_code == 302
    assert "Nothing to save: the article is as it was." in admin_client.get("/admin/").text
    assert audit_actions() == []
    assert db.session.get(Article, article.id).edited_fields in (None, [])


def test_it_saves_an_article_title_and_reviewer_without_direction_overrides(admin_client):
    """Invisible, and they would turn the line each shows in, as ingested titles cannot."""
    article = make_article(status="pending", title="Source title")

    admin_client.submit(
        f"/admin/articles/{article.id}/edit",
        {"title": "Better \u202etitle", "summary": "", "reviewed_by": "\u2067Dr Lane\u2069"},
    )

    article = db.session.get(Article, article.id)
    assert (article.title, article.reviewed_by) == ("Better title", "Dr Lane")


def test_the_queue_keeps_a_source_name_from_turning_the_date_after_it(admin_client):
    """Stored before ingestion removed direction overrides: isolated, it turns only itself."""
    make_article(status="pending", source_name="\u202eecruos", reviewed_by="\u202eDr")

    page = admin_client.get("/admin/articles/?status=pending").text

    assert "<bdi>\u202eecruos</bdi>" in page and "reviewed by <bdi>\u202eDr</bdi>" in page


def test_it_asks_before_taking_a_published_article_off_the_site_with_members_comments(
    admin_client,
):
    """Deleting a feed counts what members lose; rejecting or hiding one article did not."""
    joined = make_article(title="Talked about", comment_count=3, like_count=1)
    quiet = make_article(title="Quiet one")

    page = admin_client.get("/admin/articles/?status=published").text

    forms = re.findall(r'<form class="inline" method="post" action="([^"]+)"([^>]*)>', page)
    asked = {action: attributes for action, attributes in forms}
    assert html_module.unescape(asked[f"/admin/articles/{joined.id}/reject"]) == (
        ' data-confirm="Reject “Talked about”? It goes from the site with the 3 comments and '
        '1 like members left on it."'
    )
    assert "until it is shown again" in asked[f"/admin/articles/{joined.id}/hide"]
    assert "data-confirm" not in asked[f"/admin/articles/{joined.id}/feature"]
    assert "data-confirm" not in asked[f"/admin/articles/{quiet.id}/reject"]
    assert 'value="reject" data-confirm="Reject the selected articles?' in page
