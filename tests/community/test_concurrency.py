"""Races the database must settle: one comment per form nonce, likes that add up (C25, C26),
and counts that stay true when deletes, reports and moderators' decisions collide."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from club.community.models import ArticleLike, Comment, CommentStatus
from club.extensions import db
from club.models import AuditEntry
from tests.community.conftest import add_comment, token
from tests.conftest import is_postgres, login, make_user

pytestmark = [
    pytest.mark.pg,
    pytest.mark.skipif(not is_postgres(), reason="needs PostgreSQL: SQLite runs one writer"),
]


def race(app, user, requests: list[tuple[str, dict]]) -> list[int]:
    """Send ``requests`` as ``user`` from as many threads at once, each with its own client."""
    return race_as(app, [(user, url, data) for url, data in requests])


def race_as(app, requests: list[tuple[object, str, dict]]) -> list[int]:
    """Send each (user, url, form) from its own thread and client, all at once."""
    barrier = threading.Barrier(len(requests))
    statuses: list[int] = []
    clients = []
    for user, _, _ in requests:  # signed in here: model objects belong to this thread
        clients.append(app.test_client())
        login(clients[-1], user)

    def send(client, url: str, data: dict) -> None:
        data = data | {"csrf_token": client.csrf_token()}
        barrier.wait()
        statuses.append(client.post(url, data=data).status_code)

    threads = [
        threading.Thread(target=send, args=(client, url, data))
        for client, (_, url, data) in zip(clients, requests, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_it_creates_one_comment_from_twenty_identical_submissions(app, article, alice):
    form = {"body": "posted once", "client_token": token()}
    statuses = race(app, alice, [(f"/articles/{article.id}/comments", form)] * 20)
    assert all(status in (303,) for status in statuses), statuses
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 1
    db.session.refresh(article)
    assert article.comment_count == 1


def test_it_keeps_the_like_count_equal_to_the_likes(app, article, alice):
    url = f"/articles/{article.id}/like"
    requests = [(url, {"state": "on" if n % 2 else "off"}) for n in range(30)]
    statuses = race(app, alice, requests)
    assert set(statuses) <= {303, 409}, statuses
    likes = db.session.scalar(sa.select(sa.func.count()).select_from(ArticleLike))
    db.session.refresh(article)
    assert likes in (0, 1) and article.like_count == likes


def comment_count(article) -> int:
    db.session.expire_all()
    return article.comment_count


def audit_count(action: str) -> int:
    query = sa.select(sa.func.count()).where(AuditEntry.action == action)
    return db.session.scalar(query.select_from(AuditEntry))


def test_it_counts_a_double_clicked_delete_once(app, article, alice, carol):
    add_comment(article, carol)
    comment = add_comment(article, alice)
    statuses = race(app, alice, [(f"/comments/{comment.id}/delete", {})] * 6)
    assert sorted(statuses) == [303] + [409] * 5, statuses
    assert comment_count(article) == 1


def reported(app, article, author, by: int) -> Comment:
    comment = add_comment(article, author)
    reporters = [make_user(subscription="active") for _ in range(by)]
    race_as(app, [(r, f"/comments/{comment.id}/report", {"reason": "spam"}) for r in reporters])
    return comment


def test_it_hides_a_comment_once_when_reports_arrive_together(app, article, alice):
    app.config["COMMUNITY_HIDE_AFTER_REPORTS"] = 3
    add_comment(article, alice, "A comment nobody reports.")
    comment = reported(app, article, alice, by=6)
    db.session.refresh(comment)
    assert comment.hidden
    assert comment_count(article) == 1
    assert audit_count("comment.auto_hidden") == 1


@pytest.mark.parametrize(
    ("decision", "action", "count_after"),
    [("remove", "comment.removed", 0), ("dismiss", "comment.reports_dismissed", 1)],
)
def test_it_applies_a_double_clicked_decision_once(
    app, article, alice, carol, decision, action, count_after
):
    comment = reported(app, article, alice, by=3)
    assert comment_count(article) == 0  # hidden while it waits
    statuses = race(app, carol, [(f"/admin/reports/{comment.id}/{decision}", {})] * 6)
    assert set(statuses) == {303}, statuses  # the losers are told on the queue page
    assert audit_count(action) == 1
    assert comment_count(article) == count_after
    db.session.refresh(comment)
    assert (comment.status == CommentStatus.REMOVED) is (decision == "remove")


def test_the_same_words_from_several_forms_at_once_are_one_comment(app, article, alice):
    """Two tabs, or Back and Post again while the first post is on its way: each form
    has its own nonce, and each request must still see the comment the other posts."""
    requests = [
        (f"/articles/{article.id}/comments", {"body": "same words", "client_token": token()})
        for _ in range(8)
    ]
    statuses = race(app, alice, requests)
    assert set(statuses) == {303}, statuses
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 1
