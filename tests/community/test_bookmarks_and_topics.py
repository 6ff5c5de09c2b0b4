"""Bookmarks with /saved, topic follows with /for-you."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from flask import render_template_string
from flask_login import login_user

from articles.models import Topic
from club.clock import utcnow
from club.extensions import db
from tests.conftest import PASSWORD, login, make_article, table_fingerprint


def save(client, article, state="on"):
    return client.submit(f"/articles/{article.id}/save", {"state": state})


def test_it_lists_saved_articles_newest_first(member):
    older, newer = make_article(title="Older save"), make_article(title="Newer save")
    save(member, older)
    save(member, newer)
    html = member.get("/saved").get_data(as_text=True)
    assert html.index("Newer save") < html.index("Older save")


def test_it_pages_saved_articles_with_a_keyset(member):
    for n in range(23):
        save(member, make_article(title=f"Saved number {n:02d}"))
    first = member.get("/saved").get_data(as_text=True)
    assert "Saved number 22" in first and "Saved number 02" not in first
    assert "before=" in first
    link = first.split('href="/saved?before=')[1].split('"')[0]
    second = member.get(f"/saved?before={link}").get_data(as_text=True)
    assert "Saved number 02" in second and "Saved number 00" in second
    assert "Saved number 22" not in second


def test_it_unsaves_an_article(member, article):
    save(member, article)
    save(member, article, "off")
    assert article.title not in member.get("/saved").get_data(as_text=True)


def test_it_says_a_saved_article_taken_off_the_site_is_kept_not_lost(member, article):
    save(member, article)
    article.status = "hidden"
    db.session.commit()

    page = member.get("/saved").get_data(as_text=True)

    assert article.title not in page and "Nothing saved yet" not in page
    assert "1 saved article is not available at the moment" in page

    article.status = "published"
    db.session.commit()
    page = member.get("/saved").get_data(as_text=True)
    assert article.title in page and "not available at the moment" not in page


def test_it_takes_an_article_off_the_saved_list_from_the_list(member, article):
    save(member, article)
    page = member.get("/saved").get_data(as_text=True)
    form = page.split(f'action="/articles/{article.id}/save"', 1)[1].split("</form>", 1)[0]
    assert 'name="state" value="off"' in form and 'name="next" value="/saved"' in form

    # The form's button, without the page script: back to the list, without the article.
    response = member.submit(f"/articles/{article.id}/save", {"state": "off", "next": "/saved"})
    assert (response.status_code, response.headers["Location"]) == (303, "/saved#reactions")
    assert article.title not in member.get("/saved").get_data(as_text=True)


def test_it_keeps_one_bookmark_when_saved_twice(member, article):
    save(member, article)
    before = table_fingerprint()
    assert save(member, article).status_code == 303
    assert table_fingerprint() == before
    listed = member.get("/saved").get_data(as_text=True)
    assert listed.count('class="saved-item"') == 1 and article.title in listed


def test_it_sends_visitors_to_log_in_for_saved(client):
    response = client.get("/saved")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def topic(name: str) -> Topic:
    row = Topic(slug=name.lower(), name=name)
    db.session.add(row)
    db.session.commit()
    return row


def test_it_lists_articles_from_followed_topics_for_you(member):
    sleep, running = topic("Sleep"), topic("Running")
    make_article(title="Naps help", topics=[sleep])
    make_article(title="Marathon tips", topics=[running])
    response = member.submit(f"/topics/{sleep.id}/follow", {"state": "on"})
    html = member.get("/for-you").get_data(as_text=True)
    assert response.status_code == 303
    assert "Naps help" in html and "Marathon tips" not in html


def test_it_pages_for_you_with_a_keyset(member):
    sleep = topic("Sleep")
    start = utcnow() - timedelta(days=1)
    for n in range(21):
        make_article(
            title=f"Sleep note {n:02d}", topics=[sleep], published_at=start + timedelta(minutes=n)
        )
    member.submit(f"/topics/{sleep.id}/follow", {"state": "on"})
    first = member.get("/for-you").get_data(as_text=True)
    assert "Sleep note 20" in first and "Sleep note 00" not in first
    link = first.split('href="/for-you?before=')[1].split('"')[0].replace("&#43;", "+")
    second = member.get(f"/for-you?before={link}").get_data(as_text=True)
    assert "Sleep note 00" in second and "Sleep note 20" not in second


@pytest.mark.parametrize("before", ["0001-01-01T00:00:00+01:00_5", "9999-12-31T23:30:00-05:00_5"])
def test_it_pages_for_you_from_the_start_past_the_first_or_last_date(member, before):
    """Both parse, and neither can be written in UTC: the first page, not an error."""
    make_article(title="Naps help", topics=[topic("Sleep")])
    response = member.get("/for-you", query_string={"before": before})
    assert response.status_code == 200


def test_it_unfollows_a_topic(member):
    sleep = topic("Sleep")
    make_article(title="Naps help", topics=[sleep])
    member.submit(f"/topics/{sleep.id}/follow", {"state": "on"})
    member.submit(f"/topics/{sleep.id}/follow", {"state": "off"})
    assert "Naps help" not in member.get("/for-you").get_data(as_text=True)


def test_it_answers_404_for_following_a_missing_topic(member):
    assert member.submit("/topics/31337/follow", {"state": "on"}).status_code == 404


def test_it_says_a_topic_merged_or_deleted_meanwhile_could_not_be_followed(member):
    diet = topic("Diet")
    diet_id = diet.id
    db.session.delete(diet)
    db.session.commit()
    response = member.submit(f"/topics/{diet_id}/follow", {"state": "on"})
    assert response.status_code == 404
    assert "That topic does not exist: it may have been merged into another or deleted." in (
        response.text
    )


def test_it_invites_visitors_to_sign_up_to_follow_topics_on_for_you(client):
    sleep = topic("Sleep")
    make_article(topics=[sleep])  # the page lists topics with something to read
    html = client.get("/for-you").get_data(as_text=True)
    assert "Sign up to follow topics" in html
    assert f'<a href="/topics/{sleep.slug}">Sleep</a>' in html  # each topic's own page


def test_it_renders_a_follow_button_for_topic_pages(app, member, alice):
    sleep = topic("Sleep")
    member.submit(f"/topics/{sleep.id}/follow", {"state": "on"})
    with app.test_request_context():
        login_user(alice)
        html = render_template_string("{{ topic_follow(t) }}", t=sleep)
    # One label, pressed or not: aria-pressed says which (WAI-ARIA's toggle button).
    assert re.search(
        r'<button [^>]*aria-pressed="true"[^>]*>\s*<span [^>]*aria-hidden="true"[^>]*>.</span>'
        r"Follow Sleep\s*</button>",
        html,
    )
    assert "Following" not in html


def test_it_invites_visitors_to_sign_up_to_follow(app):
    sleep = topic("Sleep")
    with app.test_request_context():
        html = render_template_string("{{ topic_follow(t) }}", t=sleep)
    assert "Sign up to follow Sleep" in html


def test_it_offers_the_follow_button_on_the_topic_page(member):
    sleep = topic("Sleep")
    html = member.get(f"/topics/{sleep.slug}").get_data(as_text=True)
    assert "Follow Sleep" in html


def test_it_offers_only_topics_with_something_published(member):
    sleep, drafts = topic("Sleep"), topic("Office life")
    make_article(title="Naps help", topics=[sleep])
    make_article(title="Desk stretches", topics=[drafts], status="pending")
    for path in ("/", "/for-you"):
        html = member.get(path).get_data(as_text=True)
        assert "Sleep" in html and "Office life" not in html, path


def test_it_tells_a_frozen_member_why_following_is_off(client, bob):
    sleep = topic("Sleep")
    make_article(title="Naps help", topics=[sleep])
    login(client, bob)
    topic_page = client.get(f"/topics/{sleep.slug}").get_data(as_text=True)
    assert 'aria-describedby="readonly-note"' in topic_page
    assert 'id="readonly-note"' in topic_page  # the note the disabled button points at
    for_you = client.get("/for-you").get_data(as_text=True)
    assert "Once your membership is active, follow a topic" in for_you


@pytest.mark.parametrize("path", ["/saved?before=12", "/notifications?before=7"])
def test_a_visitor_is_sent_to_log_in_and_brought_back_to_the_same_page(client, alice, path):
    response = client.get(path)
    assert response.status_code == 302
    back_to = parse_qs(urlsplit(response.headers["Location"]).query)["next"][0]
    assert back_to.endswith(path)

    signed_in = client.submit(
        f"/login?next={quote(back_to)}", {"email": alice.email, "password": PASSWORD}
    )
    assert signed_in.headers["Location"].endswith(path)


def toggle_names(html: str) -> list[str]:
    """What a screen reader calls each like/save/follow button (the check mark is hidden)."""
    buttons = re.findall(r'<button type="submit" class="toggle[^>]*>(.*?)</button>', html, re.S)
    shown = (re.sub(r'<span [^>]*aria-hidden="true"[^>]*>.*?</span>', "", b) for b in buttons)
    return [" ".join(re.sub(r"<[^>]+>", "", b).split()) for b in shown]


def test_each_save_button_on_saved_is_named_with_its_article(member):
    for title in ("Walking for back pain", "Sleep and memory"):
        save(member, make_article(title=title))

    names = toggle_names(member.get("/saved").get_data(as_text=True))

    assert sorted(names) == ["Save Sleep and memory", "Save Walking for back pain"]


def test_each_follow_button_on_for_you_is_named_with_its_topic(member):
    for name in ("Sleep", "Running"):
        make_article(topics=[topic(name)])

    names = toggle_names(member.get("/for-you").get_data(as_text=True))

    assert sorted(names) == ["Follow Running", "Follow Sleep"]
