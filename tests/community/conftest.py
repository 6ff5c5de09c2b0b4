"""Community fixtures: an article to talk about, and helpers to comment on it."""

from __future__ import annotations

import secrets

import pytest

from club.clock import utcnow
from club.community import comments
from club.community.models import Comment
from club.extensions import db
from club.models import User
from tests.conftest import login, make_article


@pytest.fixture
def article(app):
    """A published article with no comments yet."""
    return make_article(title="Walking eases lower back pain")


@pytest.fixture
def member(client, alice):
    """The test client signed in as alice (paying member)."""
    login(client, alice)
    return client


def quick_member(display_name: str, *, badge: bool = True) -> User:
    """Create a commenter that never logs in, skipping the slow password hash."""
    n = secrets.token_hex(4)
    user = User(
        email=f"quick{n}@example.com",
        handle=f"quick{n}",
        display_name=display_name,
        password_hash="!",  # matches no password
        email_confirmed_at=utcnow(),
        complimentary=badge,
    )
    db.session.add(user)
    db.session.commit()
    return user


def token() -> str:
    return secrets.token_urlsafe(24)


def add_comment(article, author, body="A comment.", parent=None) -> Comment:
    """Create and commit a comment through the domain function."""
    comment, _ = comments.post_comment(
        author,
        article.id,
        body,
        client_token=token(),
        parent_id=parent.id if parent else None,
    )
    db.session.commit()
    return comment


def post_comment(client, article, body="Hello there", headers=None, **fields):
    data = {"body": body, "client_token": token(), **fields}
    return client.submit(f"/articles/{article.id}/comments", data, headers=headers or {})


def page_of(client, article) -> str:
    return client.get(f"/articles/{article.id}").get_data(as_text=True)
