"""Races the database must settle: one comment per form nonce, likes that add up (C25, C26)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from club.community.models import ArticleLike, Comment
from club.extensions import db
from tests.community.conftest import token
from tests.conftest import is_postgres, login

pytestmark = [
    pytest.mark.pg,
    pytest.mark.skipif(not is_postgres(), reason="needs PostgreSQL: SQLite runs one writer"),
]


def race(app, user, requests: list[tuple[str, dict]]) -> list[int]:
    """Send ``requests`` from as many threads at once, each with its own client."""
    barrier = threading.Barrier(len(requests))
    statuses: list[int] = []
    clients = []
    for _ in requests:  # signed in here: model objects belong to this thread's session
        clients.append(app.test_client())
        login(clients[-1], user)

    def send(client, url: str, data: dict) -> None:
        data = data | {"csrf_token": client.csrf_token()}
        barrier.wait()
        statuses.append(client.post(url, data=data).status_code)

    threads = [
        threading.Thread(target=send, args=(client, *request))
        for client, request in zip(clients, requests, strict=True)
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
