"""Likes on articles and comments: one per account, explicit on/off, counts."""

from __future__ import annotations

import re

import sqlalchemy as sa

from club.community.models import ArticleLike, CommentLike
from club.extensions import db
from tests.community.conftest import add_comment, page_of
from tests.conftest import login, table_fingerprint

JSON = {"Accept": "application/json"}


def test_it_likes_an_article_and_redirects_back(member, article):
    response = member.submit(
        f"/articles/{article.id}/like", {"state": "on", "next": "/articles/1/a-title?x=1"}
    )
    db.session.refresh(article)
    assert response.status_code == 303
    assert response.headers["Location"] == "/articles/1/a-title?x=1#reactions"
    assert article.like_count == 1


def test_it_answers_the_new_count_as_json(member, article):
    response = member.submit(f"/articles/{article.id}/like", {"state": "on"}, headers=JSON)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["ok"], body["on"], body["count"]) == (True, True, 1)


def test_it_answers_a_repeated_like_with_the_state_it_is_in(member, article):
    member.submit(f"/articles/{article.id}/like", {"state": "on"})
    before = table_fingerprint()
    # A tab opened before the like (or a double click) asks again: the button catches up.
    response = member.submit(f"/articles/{article.id}/like", {"state": "on"}, headers=JSON)
    assert response.status_code == 200
    assert (response.get_json()["on"], response.get_json()["count"]) == (True, 1)
    assert member.submit(f"/articles/{article.id}/like", {"state": "on"}).status_code == 303
    assert table_fingerprint() == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ArticleLike)) == 1


def test_it_unlikes_an_article(member, article):
    member.submit(f"/articles/{article.id}/like", {"state": "on"})
    response = member.submit(f"/articles/{article.id}/like", {"state": "off"}, headers=JSON)
    assert response.get_json()["on"] is False and response.get_json()["count"] == 0


def test_it_answers_unliking_what_was_not_liked_with_the_state_it_is_in(
    client, article, alice, carol
):
    login(client, carol)
    client.submit(f"/articles/{article.id}/like", {"state": "on"})
    login(client, alice)
    before = table_fingerprint()
    response = client.submit(f"/articles/{article.id}/like", {"state": "off"}, headers=JSON)
    assert response.status_code == 200
    assert (response.get_json()["on"], response.get_json()["count"]) == (False, 1)
    assert table_fingerprint() == before


def test_it_refuses_a_like_without_a_state(member, article):
    before = table_fingerprint()
    assert member.submit(f"/articles/{article.id}/like", {"state": "toggle"}).status_code == 400
    assert table_fingerprint() == before


def test_it_counts_likes_from_different_members(client, article, alice, carol):
    for user in (alice, carol):
        login(client, user)
        client.submit(f"/articles/{article.id}/like", {"state": "on"})
    db.session.refresh(article)
    assert article.like_count == 2


def test_it_likes_a_comment_and_shows_the_count(member, article, carol):
    comment = add_comment(article, carol)
    response = member.submit(f"/comments/{comment.id}/like", {"state": "on"}, headers=JSON)
    assert response.get_json()["count"] == 1
    assert 'aria-pressed="true"' in page_of(member, article)


def state_form(html: str, kind: str) -> str:
    """The first like/save form of ``kind`` on the page."""
    return re.search(rf'<form [^>]*data-kind="{kind}".*?</form>', html, re.S).group(0)


def button_name(form: str) -> tuple[str, str]:
    """What a screen reader says for the form's button: its name (aria-hidden parts left
    out) and its aria-pressed."""
    button = re.search(r"<button ([^>]*)>(.*?)</button>", form, re.S)
    text = re.sub(r'<span [^>]*aria-hidden="true"[^>]*>.*?</span>', "", button.group(2))
    pressed = re.search(r'aria-pressed="(\w+)"', button.group(1)).group(1)
    return " ".join(re.sub(r"<[^>]+>", "", text).split()), pressed


def test_like_and_save_keep_their_label_and_say_their_state_in_aria_pressed(member, article):
    before = page_of(member, article)
    member.submit(f"/articles/{article.id}/like", {"state": "on"})
    member.submit(f"/articles/{article.id}/save", {"state": "on"})
    after = page_of(member, article)

    assert button_name(state_form(before, "like")) == ("Like", "false")
    assert button_name(state_form(before, "save")) == ("Save", "false")
    assert button_name(state_form(after, "like")) == ("Like", "true")
    assert button_name(state_form(after, "save")) == ("Save", "true")
    # The count is beside the button, not in its name: "Like" whatever the number; read
    # aloud, it says what it counts.
    count = re.search(r"</button>\s*(<span .*?</span></span>)", state_form(after, "like"))
    assert " ".join(re.sub(r"<[^>]+>", "", count.group(1)).split()) == "Likes: 1"
    assert re.search(r"<span data-count>1</span>", count.group(1))


def test_a_comment_like_keeps_its_label_when_pressed_and_names_the_comment(member, article, carol):
    comment = add_comment(article, carol)
    member.submit(f"/comments/{comment.id}/like", {"state": "on"})
    html = page_of(member, article).split(f'id="comment-{comment.id}"', 1)[1]
    assert button_name(state_form(html, "like")) == (
        f"Like comment by {carol.display_name}",
        "true",
    )


def test_it_likes_a_comment_once_however_often_it_is_asked(member, article, carol):
    comment = add_comment(article, carol)
    member.submit(f"/comments/{comment.id}/like", {"state": "on"})
    before = table_fingerprint()
    response = member.submit(f"/comments/{comment.id}/like", {"state": "on"}, headers=JSON)
    assert response.status_code == 200
    assert (response.get_json()["on"], response.get_json()["count"]) == (True, 1)
    assert table_fingerprint() == before  # no second like, no second notification
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CommentLike)) == 1


def test_it_refuses_liking_your_own_comment_and_offers_no_button(member, article, alice):
    """A like says someone else found the comment worth reading; it ranks "Most liked"."""
    mine = add_comment(article, alice, "I agree with myself")
    before = table_fingerprint()
    response = member.submit(f"/comments/{mine.id}/like", {"state": "on"})
    assert response.status_code == 400
    assert "You cannot like your own comment" in response.text
    assert table_fingerprint() == before
    assert f'action="/comments/{mine.id}/like"' not in page_of(member, article)


def test_it_answers_404_for_liking_a_missing_article(member):
    assert member.submit("/articles/424242/like", {"state": "on"}).status_code == 404


def test_it_answers_404_for_liking_a_missing_comment(member):
    assert member.submit("/comments/424242/like", {"state": "on"}).status_code == 404
