"""A reports queue page drawn before another moderator kept the comment cannot remove
it, or freeze its author, unseen: the author would get both mails within a second."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from club import membership
from club.community.models import CommentStatus
from club.extensions import db
from club.models import AuditEntry
from tests.community.conftest import add_comment
from tests.conftest import login, make_user, read_outbox

KEPT = "Another moderator kept this comment after this page was drawn"


def reported_then_kept(client, article, author, moderator):
    comment = add_comment(article, author, "borderline but fine")
    login(client, make_user(subscription="active"))
    client.submit(f"/comments/{comment.id}/report", {"reason": "spam"})
    login(client, moderator)
    client.submit(f"/admin/reports/{comment.id}/dismiss")  # the first moderator keeps it
    return comment


def test_a_stale_remove_from_the_queue_leaves_a_kept_comment_and_says_why(
    client, article, alice, carol, outbox
):
    comment = reported_then_kept(client, article, alice, carol)

    response = client.submit(
        f"/admin/reports/{comment.id}/remove",
        {"reason": "", "decided_in": "queue"},
        follow_redirects=True,
    )

    assert KEPT in response.get_data(as_text=True)
    db.session.refresh(comment)
    assert comment.status == CommentStatus.VISIBLE and not comment.hidden
    assert not [m for m in read_outbox(outbox) if "removed your comment" in m]
    actions = db.session.scalars(sa.select(AuditEntry.action)).all()
    assert "comment.removed" not in actions


def test_a_stale_remove_and_freeze_leaves_the_author_as_they_were(client, article, alice, carol):
    comment = reported_then_kept(client, article, alice, carol)

    response = client.submit(
        f"/admin/reports/{comment.id}/freeze", {"reason": "Spam links"}, follow_redirects=True
    )

    assert KEPT in response.get_data(as_text=True)
    db.session.refresh(alice)
    assert membership.standing(alice).can_interact
    assert db.session.get(type(comment), comment.id).status == CommentStatus.VISIBLE


def test_a_moderator_can_still_remove_a_kept_comment_from_its_thread(client, article, alice, carol):
    comment = reported_then_kept(client, article, alice, carol)

    client.submit(f"/admin/reports/{comment.id}/remove", {"reason": "On second thought"})

    db.session.refresh(comment)
    assert comment.status == CommentStatus.REMOVED


def reported(client, article, author, moderator):
    comment = add_comment(article, author, "rude words")
    login(client, make_user(subscription="active"))
    client.submit(f"/comments/{comment.id}/report", {"reason": "spam"})
    login(client, moderator)
    return comment


def test_the_queue_says_an_author_is_already_frozen_and_offers_no_second_freeze(
    client, article, alice, carol
):
    comment = reported(client, article, alice, carol)
    membership.freeze(alice, by=carol, reason="Harassment", until=datetime(2031, 6, 1, tzinfo=UTC))
    db.session.commit()

    page = client.get("/admin/reports").get_data(as_text=True)

    assert "@alice is already frozen until 01 June 2031 00:00 UTC" in page
    assert f'action="/admin/reports/{comment.id}/freeze"' not in page
    assert f'action="/admin/reports/{comment.id}/remove"' in page


def test_a_freeze_from_a_stale_queue_never_replaces_the_freeze_in_force(
    client, article, alice, carol, outbox
):
    comment = reported(client, article, alice, carol)
    client.get("/admin/reports")  # drawn: alice can still be frozen from here
    until = datetime(2031, 6, 1, tzinfo=UTC)
    membership.freeze(alice, by=carol, reason="Harassment, six months", until=until)
    db.session.commit()  # another moderator, meanwhile

    response = client.submit(f"/admin/reports/{comment.id}/freeze", {"reason": "rude", "until": ""})

    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "@alice is already frozen until 01 June 2031 00:00 UTC; nothing was changed" in text
    assert "rude" in text  # what the moderator typed is still in the form
    db.session.refresh(alice)
    assert (alice.frozen_reason, alice.frozen_until) == ("Harassment, six months", until)
    assert db.session.get(type(comment), comment.id).status == CommentStatus.VISIBLE
    assert read_outbox(outbox) == []
