"""Proof that no write route lets a read-only account through (catalogue C22, D1-D4).

The test walks ``app.url_map``: every rule that accepts POST, PUT, PATCH or DELETE and
is not in the reviewed allow-list (foundation's pins in ``test_write_guard.py``) gets a
valid request (a real CSRF token, ids of objects that exist, a plausible form) from an
account frozen for each reason the policy knows, and must answer 403 naming that reason,
with nothing written to any table. A route added later without the guard fails here; so
does opening a route without adding it to the pins. The positive control sends the same
requests to the community routes as a member (an admin for moderation) and expects them
to succeed, so the harness cannot pass by sending junk.
"""

from __future__ import annotations

import re
import secrets

import pytest
from flask import Flask

from articles.models import KeywordRule, Topic
from club import membership
from club.clock import utcnow
from club.community.models import Report
from club.extensions import db
from club.models import Appeal
from tests.club.test_write_guard import ALLOWED_WHILE_FROZEN, PUBLIC_WRITE
from tests.community.conftest import add_comment
from tests.conftest import login, make_article, make_user, table_fingerprint

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# The reviewed allow-lists live in one place, tests/club/test_write_guard.py, which pins
# them against the views' markers; extend them there.
REVIEWED_OPEN_ENDPOINTS = ALLOWED_WHILE_FROZEN | PUBLIC_WRITE

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
        if methods and not rule.endpoint.startswith("test_"):  # the suite's own helpers
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
    author = make_user(subscription="active")
    rule = KeywordRule(feed_id=article.feed_id, kind="block", phrase="miracle cure")
    appeal = Appeal(user_id=author.id, freeze_started_at=utcnow(), text="Please reconsider.")
    db.session.add_all([topic, rule, appeal])
    db.session.commit()
    return {"article": article, "topic": topic, "author": author, "rule": rule, "appeal": appeal}


def ids_for(world, comment) -> dict[str, object]:
    return {
        "article_id": world["article"].id,
        "comment_id": comment.id,
        "topic_id": world["topic"].id,
        "feed_id": world["article"].feed_id,
        "user_id": world["author"].id,
        "handle": world["author"].handle,
        "rule_id": world["rule"].id,
        "appeal_id": world["appeal"].id,
        "decision": "accept",
        "action": "feature",
        "slug": world["topic"].slug,
        # RQ job ids and signed tokens are not rows; any value reaches the view.
        "job_id": "job-that-does-not-exist",
        "token": "not-a-valid-token",
    }


def frozen_account(reason: str, carol):
    if reason == "frozen by a moderator":
        user = make_user(subscription="active")
        membership.freeze(user, by=carol, reason="Spam")
        db.session.commit()
        return user
    return FREEZE_REASONS[reason]()


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
    """Positive control: the requests above are valid; only the standing refused them.

    Run for this package's routes; for the rest, the refusal names the freeze reason,
    which only the guard (not a validation error or the admin check) would say.
    """
    own = add_comment(world["article"], alice, "mine")
    # Someone else's: members report and like others' comments, not their own.
    to_report = add_comment(world["article"], world["author"], "for a member to report")

    def to_moderate():
        # A comment of its own for each decision (one decides it), reported: the queue
        # decides on reports, and its actions refuse a comment no one reports any more.
        comment = add_comment(world["article"], world["author"], "for the moderators")
        reporter = make_user(subscription="active")
        db.session.add(Report(comment_id=comment.id, reporter_id=reporter.id, reason="spam"))
        db.session.commit()
        return comment

    for rule, methods in mutating_rules(app):
        if not rule.endpoint.startswith(("community.", "moderation.")):
            continue
        as_admin = rule.rule.startswith("/admin/")
        login(client, carol if as_admin else alice)
        if as_admin:
            comment = to_moderate()
        elif rule.endpoint in ("community.report_comment", "community.like_comment"):
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
        if "GET" not in (rule.methods or ()) or rule.endpoint.endswith("static"):
            continue
        before = table_fingerprint()
        client.get(build_url(rule, ids_for(world, own)))
        assert table_fingerprint() == before, rule.rule
