"""Redis down: reading and signing in still work, queued actions say so, webhooks land.

The site is built pointing at a port where no Redis listens (a real refused connection),
with rate limiting on and stored in that Redis, as in production.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import time

import pytest
import sqlalchemy as sa

from articles.models import Feed
from billing.models import StripeEvent
from club.extensions import db
from club.models import AuditEntry
from tests.conftest import PASSWORD, login, make_article, read_outbox
from tests.worker.conftest import free_port

WEBHOOK_SECRET = "whsec_redis_outage_test"


@pytest.fixture
def app_config(app_config: dict) -> dict:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    app_config.update(
        REDIS_URL=dead,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=dead,
        RQ_ASYNC=True,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
    )
    return app_config


def test_it_keeps_serving_reading_pages(client):
    article = make_article(title="Sleep and the heart")

    for url in ["/", f"/articles/{article.id}", "/search?q=sleep", "/login", "/signup"]:
        assert client.get(url).status_code == 200, url


def test_it_still_signs_members_in(client, alice):
    response = client.submit("/login", {"email": alice.email, "password": PASSWORD})

    assert response.status_code == 303
    assert client.get("/settings").status_code == 200


def test_it_still_signs_people_up_and_sends_the_confirmation(client, outbox):
    form = {
        "email": "grace@example.com",
        "display_name": "Grace Hopper",
        "handle": "grace",
        "password": "a long enough password",
    }
    response = client.submit("/signup", form)

    assert response.status_code == 303
    (message,) = read_outbox(outbox)
    assert "To: grace@example.com" in message


def test_it_says_refresh_now_cannot_be_queued_instead_of_failing(client, carol):
    from tests.conftest import make_feed

    feed = make_feed()
    login(client, carol)
    response = client.submit(
        f"/admin/feeds/{feed.id}/refresh",
        headers={"Referer": "http://localhost/admin/feeds"},
        follow_redirects=True,
    )

    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert f"{feed.name} was not refreshed: background jobs are unavailable right now." in page
    assert "Saved, but" not in page  # nothing was
    assert (
        db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "feed.refresh")) is None
    )


def test_a_feed_added_while_jobs_are_down_is_saved_and_said_to_be(app, client, carol, feed_server):
    app.config["FEEDS_ALLOW_PRIVATE_NETWORKS"] = True
    login(client, carol)
    fields = {"url": feed_server.url, "interval_minutes": 30, "previewed": feed_server.url}

    response = client.submit(
        "/admin/feeds/new", {**fields, "action": "save"}, follow_redirects=True
    )

    page = html.unescape(response.get_data(as_text=True))
    assert response.request.path == "/admin/feeds/"  # the list, not the add form again
    added = db.session.scalar(sa.select(Feed))
    assert f"Added {added.name}. Background jobs are unavailable right now" in page


def signed(payload: bytes) -> str:
    """Return a Stripe-Signature header for ``payload``, made as Stripe makes it."""
    timestamp = int(time.time())
    signature = hmac.new(
        WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={signature}"


def test_it_stores_and_processes_a_stripe_webhook_inline(client):
    payload = json.dumps(
        {
            "id": "evt_redis_down_1",
            "object": "event",
            "type": "customer.created",
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": {"id": "cus_123", "object": "customer"}},
        }
    ).encode()

    response = client.post(
        "/billing/webhook",
        data=payload,
        headers={"Stripe-Signature": signed(payload), "Content-Type": "application/json"},
    )

    assert response.status_code == 200
    db.session.rollback()
    event = db.session.scalars(sa.select(StripeEvent)).one()
    assert event.event_id == "evt_redis_down_1"
    assert event.processed_at is not None


def test_it_reports_redis_in_the_health_check(client):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.get_json()["redis"] == "error"
    assert response.get_json()["database"] == "ok"
