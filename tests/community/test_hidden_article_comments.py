"""A comment on an article a moderator hid stays its author's: they can find it and delete
it; everyone else is told the article is away, not that the link is wrong."""

from __future__ import annotations

import pytest

from club import membership
from club.community.models import CommentStatus
from club.extensions import db
from tests.community.conftest import add_comment, quick_member
from tests.conftest import login, make_article, make_user


@pytest.fixture
def hidden_comment(article, alice):
    comment = add_comment(article, alice, "Words I may want back")
    article.status = "hidden"
    db.session.commit()
    return comment


def test_its_author_can_delete_a_comment_while_its_article_is_hidden(member, alice, hidden_comment):
    response = member.submit(f"/comments/{hidden_comment.id}/delete")

    assert response.status_code == 303
    assert response.headers["Location"].endswith("/u/alice")
    db.session.refresh(hidden_comment)
    assert hidden_comment.status == CommentStatus.DELETED and hidden_comment.body == ""
    assert "Words I may want back" not in member.get("/u/alice").get_data(as_text=True)


def test_nobody_else_learns_the_comment_exists(client, hidden_comment):
    login(client, quick_member("Someone Else"))
    response = client.submit(f"/comments/{hidden_comment.id}/delete")

    assert response.status_code == 404
    db.session.refresh(hidden_comment)
    assert hidden_comment.status == CommentStatus.VISIBLE


def test_its_author_is_told_why_the_comment_cannot_be_edited(member, hidden_comment):
    response = member.submit(f"/comments/{hidden_comment.id}/edit", {"body": "Changed"})

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "not published at the moment" in page and "delete it from your profile" in page
    db.session.refresh(hidden_comment)
    assert hidden_comment.body == "Words I may want back"


def test_its_authors_profile_lists_it_with_why_only_they_see_it(client, alice, hidden_comment):
    assert "Words I may want back" not in client.get("/u/alice").get_data(as_text=True)

    login(client, alice)
    page = client.get("/u/alice").get_data(as_text=True)

    assert "Words I may want back" in page
    assert "Only you see this:</strong> the article is not published at the moment" in page
    assert f'action="/comments/{hidden_comment.id}/delete"' in page
    assert "No comments yet" not in page


def test_its_permalink_takes_the_author_to_the_profile_page_that_starts_with_it(
    member, article, alice, hidden_comment
):
    # Newer comments elsewhere would push it past the profile's first page.
    elsewhere = make_article()
    for n in range(21):
        add_comment(elsewhere, alice, f"Newer thought {n}")

    response = member.get(f"/comments/{hidden_comment.id}")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        f"/u/alice?before={hidden_comment.id + 1}#comment-{hidden_comment.id}"
    )
    page = member.get(response.headers["Location"]).get_data(as_text=True)
    assert "is not published at the moment" in page and "you can delete it here" in page
    assert f'id="comment-{hidden_comment.id}"' in page


def test_a_frozen_author_is_not_told_they_can_delete_it(client, alice, hidden_comment):
    membership.freeze(alice, by=None, reason="Spam")
    db.session.commit()
    login(client, alice)

    page = client.get(client.get(f"/comments/{hidden_comment.id}").location).text

    assert "Yours is the first below." in page and "you can delete it" not in page
    assert f'action="/comments/{hidden_comment.id}/delete"' not in page


def test_its_permalink_answers_anyone_else_as_for_a_comment_that_does_not_exist(
    client, hidden_comment
):
    hidden = client.get(f"/comments/{hidden_comment.id}")
    missing = client.get(f"/comments/{hidden_comment.id + 1000}")

    assert hidden.status_code == missing.status_code == 404
    assert "That comment was deleted, removed or is under review." in hidden.text
    # The same page but for the log-in links, which carry the address asked for.
    assert hidden.text.replace(f"/comments/{hidden_comment.id}", "/comments/X") == (
        missing.text.replace(f"/comments/{hidden_comment.id + 1000}", "/comments/X")
    )


def test_its_author_is_offered_no_delete_the_site_would_refuse(client, alice, hidden_comment):
    reporter = make_user(subscription="active")
    login(client, reporter)
    article = hidden_comment.article
    article.status = "published"
    db.session.commit()
    client.submit(f"/comments/{hidden_comment.id}/report", {"reason": "spam"})
    article.status = "hidden"
    db.session.commit()

    login(client, alice)
    page = client.get("/u/alice").text

    assert f'action="/comments/{hidden_comment.id}/delete"' not in page
    assert "waiting for a moderator, so it cannot be deleted" in page


def test_its_author_sees_a_comment_held_for_review_on_their_profile(client, article, alice):
    comment = add_comment(article, alice, "Held for review")
    comment.hidden = True
    db.session.commit()
    assert "Held for review" not in client.get("/u/alice").get_data(as_text=True)

    login(client, alice)
    page = client.get("/u/alice").get_data(as_text=True)

    assert "Held for review" in page
    assert "hidden while moderators review reports about it" in page
