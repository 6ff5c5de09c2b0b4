"""A member's community data in the export, and after the account is deleted."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from club import membership
from club.community.comments import set_visibility
from club.community.models import Comment, CommentStatus, Notification, Report
from club.extensions import db
from tests.community.conftest import add_comment, page_of
from tests.conftest import PASSWORD, login


def test_it_exports_the_members_community_data(app, member, article, alice, carol):
    theirs = add_comment(article, carol)
    written = add_comment(article, alice, "my words")
    member.submit(f"/articles/{article.id}/like", {"state": "on"})
    member.submit(f"/articles/{article.id}/save", {"state": "on"})
    member.submit(f"/comments/{theirs.id}/like", {"state": "on"})
    response = member.submit("/settings/export")
    data = json.loads(response.get_data(as_text=True))["community"]
    assert [c["text"] for c in data["comments"]] == ["my words"]
    for kind in ("liked_articles", "saved_articles"):
        (item,) = data[kind]
        assert (item["article_id"], item["title"], item["url"]) == (
            article.id,
            article.title,
            article.url,
        )
        assert item["at"] is not None
    assert [c["comment_id"] for c in data["liked_comments"]] == [theirs.id]
    # Each comment says where it is: the article's title and the comment's own link.
    (mine,) = data["comments"]
    (liked,) = data["liked_comments"]
    for item, comment_id in ((mine, written.id), (liked, theirs.id)):
        assert item["comment_id"] == comment_id
        assert (item["article_id"], item["article_title"]) == (article.id, article.title)
        assert item["comment_url"] == f"{app.config['BASE_URL']}/comments/{comment_id}"
    assert mine["hidden_while_reported"] is False


def test_it_exports_the_members_notifications_and_reports_with_their_times(
    member, article, alice, carol
):
    mine = add_comment(article, alice, "my words")
    reply = add_comment(article, carol, "a reply", parent=mine)
    member.submit(f"/comments/{reply.id}/report", {"reason": "spam"})

    data = json.loads(member.submit("/settings/export").get_data(as_text=True))["community"]

    (notification,) = data["notifications"]
    assert notification["kind"] == "reply" and notification["from_member"] == "@carol"
    assert notification["comment_id"] == reply.id and notification["created_at"]
    (report,) = data["reports_filed"]
    assert (report["comment_id"], report["status"]) == (reply.id, "open")
    assert report["created_at"]


def test_it_keeps_a_deleted_members_comments_as_deleted_member(client, article, alice, carol):
    comment = add_comment(article, alice, "words that stay")
    theirs = add_comment(article, carol, "carol's comment")
    login(client, alice)
    client.submit(f"/articles/{article.id}/like", {"state": "on"})
    client.submit(f"/comments/{theirs.id}/like", {"state": "on"})
    response = client.submit("/settings/delete", {"password": PASSWORD, "confirm": "y"})
    assert response.status_code == 303
    said = client.get(response.location).get_data(as_text=True)
    # Many who leave never paid: no thanks "for having been a member".
    assert "Your account has been deleted." in said and "been a member" not in said
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).author_id is None
    assert (article.like_count, db.session.get(Comment, theirs.id).like_count) == (0, 0)
    html = page_of(client, article)
    assert "words that stay" in html and "deleted member" in html


def test_it_takes_back_a_deleted_members_likes_notices_but_not_their_replies(
    client, article, alice, carol
):
    mine = add_comment(article, carol, "carol's comment")
    add_comment(article, alice, "a reply that stays", parent=mine)
    login(client, alice)
    client.submit(f"/comments/{mine.id}/like", {"state": "on"})
    client.submit("/settings/delete", {"password": PASSWORD, "confirm": "y"})

    kinds = db.session.scalars(sa.select(Notification.kind).where(Notification.user_id == carol.id))
    assert list(kinds) == ["reply"]


def counted_comments(article) -> int:
    """The comments readers see under ``article``, counted from the rows themselves."""
    visible = sa.select(sa.func.count(Comment.id)).where(
        Comment.article_id == article.id,
        Comment.status == CommentStatus.VISIBLE,
        Comment.hidden.is_(False),
    )
    return db.session.scalar(visible)


@pytest.mark.parametrize("frozen", [False, True], ids=["member", "frozen-by-a-moderator"])
def test_a_leaving_member_may_have_their_comments_deleted_too(
    client, article, alice, carol, frozen
):
    alone = add_comment(article, alice, "words with no replies")
    answered = add_comment(article, alice, "words someone answered")
    add_comment(article, carol, "a reply that stays", parent=answered)
    reported = add_comment(article, alice, "words a moderator must see")
    db.session.add(Report(comment_id=reported.id, reporter_id=carol.id, reason="spam"))
    if frozen:  # the policy lets a frozen account take its comments when it leaves
        membership.freeze(alice, by=carol, reason="Spam in comments")
    db.session.commit()
    login(client, alice)
    if not frozen:  # the article's like count goes down in the same pass as its comments
        assert client.submit(f"/articles/{article.id}/like", {"state": "on"}).status_code == 303

    response = client.submit(
        "/settings/delete", {"password": PASSWORD, "confirm": "y", "delete_comments": "y"}
    )

    assert response.status_code == 303
    db.session.expire_all()
    html = page_of(client, article)
    assert "words with no replies" not in html and "words someone answered" not in html
    # The answered comment keeps its thread under the marker, as a single deletion does.
    assert "[deleted]" in html and "a reply that stays" in html
    for comment in (alone, answered):
        row = db.session.get(Comment, comment.id)
        assert (row.status, row.body, row.author_id) == (CommentStatus.DELETED, "", None)
    # A reported comment waits for the moderators as it was reported, with no author.
    kept = db.session.get(Comment, reported.id)
    assert (kept.status, kept.body, kept.author_id) == (
        CommentStatus.VISIBLE,
        "words a moderator must see",
        None,
    )
    assert article.comment_count == counted_comments(article) == 2
    assert article.like_count == 0


def test_deletion_asks_the_policy_whether_the_comments_may_go_too(
    client, article, alice, monkeypatch
):
    kept = add_comment(article, alice, "words the policy keeps")
    login(client, alice)
    asked = []

    def refuse(user) -> bool:
        asked.append(user.id)
        return False

    monkeypatch.setattr(membership, "can_delete_own_comments_when_leaving", refuse)
    response = client.submit(
        "/settings/delete", {"password": PASSWORD, "confirm": "y", "delete_comments": "y"}
    )

    assert response.status_code == 303 and asked == [alice.id]
    db.session.expire_all()
    row = db.session.get(Comment, kept.id)
    assert (row.status, row.body, row.author_id) == (
        CommentStatus.VISIBLE,
        "words the policy keeps",
        None,
    )


def test_a_leaving_member_who_does_not_ask_keeps_their_comments(client, article, alice):
    add_comment(article, alice, "words that stay")
    login(client, alice)
    client.submit("/settings/delete", {"password": PASSWORD, "confirm": "y"})
    db.session.expire_all()
    assert "words that stay" in page_of(client, article)
    assert article.comment_count == counted_comments(article) == 1


def leave_with_comments_under_review(client, article, alice, carol):
    """Alice leaves asking for her comments to go: one reported, one held by reports,
    one a moderator removed."""
    reported = add_comment(article, alice, "reported words")
    db.session.add(Report(comment_id=reported.id, reporter_id=carol.id, reason="spam"))
    held = add_comment(article, alice, "held words")
    set_visibility(held, hidden=True)  # as three members' reports leave it
    db.session.add(Report(comment_id=held.id, reporter_id=carol.id, reason="spam"))
    removed = add_comment(article, alice, "removed words, call me at 555-0100")
    set_visibility(removed, status=CommentStatus.REMOVED)
    db.session.commit()
    login(client, alice)
    leaving = {"password": PASSWORD, "confirm": "y", "delete_comments": "y"}
    assert client.submit("/settings/delete", leaving).status_code == 303
    return reported, held, removed


@pytest.mark.parametrize("which", ["reported", "held"])
def test_a_comment_kept_by_a_moderator_after_its_author_left_asking_for_it_to_go_goes(
    client, article, alice, carol, which
):
    reported, held = leave_with_comments_under_review(client, article, alice, carol)[:2]
    comment = reported if which == "reported" else held
    login(client, carol)

    response = client.submit(f"/admin/reports/{comment.id}/dismiss", follow_redirects=True)

    assert "asking for it to be deleted" in response.get_data(as_text=True)
    db.session.expire_all()
    row = db.session.get(Comment, comment.id)
    assert (row.status, row.body) == (CommentStatus.DELETED, "")
    assert f"{which} words" not in page_of(client, article)
    assert article.comment_count == counted_comments(article)


def test_a_comment_removed_before_or_after_its_author_left_keeps_no_words(
    client, article, alice, carol
):
    reported, _, removed = leave_with_comments_under_review(client, article, alice, carol)
    login(client, carol)

    client.submit(f"/admin/reports/{reported.id}/remove", {"decided_in": "queue"})

    db.session.expire_all()
    assert db.session.get(Comment, removed.id).body == ""
    assert db.session.get(Comment, reported.id).status == CommentStatus.REMOVED
    assert db.session.get(Comment, reported.id).body == ""
    assert "555-0100" not in client.get("/admin/audit").get_data(as_text=True)
