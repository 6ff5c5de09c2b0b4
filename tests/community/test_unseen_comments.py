"""A comment readers cannot see (held for review, removed, deleted) cannot be reported or
liked, and every such request answers exactly as an unused comment id does."""

from __future__ import annotations

import pytest

from club.community.models import CommentLike, CommentStatus, Report
from club.extensions import db
from tests.community.conftest import add_comment, post_comment
from tests.conftest import login, make_user

JSON = {"Accept": "application/json"}
UNUSED_ID = 999_999


def make_unseen(comment, state: str) -> None:
    if state == "held":
        comment.hidden = True  # as three members' reports leave it
    else:
        comment.status = CommentStatus.REMOVED if state == "removed" else CommentStatus.DELETED
    db.session.commit()


def answer(client, url: str, data: dict) -> tuple[int, str]:
    response = client.submit(url, data, headers=JSON)
    return response.status_code, response.get_data(as_text=True)


@pytest.mark.parametrize("state", ["held", "removed", "deleted"])
def test_reporting_an_unseen_comment_answers_as_an_unused_id_and_files_nothing(
    client, article, alice, state
):
    comment = add_comment(article, alice, "not shown")
    make_unseen(comment, state)
    login(client, make_user(subscription="active"))
    report = {"reason": "spam"}

    unseen = answer(client, f"/comments/{comment.id}/report", report)

    assert unseen == answer(client, f"/comments/{UNUSED_ID}/report", report)
    assert unseen[0] == 404
    assert db.session.query(Report).count() == 0


@pytest.mark.parametrize("state", ["held", "removed"])
@pytest.mark.parametrize("on", ["on", "off"])
def test_liking_or_unliking_an_unseen_comment_answers_as_an_unused_id(
    client, article, alice, state, on
):
    comment = add_comment(article, alice, "not shown")
    liker = make_user(subscription="active")
    db.session.add(CommentLike(user_id=liker.id, comment_id=comment.id))
    db.session.commit()
    make_unseen(comment, state)
    login(client, liker)

    unseen = answer(client, f"/comments/{comment.id}/like", {"state": on})

    assert unseen == answer(client, f"/comments/{UNUSED_ID}/like", {"state": on})
    assert unseen[0] == 404 and '"count"' not in unseen[1]


@pytest.mark.parametrize("action", ["like", "report", "reply"])
def test_acting_on_a_comment_deleted_in_another_tab_says_it_is_gone(client, article, alice, action):
    # The page in this tab still shows the comment: "does not exist" would be a puzzle.
    comment = add_comment(article, alice, "deleted meanwhile")
    make_unseen(comment, "deleted")
    login(client, make_user(subscription="active"))
    if action == "reply":
        response = post_comment(client, article, "a reply", parent_id=comment.id)
    else:
        data = {"state": "on"} if action == "like" else {"reason": "spam"}
        response = client.submit(f"/comments/{comment.id}/{action}", data)

    assert "That comment was deleted, removed or is under review" in response.text
    assert "does not exist" not in response.text
