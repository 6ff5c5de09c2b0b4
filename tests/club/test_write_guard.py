"""The app-wide write guard fails closed (issue #2, point 5; catalogue C8, C9, C22, D1-D4).

EXTENDING: the two sets below are the reviewed exceptions to the guard, for the whole
site. A package that adds a route a frozen account (or a visitor) may write to adds its
endpoint here, in the same commit, so that widening the set shows up in review. Every
other write route is checked automatically: frozen accounts get 403, visitors 401, and a
request without a CSRF token 400, with nothing written.
"""

from __future__ import annotations

import itertools

import pytest
from werkzeug.routing import BuildError

from club import membership
from club.extensions import db
from tests.conftest import login, table_fingerprint

# Signed-in accounts may write here whatever their standing.
ALLOWED_WHILE_FROZEN = {
    "auth.logout",
    "settings.profile",  # the policy still decides (can_edit_profile) inside the view
    "settings.email",
    "settings.change_email",
    "settings.password",
    "settings.resend_confirmation",
    "settings.appeal",
    "settings.export",
    "settings.delete",
    "billing.checkout",  # a frozen account must be able to (re)subscribe
    "billing.portal",  # ... and fix its payment method
    "billing.local_checkout_submit",  # the local stand-in for Stripe Checkout
    "billing.local_manage_submit",  # the local stand-in for the Customer Portal
    "community.mark_notifications_read",  # the account's own notifications, seen by nobody else
}
# Visitors may write here.
PUBLIC_WRITE = {
    "auth.login",
    "auth.signup",
    "auth.confirm_email",
    "auth.forgot_password",
    "auth.reset_password",
    "billing_webhooks.webhook",  # authenticated by Stripe's signature instead
}
# Write routes authenticated by something other than the session's CSRF token.
CSRF_EXEMPT = {"billing_webhooks.webhook"}

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
SAMPLE_VALUES = ("1", "accept", "x")


def write_rules(app):
    for rule in app.url_map.iter_rules():
        methods = sorted(set(rule.methods or ()) & set(WRITE_METHODS))
        if methods and not rule.endpoint.startswith("test_"):
            yield rule, methods


def marked(app, attribute: str) -> set[str]:
    return {
        rule.endpoint
        for rule, _ in write_rules(app)
        if getattr(app.view_functions[rule.endpoint], attribute, False)
    }


def build_url(app, rule) -> str:
    """Fill the rule's arguments with the first sample values it accepts."""
    adapter = app.url_map.bind("localhost")
    for values in itertools.product(SAMPLE_VALUES, repeat=len(rule.arguments)):
        try:
            return adapter.build(
                rule.endpoint, dict(zip(sorted(rule.arguments), values, strict=True))
            )
        except (BuildError, ValueError):
            continue
    raise AssertionError(f"cannot build a URL for {rule.endpoint}")


def guarded_rules(app):
    exempt = ALLOWED_WHILE_FROZEN | PUBLIC_WRITE
    return [(rule, methods) for rule, methods in write_rules(app) if rule.endpoint not in exempt]


def test_it_marks_exactly_the_reviewed_endpoints_allowed_while_frozen(app):
    assert marked(app, "allowed_while_frozen") == ALLOWED_WHILE_FROZEN


def test_it_marks_exactly_the_reviewed_endpoints_open_to_visitors(app):
    assert marked(app, "public_write") == PUBLIC_WRITE


def test_it_has_write_routes_to_guard(app):
    # The harness below must not pass vacuously.
    assert any(rule.endpoint.startswith("admin.") for rule, _ in guarded_rules(app))


@pytest.mark.parametrize("persona", ["bob", "dave", "erin", "frank"])
def test_it_refuses_every_guarded_write_from_a_read_only_account(app, client, request, persona):
    user = request.getfixturevalue(persona)
    login(client, user)
    token = client.csrf_token()
    before = table_fingerprint()
    for rule, methods in guarded_rules(app):
        for method in methods:
            response = client.open(
                build_url(app, rule), method=method, data={"csrf_token": token, "text": "x"}
            )
            assert response.status_code == 403, (persona, rule.rule, method, response.status_code)
    assert table_fingerprint() == before


def test_it_asks_visitors_to_log_in_for_every_guarded_write(app, client):
    token = client.csrf_token()
    before = table_fingerprint()
    for rule, methods in guarded_rules(app):
        for method in methods:
            response = client.open(build_url(app, rule), method=method, data={"csrf_token": token})
            assert response.status_code == 401, (rule.rule, method, response.status_code)
    assert table_fingerprint() == before


def test_it_refuses_every_write_without_a_csrf_token(app, client, alice):
    login(client, alice)
    before = table_fingerprint()
    for rule, methods in write_rules(app):
        if rule.endpoint in CSRF_EXEMPT:
            continue
        for method in methods:
            response = client.open(build_url(app, rule), method=method, data={"text": "x"})
            assert response.status_code == 400, (rule.rule, method, response.status_code)
    assert table_fingerprint() == before


def test_it_refuses_a_csrf_token_from_another_session(app, alice, erin, interaction_route):
    other = app.test_client()
    login(other, erin)
    foreign_token = other.csrf_token()
    client = app.test_client()
    login(client, alice)
    response = client.post(interaction_route, data={"csrf_token": foreign_token})
    assert response.status_code == 400


@pytest.mark.parametrize("persona", ["alice", "bob", "carol", "dave", "frank", None])
def test_it_never_writes_on_a_get(app, client, request, persona):
    if persona:
        login(client, request.getfixturevalue(persona))
    before = table_fingerprint()
    for rule in app.url_map.iter_rules():
        if "GET" in (rule.methods or ()) and not rule.arguments and rule.endpoint != "static":
            client.get(rule.rule)
    assert table_fingerprint() == before


def test_it_lets_a_paying_member_write(client, alice, interaction_route):
    login(client, alice)
    assert client.submit(interaction_route).status_code == 200


def test_it_explains_a_refusal_in_the_page(client, bob, interaction_route):
    login(client, bob)
    response = client.submit(interaction_route)
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "payment failed" in page and 'href="/settings#billing"' in page


def test_it_explains_a_refusal_to_a_script_in_json(client, frank, interaction_route):
    login(client, frank)
    response = client.submit(interaction_route, headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert response.get_json()["reason"] == "frozen by a moderator"
    assert response.get_json()["settings"] == "/settings#status"  # where to appeal


def test_it_applies_a_freeze_to_a_live_session_at_once(
    app, client, alice, carol, interaction_route
):
    login(client, alice)
    assert client.submit(interaction_route).status_code == 200
    moderator = app.test_client()
    login(moderator, carol)
    moderator.submit(f"/admin/users/{alice.id}/freeze", {"reason": "Spam"})
    assert client.submit(interaction_route).status_code == 403


def test_it_checks_the_policy_not_a_cached_flag(app, client, alice, interaction_route):
    login(client, alice)
    membership.apply_subscription(
        alice, subscription_id=alice.subscription_id, status="canceled", period_end=None
    )
    db.session.commit()
    assert client.submit(interaction_route).status_code == 403
