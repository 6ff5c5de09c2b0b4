"""Webhook faults: the queue, the database or Stripe unreachable, and the sweeper (A-series)."""

from __future__ import annotations

import logging
import time

import pytest
import sqlalchemy as sa

from billing.models import StripeEvent
from club import create_app, membership
from club.extensions import db
from tests.billing.conftest import (
    make_event,
    membership_items,
    post_event,
    reload,
    stripe_settings,
    subscribed,
)
from tests.conftest import base_test_config


@pytest.fixture
def app_config(app_config: dict, localstripe_url: str) -> dict:
    return {**app_config, **stripe_settings(localstripe_url)}


def test_it_processes_inline_when_the_queue_is_unreachable(app, client, erin, stripe_peer):
    # Nothing listens on port 1: enqueueing fails as it would with Redis down.
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/4"
    sub = subscribed(stripe_peer, erin)

    response = post_event(client, make_event("customer.subscription.created", {"id": sub["id"]}))

    assert response.status_code == 200
    assert db.session.scalar(sa.select(StripeEvent)).processed_at is not None
    assert membership.standing(reload(erin)).can_interact


def test_it_answers_5xx_when_the_database_is_down(tmp_path, localstripe_url):
    config = {
        **base_test_config(None, tmp_path),
        **stripe_settings(localstripe_url),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing-dir/club.sqlite3",
        "PROPAGATE_EXCEPTIONS": False,
    }
    app = create_app(config)

    response = post_event(app.test_client(), make_event("invoice.paid", {"id": "in_3"}))

    assert response.status_code >= 500


def test_it_leaves_a_failed_event_for_the_sweeper(app, client, erin, stripe_peer):
    # Stripe unreachable during the re-read: stored, unprocessed, still 200.
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"
    app.extensions.pop("stripe_client", None)
    membership.link_customer(erin, "cus_unreachable")
    db.session.commit()

    response = post_event(client, make_event("customer.subscription.created", {"id": "sub_gone"}))

    assert response.status_code == 200
    row = db.session.scalar(sa.select(StripeEvent))
    assert row.processed_at is None


def test_it_processes_a_failed_event_once_stripe_is_back_via_the_sweeper(
    app, client, erin, stripe_peer, localstripe_url
):
    from datetime import timedelta

    from worker.jobs import sweep_stripe_events

    sub = subscribed(stripe_peer, erin)
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"
    app.extensions.pop("stripe_client", None)
    post_event(client, make_event("customer.subscription.created", {"id": sub["id"]}))
    row = db.session.scalar(sa.select(StripeEvent))
    assert row.processed_at is None
    row.received_at -= timedelta(minutes=10)  # old enough for the sweeper
    db.session.commit()

    app.config["STRIPE_API_BASE"] = localstripe_url
    app.extensions.pop("stripe_client", None)
    assert sweep_stripe_events() == 1

    db.session.expire_all()
    assert db.session.scalar(sa.select(StripeEvent)).processed_at is not None
    assert membership.standing(reload(erin)).can_interact


def aged(row_id: int) -> None:
    """Make a stored event old enough for the sweeper to consider it."""
    from datetime import timedelta

    db.session.expire_all()
    db.session.get(StripeEvent, row_id).received_at -= timedelta(minutes=10)
    db.session.commit()


def test_it_gives_up_on_an_event_for_a_subscription_stripe_no_longer_has(
    client, erin, stripe_peer, caplog
):
    from worker.jobs import sweep_stripe_events

    membership.link_customer(erin, stripe_peer.customer(erin.email))
    db.session.commit()

    with caplog.at_level(logging.ERROR, logger="billing.webhooks"):
        response = post_event(
            client, make_event("customer.subscription.updated", {"id": "sub_deleted_long_ago"})
        )

    assert response.status_code == 200
    row = db.session.scalar(sa.select(StripeEvent))
    assert row.processed_at is not None
    assert "no record" in row.last_error
    assert "giving up" in caplog.text and row.event_id in caplog.text
    aged(row.id)
    assert sweep_stripe_events() == 0


def test_it_keeps_a_stripe_outage_event_for_the_sweeper_with_its_error(
    app, client, erin, stripe_peer
):
    from worker.jobs import sweep_stripe_events

    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"
    app.extensions.pop("stripe_client", None)

    post_event(client, make_event("customer.subscription.updated", {"id": "sub_somewhere"}))

    row = db.session.scalar(sa.select(StripeEvent))
    assert row.processed_at is None
    assert "could not reach" in row.last_error
    aged(row.id)
    assert sweep_stripe_events() == 1


class TestUnknownStatus:
    @pytest.fixture
    def app_config(self, app_config: dict, recording_stripe) -> dict:
        return {**app_config, **stripe_settings(recording_stripe.url)}

    def test_it_freezes_a_member_whose_subscription_has_a_status_it_does_not_know(
        self, client, alice, recording_stripe, caplog
    ):
        membership.link_customer(alice, "cus_alice")
        db.session.commit()
        sub_id = alice.subscription_id
        recording_stripe.answer(
            "GET",
            f"/v1/subscriptions/{sub_id}",
            {
                "id": sub_id,
                "object": "subscription",
                "customer": "cus_alice",
                "status": "suspended_for_review",
                "current_period_end": int(time.time()) + 86400,
                "items": membership_items(),
            },
        )

        with caplog.at_level(logging.WARNING):
            post_event(client, make_event("customer.subscription.updated", {"id": sub_id}))

        st = membership.standing(reload(alice))
        assert st.frozen and not st.badge
        assert "unknown subscription status" in caplog.text


class TestPermanentAndTransientRefusals:
    @pytest.fixture
    def app_config(self, app_config: dict, recording_stripe) -> dict:
        return {**app_config, **stripe_settings(recording_stripe.url)}

    def test_it_gives_up_on_an_event_stripe_refuses_as_an_invalid_request(
        self, client, alice, recording_stripe
    ):
        recording_stripe.answer(
            "GET",
            "/v1/subscriptions/sub_bad",
            (400, {"error": {"type": "invalid_request_error", "message": "Invalid id"}}),
        )

        post_event(client, make_event("customer.subscription.updated", {"id": "sub_bad"}))

        row = db.session.scalar(sa.select(StripeEvent))
        assert row.processed_at is not None
        assert "Invalid id" in row.last_error

    def test_it_retries_an_event_stripe_answers_with_a_server_error(
        self, client, alice, recording_stripe
    ):
        recording_stripe.answer(
            "GET",
            "/v1/subscriptions/sub_busy",
            (500, {"error": {"type": "api_error", "message": "Something went wrong"}}),
        )

        post_event(client, make_event("customer.subscription.updated", {"id": "sub_busy"}))

        row = db.session.scalar(sa.select(StripeEvent))
        assert row.processed_at is None
        assert row.last_error is not None
