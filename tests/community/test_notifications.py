"""Notifications for replies and likes, the unread count, marking read."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from club.community import notifications
from club.community.models import Comment, Notification
from club.extensions import db
from tests.community.conftest import add_comment, post_comment, quick_member
from tests.conftest import login, make_user


def notifications_of(user) -> list[Notification]:
    return list(db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id)))


def test_it_notifies_the_author_of_a_reply(member, article, carol):
    theirs = add_comment(article, carol, "carol's point")
    post_comment(member, article, "a reply", parent_id=theirs.id)
    [note] = notifications_of(carol)
    assert note.kind == "reply" and note.read_at is None


def test_it_notifies_the_author_of_a_liked_comment_once(member, article, carol):
    theirs = add_comment(article, carol)
    for state in ("on", "off", "on"):
        member.submit(f"/comments/{theirs.id}/like", {"state": state})
    [note] = notifications_of(carol)
    assert note.kind == "like"


def test_it_does_not_notify_members_of_their_own_actions(member, article, alice):
    mine = add_comment(article, alice)
    post_comment(member, article, "replying to myself", parent_id=mine.id)
    member.submit(f"/comments/{mine.id}/like", {"state": "on"})
    assert notifications_of(alice) == []


def test_it_shows_the_unread_count_in_the_navigation(client, article, alice, carol):
    theirs = add_comment(article, carol)
    add_comment(article, alice, "reply one", parent=theirs)
    add_comment(article, alice, "reply two", parent=theirs)
    login(client, carol)
    html = client.get("/for-you").get_data(as_text=True)
    assert unread_badge_in(html) == "2"


def test_it_lists_notifications_with_the_actor_and_badge(client, article, alice, carol):
    theirs = add_comment(article, carol)
    add_comment(article, alice, "reply", parent=theirs)
    login(client, carol)
    html = client.get("/notifications").get_data(as_text=True)
    assert "Alice Active" in html and 'aria-label="Verified member"' in html
    assert "replied to your comment on" in html and article.title in html


def test_a_reply_notification_quotes_the_reply_on_one_line(client, article, alice, carol):
    theirs = add_comment(article, carol, "carol's point")
    words = " ".join(f"word{n}" for n in range(60))
    add_comment(article, alice, f"I <b>disagree</b>.\n\nBecause {words}", parent=theirs)
    login(client, carol)
    html = client.get("/notifications").get_data(as_text=True)
    [quote] = re.findall(r'<p class="quote">(.*?)</p>', html)
    assert quote.startswith("I &lt;b&gt;disagree&lt;/b&gt;. Because word0 word1")
    assert quote.endswith("…") and "word59" not in quote


def test_a_like_notification_quotes_nothing(member, client, article, carol):
    theirs = add_comment(article, carol, "carol's point")
    member.submit(f"/comments/{theirs.id}/like", {"state": "on"})
    login(client, carol)
    html = client.get("/notifications").get_data(as_text=True)
    assert "liked your comment on" in html and 'class="quote"' not in html


def test_it_marks_notifications_read(client, article, alice, carol):
    theirs = add_comment(article, carol)
    add_comment(article, carol, "carol answers alice", parent=add_comment(article, alice))
    add_comment(article, alice, "reply", parent=theirs)
    login(client, carol)
    newest = notifications_of(carol)[0].id
    response = client.submit(
        "/notifications/read", {"up_to": newest}, headers={"Accept": "application/json"}
    )
    assert response.get_json()["unread"] == 0
    assert all(n.read_at is not None for n in notifications_of(carol))
    assert "unread" not in client.get("/for-you").get_data(as_text=True).split("<main")[0]
    assert "Mark all as read" not in client.get("/notifications").get_data(as_text=True)
    assert notifications.unread_count(alice) == 1  # someone else's stay as they were


@pytest.mark.parametrize("persona", ["bob", "frank"])
def test_a_frozen_account_can_still_clear_its_notifications(
    client, article, alice, persona, request
):
    frozen = request.getfixturevalue(persona)
    # A comment written while the account could still interact, then a reply to it.
    theirs = Comment(article_id=article.id, author_id=frozen.id, body="Earlier point.")
    db.session.add(theirs)
    db.session.commit()
    add_comment(article, alice, "reply", parent=theirs)
    login(client, frozen)
    page = client.get("/notifications").get_data(as_text=True)
    assert "Mark all as read" in page and "disabled" not in page.split("Mark all as read")[0][-80:]
    client.submit("/notifications/read", {"up_to": notifications_of(frozen)[0].id})
    assert notifications_of(frozen)[0].read_at is not None
    assert "unread-count" not in client.get("/").get_data(as_text=True)


def test_it_keeps_notifications_newer_than_the_page_unread(client, article, alice, carol):
    theirs = add_comment(article, carol)
    add_comment(article, alice, "seen", parent=theirs)
    seen = notifications_of(carol)[0].id
    add_comment(article, alice, "arrived later", parent=theirs)
    login(client, carol)
    client.submit("/notifications/read", {"up_to": seen})
    assert sum(n.read_at is None for n in notifications_of(carol)) == 1


def test_it_does_not_mark_read_on_viewing(client, article, alice, carol):
    theirs = add_comment(article, carol)
    add_comment(article, alice, "reply", parent=theirs)
    login(client, carol)
    client.get("/notifications")
    assert notifications_of(carol)[0].read_at is None  # GET never changes state


def test_it_pages_notifications_with_a_keyset(client, article, carol):
    theirs = add_comment(article, carol)
    for n in range(32):
        add_comment(
            article,
            quick_member(f"Replier {n:02d}"),
            "r",
            parent=theirs,
        )
    login(client, carol)
    first = client.get("/notifications").get_data(as_text=True)
    assert "Replier 31" in first and "Replier 01" not in first
    before = first.split("/notifications?before=")[1].split('"')[0]
    second = client.get(f"/notifications?before={before}").get_data(as_text=True)
    assert "Replier 01" in second and "Replier 31" not in second


def test_it_notifies_the_author_replied_to_when_a_reply_attaches_higher(member, article, carol):
    top = add_comment(article, make_user(subscription="active"))
    second = add_comment(article, make_user(subscription="active"), parent=top)
    third = add_comment(article, carol, "third level", parent=second)
    post_comment(member, article, "answering carol", parent_id=third.id)
    [note] = notifications_of(carol)
    assert note.kind == "reply" and note.comment.parent_id == second.id


def unread_badge_in(html: str) -> str | None:
    """The header's unread count, as the page shows it and a screen reader reads it."""
    found = re.search(
        r'<span data-number>(\d+)</span><span class="visually-hidden"> unread</span>', html
    )
    return found and found.group(1)


def unread_badge(client) -> str | None:
    return unread_badge_in(client.get("/for-you").text)


def test_a_reply_a_moderator_removed_no_longer_notifies(client, article, alice, carol):
    parent = add_comment(article, alice, "my question")
    spam = add_comment(article, quick_member("Spammer"), "buy pills", parent=parent)
    login(client, carol)
    assert client.submit(f"/admin/reports/{spam.id}/remove").status_code == 303

    login(client, alice)
    assert "Spammer" not in client.get("/notifications").text
    assert unread_badge(client) is None


def test_a_reply_its_author_deleted_no_longer_notifies(client, article, alice):
    parent = add_comment(article, alice, "my question")
    replier = make_user(subscription="active", display_name="Replier")
    reply = add_comment(article, replier, "oops, wrong thread", parent=parent)
    login(client, replier)
    assert client.submit(f"/comments/{reply.id}/delete").status_code == 303

    login(client, alice)
    assert "Replier" not in client.get("/notifications").text
    assert unread_badge(client) is None


def test_a_hidden_reply_notifies_again_once_a_moderator_restores_it(client, article, alice, carol):
    parent = add_comment(article, alice, "my question")
    reply = add_comment(article, quick_member("Blunt"), "a blunt answer", parent=parent)
    reply.hidden = True  # as three members' reports leave it
    db.session.commit()
    login(client, alice)
    assert unread_badge(client) is None

    client.submit("/notifications/read")  # read all the member can see

    reply.hidden = False
    db.session.commit()
    assert "Blunt" in client.get("/notifications").text
    assert unread_badge(client) == "1"  # not marked read while it was hidden


def test_a_notification_about_an_article_taken_off_the_site_is_neither_counted_nor_listed(
    client, article, alice, carol
):
    theirs = add_comment(article, carol, "carol's point")
    add_comment(article, alice, "alice's reply", parent=theirs)
    article.status = "hidden"  # an admin takes the article off the site
    db.session.commit()
    login(client, carol)

    page = client.get("/notifications").get_data(as_text=True)

    assert notifications.unread_count(carol) == 0
    assert article.title not in page
    article.status = "published"  # back on the site: the notification returns, unread
    db.session.commit()
    assert notifications.unread_count(carol) == 1


def test_members_whose_report_was_upheld_hear_the_comment_was_removed(
    client, article, alice, carol
):
    # As on Discourse: a report that seems to vanish teaches members not to report.
    spam = add_comment(article, quick_member("Spammer"), "buy pills")
    reporter, bystander = make_user(subscription="active"), make_user(subscription="active")
    login(client, reporter)
    client.submit(f"/comments/{spam.id}/report", {"reason": "spam"})
    login(client, carol)
    client.submit(f"/admin/reports/{spam.id}/remove")

    login(client, reporter)
    assert unread_badge(client) == "1"
    page = client.get("/notifications").text
    assert "Moderators removed the comment you reported on" in page
    assert f'href="/articles/{article.id}' in page and "buy pills" not in page
    client.submit("/notifications/read", {"up_to": notifications_of(reporter)[0].id})
    assert unread_badge(client) is None
    assert notifications_of(bystander) == []


def test_a_dismissed_report_sends_its_reporter_nothing(client, article, carol):
    fine = add_comment(article, quick_member("Someone"), "a fair point")
    reporter = make_user(subscription="active")
    login(client, reporter)
    client.submit(f"/comments/{fine.id}/report", {"reason": "spam"})
    login(client, carol)
    client.submit(f"/admin/reports/{fine.id}/dismiss")

    assert notifications_of(reporter) == []
