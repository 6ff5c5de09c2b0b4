"""A member's subscription moved onto another product's price keeps its id (a plan switch
in the Customer Portal, an edit in the dashboard). It then sells no membership: the
member loses access at once, not at the nightly reconcile, and its later end is not
ignored as a stranger's. Against localstripe, with events signed as Stripe signs them."""

from __future__ import annotations

import pytest

from club import membership
from tests.billing.conftest import make_event, post_event, reload, stripe_settings, subscribed
from tests.conftest import login


@pytest.fixture
def app_config(app_config: dict, localstripe_url: str) -> dict:
    return {**app_config, **stripe_settings(localstripe_url)}


def switch_plan(stripe_peer, subscription: dict, plan_id: str) -> dict:
    """Move the subscription's one item onto ``plan_id``, as the Portal's plan switch does."""
    item = subscription["items"]["data"][0]["id"]
    return stripe_peer.post(
        f"/v1/subscriptions/{subscription['id']}", {"items[0][id]": item, "items[0][plan]": plan_id}
    )


def test_a_membership_switched_to_another_product_ends_the_membership(client, erin, stripe_peer):
    sub = subscribed(stripe_peer, erin)
    post_event(client, make_event("customer.subscription.created", sub))
    assert membership.standing(reload(erin)).badge

    switched = switch_plan(stripe_peer, sub, stripe_peer.other_plan(amount=1))
    post_event(client, make_event("customer.subscription.updated", switched))

    user = reload(erin)
    standing = membership.standing(user)
    assert not standing.can_interact and not standing.badge
    assert user.subscription_id is None
    login(client, user)
    page = client.get("/settings").get_data(as_text=True)
    assert "Your account is frozen" in page


def test_a_switched_subscription_cancelled_later_leaves_no_access(client, erin, stripe_peer):
    """The order the helper of this test found: switched, then cancelled. Each event alone
    had been ignored, so the member paid nothing and kept the badge until reconcile."""
    sub = subscribed(stripe_peer, erin)
    post_event(client, make_event("customer.subscription.created", sub))
    switched = switch_plan(stripe_peer, sub, stripe_peer.other_plan(amount=1))
    post_event(client, make_event("customer.subscription.updated", switched))
    ended = stripe_peer.delete(f"/v1/subscriptions/{sub['id']}")
    post_event(client, make_event("customer.subscription.deleted", ended))

    assert not membership.standing(reload(erin)).can_interact


def test_a_switch_keeps_a_second_membership_the_member_still_pays_for(client, erin, stripe_peer):
    """Two Checkouts paid at once leave two membership subscriptions: moving one to
    another product leaves the member on the other."""
    sub = subscribed(stripe_peer, erin)
    post_event(client, make_event("customer.subscription.created", sub))
    second = stripe_peer.subscribe(sub["customer"], stripe_peer.plan())

    switched = switch_plan(stripe_peer, sub, stripe_peer.other_plan(amount=1))
    post_event(client, make_event("customer.subscription.updated", switched))

    user = reload(erin)
    assert user.subscription_id == second["id"]
    assert membership.standing(user).can_interact


def test_a_subscription_to_something_else_beside_the_membership_changes_nothing(
    client, erin, stripe_peer
):
    """The member also buys something else: that subscription is not the one on record."""
    sub = subscribed(stripe_peer, erin)
    post_event(client, make_event("customer.subscription.created", sub))
    other = stripe_peer.subscribe(sub["customer"], stripe_peer.other_plan(amount=500))

    post_event(client, make_event("customer.subscription.updated", other))

    user = reload(erin)
    assert user.subscription_id == sub["id"] and membership.standing(user).can_interact
