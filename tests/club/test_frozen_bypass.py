"""Proof that no write route lets a read-only account through (catalogue C22, D1-D4).

The test walks ``app.url_map``: every rule that accepts POST, PUT, PATCH or DELETE and
is not in the reviewed allow-list below gets a valid request — a real CSRF token, ids
of objects that exist, a plausible form — from an account frozen for each reason the
policy knows, and must answer 403 with nothing written to any table. A route added
later without the guard fails here; so does opening a route without adding it below.
The positive control sends the same requests as a member (and admin routes as an admin)
and expects them to succeed, so the harness cannot pass by sending junk.
"""

from __future__ import annotations

import re
import secrets

import pytest
from flask import Flask

from articles.models import Topic
from club import membership
from club.extensions import db
from tests.community.conftest import add_comment
from tests.conftest import login, make_article, make_user, table_fingerprint

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Reviewed: the endpoints a read-only account (or a visitor) may write to. Each one is
# marked @membership.allowed_while_frozen or @membership.public_write in its view.
# Adding a name here is a decision about access: say why in the commit message.
REVIEWED_OPEN_ENDPOINTS: frozenset[str] = frozenset()

FREEZE_REASONS = {
    "email not confirmed": lambda: make_user(confirmed=False),
    "not subscribed": lambda: make_user(),
    "payment failed": lambda: make_user(subscription="past_due", past_due_days=10),
    "subscription ended": lambda: make_user(subscription="canceled"),
    "frozen by a moderator": None,  # built in the fixture: needs a moderator
}


def mutating_rules(app: Flask):
    """Yield (rule, methods) for every rule that can change state, ordered stably."""
    rules = sorted(app.url_map.iter_rules(), key=lambda r: ("delete" in r.endpoint, r.rule))
    for rule in rules:
        methods = (rule.methods or set()) & MUTATING
        if methods and rule.endpoint != "static":
            yield rule, sorted(methods)


def build_url(rule, ids: dict[str, object]) -> str:
    """Fill each URL parameter with the id of an existing object."""

    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name not in ids:
            pytest.fail(f"{rule.rule}: add an existing object's id for <{name}> to world()")
        return str(ids[name])

    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", fill, rule.rule)


def plausible_form(csrf_token: str) -> dict[str, str]:
    """A form that satisfies every community form (and is harmless elsewhere)."""
    return {
        "csrf_token": csrf_token,
        "body": "A perfectly valid comment.",
        "client_token": secrets.token_urlsafe(24),
        "state": "on",
        "reason": "spam",
        "details": "crafted",
        "next": "/",
    }


@pytest.fixture
def world(app, carol):
    """Objects for every URL parameter: ids each route can act on."""
    article = make_article()
    topic = Topic(slug="sleep", name="Sleep")
    db.session.add(topic)
    db.session.commit()
    return {"article": article, "topic": topic, "author": make_user(subscription="active")}


def ids_for(world, comment) -> dict[str, object]:
    return {
        "article_id": world["article"].id,
        "comment_id": comment.id,
        "topic_id": world["topic"].id,
        "feed_id": world["article"].feed_id,
        "user_id": world["author"].id,
        "handle": world["author"].handle,
    }


def frozen_account(reason: str, carol):
    if reason == "frozen by a moderator":
        user = make_user(subscription="active")
        membership.freeze(user, by=carol, reason="Spam")
        db.session.commit()
        return user
    return FREEZE_REASONS[reason]()


def test_it_keeps_the_open_endpoints_to_the_reviewed_list(app):
    opened = {e for e in app.view_functions if membership.view_marker(e) is not None}
    assert opened == REVIEWED_OPEN_ENDPOINTS


@pytest.mark.parametrize("reason", FREEZE_REASONS)
def test_it_refuses_every_write_to_a_read_only_account(app, client, world, carol, reason):
    user = frozen_account(reason, carol)
    assert membership.standing(user).reason == reason
    # The account's own comment, so edit and delete would succeed were it not frozen.
    own = add_comment(world["article"], user, "written before the freeze")
    login(client, user)
    token = client.csrf_token()
    checked = 0
    for rule, methods in mutating_rules(app):
        if rule.endpoint in REVIEWED_OPEN_ENDPOINTS:
            continue
        url = build_url(rule, ids_for(world, own))
        for method in methods:
            before = table_fingerprint()
            response = client.open(url, method=method, data=plausible_form(token))
            assert response.status_code == 403, (rule.rule, method, response.status_code)
            assert reason in response.get_data(as_text=True), rule.rule
            assert table_fingerprint() == before, (rule.rule, method)
            checked += 1
    assert checked >= 12  # the harness saw the community routes, at least


def test_it_lets_a_member_make_the_same_requests(app, client, world, alice, carol):
    """Positive control: the requests above are valid; only the standing refused them."""
    own = add_comment(world["article"], alice, "mine")
    to_report = add_comment(world["article"], world["author"], "for a member to report")
    to_moderate = add_comment(world["article"], world["author"], "for the moderators")
    for rule, methods in mutating_rules(app):
        if rule.endpoint in REVIEWED_OPEN_ENDPOINTS:
            continue
        as_admin = rule.rule.startswith("/admin/")
        login(client, carol if as_admin else alice)
        if as_admin:
            comment = to_moderate
        elif rule.endpoint == "community.report_comment":
            comment = to_report
        else:
            comment = own
        for method in methods:
            response = client.open(
                build_url(rule, ids_for(world, comment)),
                method=method,
                data=plausible_form(client.csrf_token()),
            )
            assert response.status_code < 400, (rule.rule, method, response.status_code)


def test_it_changes_nothing_on_get(app, client, world, alice):
    """GET never writes (C9): every readable rule, as a member, leaves the tables alone."""
    own = add_comment(world["article"], alice, "mine")
    login(client, alice)
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in {"static", "test_csrf"}:
            continue
        before = table_fingerprint()
        client.get(build_url(rule, ids_for(world, own)))
        assert table_fingerprint() == before, rule.rule
