"""Webhook intake: verification, idempotency and ordering (catalogue cases A1-A30).

Faults (queue, database or Stripe unreachable, the sweeper) are in test_webhook_faults.py.
"""

from __future__ import annotations

import json
import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from billing import sync
from billing.models import StripeEvent
from club import membership
from club.clock import utcnow
from club.extensions import db
from tests.billing.conftest import (
    encode,
    make_event,
    post_event,
    reload,
    sign,
    stripe_settings,
    subscribed,
)
from tests.conftest import make_user, read_outbox, table_fingerprint


@pytest.fixture
def app_config(app_config: dict, localstripe_url: str) -> dict:
    return {**app_config, **stripe_settings(localstripe_url)}


def event_rows() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(StripeEvent))


def welcomes(outbox) -> int:
    return sum("Subject: Welcome to" in mail for mail in read_outbox(outbox))


def test_it_accepts_an_event_verified_on_its_raw_bytes(client, erin, stripe_peer):
    sub = subscribed(stripe_peer, erin)
    # Stripe's own serialisation: odd spacing and non-ASCII must verify byte for byte.
    obj = json.dumps(
        {"id": sub["id"], "object": "subscription", "note": "café ☕"}, ensure_ascii=False
    )
    payload = (
        '{ "id" : "evt_raw_1",  "object":"event", "type":"customer.subscription.created",'
        f' "created": {int(time.time())}, "livemode": false, "data": {{"object": {obj}}} }}'
    ).encode()

    response = post_event(client, payload)

    assert response.status_code == 200
    assert event_rows() == 1
    assert membership.standing(reload(erin)).can_interact


def _wrong_secret(payload):
    return payload, sign(payload, "whsec_not_ours")


def _stale(payload):
    return payload, sign(payload, t=int(time.time()) - 301)


def _future(payload):
    return payload, sign(payload, t=int(time.time()) + 3600)


def _tampered(payload):
    return payload.replace(b"canceled", b"active"), sign(payload)


def _malformed(payload):
    garbage = b'{"id": "evt_x", "type": "customer.subscription.updated", '
    return garbage, sign(garbage)


def _not_an_event(payload):
    body = b'["evt_x"]'
    return body, sign(body)


def _not_utf8(payload):
    # Stripe sends UTF-8 JSON; stripe-python decodes before it checks, and raised.
    body = payload.replace(b'"id"', b'"\xffid"', 1)
    return body, sign(body)


def _not_utf8_unsigned(payload):
    return payload + b"\xff", "t=1,v1=dead"


def _missing(payload):
    return payload, None


def _garbage_header(payload):
    return payload, "t=1,v1=dead"


@pytest.mark.parametrize(
    "forge",
    [
        _wrong_secret,
        _stale,
        _future,
        _tampered,
        _malformed,
        _not_an_event,
        _not_utf8,
        _not_utf8_unsigned,
        _missing,
        _garbage_header,
    ],
)
def test_it_rejects_an_unverifiable_event_and_stores_nothing(client, bob, forge):
    event = make_event(
        "customer.subscription.updated",
        {"id": bob.subscription_id, "object": "subscription", "status": "canceled"},
    )
    before = table_fingerprint()
    payload, header = forge(encode(event))
    headers = {"Content-Type": "application/json"}
    if header:
        headers["Stripe-Signature"] = header

    response = client.post("/billing/webhook", data=payload, headers=headers)

    assert response.status_code == 400
    assert table_fingerprint() == before


def test_it_accepts_a_signature_just_inside_the_tolerance(client, erin, stripe_peer):
    sub = subscribed(stripe_peer, erin)
    event = make_event("customer.subscription.created", {"id": sub["id"]})

    # Five seconds inside the 300 s tolerance: int() truncation and a busy machine can
    # spend a second or two between signing and checking.
    response = post_event(client, event, t=int(time.time()) - 295)

    assert response.status_code == 200


@pytest.mark.parametrize("signed_with", [["whsec_old"], ["whsec_new"], ["whsec_old", "whsec_new"]])
def test_it_accepts_either_secret_while_one_is_rotated(app, client, erin, stripe_peer, signed_with):
    app.config["STRIPE_WEBHOOK_SECRET"] = "whsec_old, whsec_new"
    sub = subscribed(stripe_peer, erin)
    payload = encode(make_event("customer.subscription.created", {"id": sub["id"]}))
    t = int(time.time())
    header = ",".join(
        [f"t={t}"] + [sign(payload, secret, t).split(",")[1] for secret in signed_with]
    )

    response = client.post("/billing/webhook", data=payload, headers={"Stripe-Signature": header})

    assert response.status_code == 200
    assert membership.standing(reload(erin)).can_interact


def test_it_processes_a_redelivered_event_once(client, erin, stripe_peer, outbox):
    sub = subscribed(stripe_peer, erin)
    event = make_event("customer.subscription.created", {"id": sub["id"]})

    responses = [post_event(client, event).status_code for _ in range(3)]

    assert responses == [200, 200, 200]
    assert event_rows() == 1
    assert welcomes(outbox) == 1


def test_it_survives_twenty_concurrent_copies_of_one_event(erin, stripe_peer, live_server, outbox):
    sub = subscribed(stripe_peer, erin)
    payload = encode(make_event("customer.subscription.created", {"id": sub["id"]}))
    header = sign(payload)

    def deliver(_):
        return httpx.post(
            f"{live_server.url}/billing/webhook",
            content=payload,
            headers={"Stripe-Signature": header, "Content-Type": "application/json"},
            timeout=30,
        ).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(deliver, range(20)))

    assert statuses == [200] * 20
    db.session.rollback()
    assert event_rows() == 1
    assert welcomes(outbox) == 1
    assert membership.standing(reload(erin)).can_interact


def test_it_sends_one_welcome_for_the_several_events_of_one_sign_up(
    client, erin, stripe_peer, outbox
):
    sub = subscribed(stripe_peer, erin)
    invoice = {"id": "in_1", "object": "invoice", "subscription": sub["id"]}
    for type_, obj in [
        ("customer.subscription.created", {"id": sub["id"]}),
        ("invoice.payment_succeeded", invoice),
        ("invoice.paid", invoice),
        ("customer.subscription.updated", {"id": sub["id"]}),
    ]:
        assert post_event(client, make_event(type_, obj)).status_code == 200

    assert event_rows() == 4
    assert welcomes(outbox) == 1


def test_it_acknowledges_event_types_it_does_not_handle(client, alice):
    before = reload(alice).subscription_status
    response = post_event(client, make_event("charge.refunded", {"id": "ch_1"}))

    assert response.status_code == 200
    row = db.session.scalar(sa.select(StripeEvent))
    assert row.type == "charge.refunded" and row.processed_at is not None
    assert reload(alice).subscription_status == before


def test_it_stores_and_logs_an_event_for_an_unknown_customer(client, alice, stripe_peer, caplog):
    sub = subscribed(stripe_peer, make_user(handle="stranger"), link=False)
    before = table_fingerprint()["users"]

    with caplog.at_level(logging.WARNING, logger="billing.webhooks"):
        response = post_event(
            client, make_event("customer.subscription.created", {"id": sub["id"]})
        )

    assert response.status_code == 200
    assert db.session.scalar(sa.select(StripeEvent)).processed_at is not None
    assert "belongs to no account" in caplog.text
    assert table_fingerprint()["users"] == before


def test_it_ends_canceled_when_deleted_arrives_before_an_older_updated(client, erin, stripe_peer):
    sub = subscribed(stripe_peer, erin)
    stale_updated = make_event(
        "customer.subscription.updated",
        {"id": sub["id"], "status": "active"},
        created=int(time.time()) - 60,
    )
    stripe_peer.delete(f"/v1/subscriptions/{sub['id']}")
    deleted = make_event("customer.subscription.deleted", {"id": sub["id"], "status": "canceled"})

    post_event(client, deleted)
    post_event(client, stale_updated)

    user = reload(erin)
    assert user.subscription_status == "canceled"
    assert membership.standing(user).reason is membership.Reason.SUBSCRIPTION_ENDED


def test_it_keeps_access_while_a_second_subscription_still_bills(client, erin, stripe_peer, outbox):
    # Two Checkouts paid at once (two tabs) leave one customer with two subscriptions.
    first = subscribed(stripe_peer, erin)
    second = stripe_peer.subscribe(first["customer"], stripe_peer.plan())
    for sub in (first, second):
        post_event(client, make_event("customer.subscription.created", {"id": sub["id"]}))
    tracked = reload(erin).subscription_id
    stripe_peer.delete(f"/v1/subscriptions/{tracked}")
    post_event(client, make_event("customer.subscription.deleted", {"id": tracked}))

    user = reload(erin)
    assert membership.standing(user).can_interact
    assert user.subscription_id == ({first["id"], second["id"]} - {tracked}).pop()
    assert not any("Subject: Your membership has ended" in mail for mail in read_outbox(outbox))


def test_it_keeps_access_while_a_second_subscription_is_past_due(client, erin, stripe_peer):
    """The paid subscription decides, not the newest: a failed renewal of the extra one
    must not freeze a member whose other subscription is paid."""
    paid = subscribed(stripe_peer, erin)
    time.sleep(1.1)  # Stripe's "created" is in whole seconds: the extra one is newer
    extra = stripe_peer.subscribe(paid["customer"], stripe_peer.plan())
    stripe_peer.fail_next_invoice(paid["customer"], extra["id"])
    assert stripe_peer.get(f"/v1/subscriptions/{extra['id']}")["status"] == "past_due"

    post_event(client, make_event("customer.subscription.updated", {"id": paid["id"]}))
    post_event(client, make_event("customer.subscription.updated", {"id": extra["id"]}))
    sync.reconcile()

    user = reload(erin)
    assert (user.subscription_id, user.subscription_status) == (paid["id"], "active")
    assert membership.standing(user, utcnow() + timedelta(days=4)).can_interact


def test_reconciliation_sees_the_end_of_the_subscription_on_record(client, erin, stripe_peer):
    """With none running, the one on record decides: its missed end freezes the member,
    even though a newer one (ended earlier) exists."""
    first = subscribed(stripe_peer, erin)
    post_event(client, make_event("customer.subscription.created", {"id": first["id"]}))
    time.sleep(1.1)
    extra = stripe_peer.subscribe(first["customer"], stripe_peer.plan())
    post_event(client, make_event("customer.subscription.created", {"id": extra["id"]}))
    stripe_peer.delete(f"/v1/subscriptions/{extra['id']}")
    post_event(client, make_event("customer.subscription.deleted", {"id": extra["id"]}))
    assert reload(erin).subscription_id == first["id"]
    stripe_peer.delete(f"/v1/subscriptions/{first['id']}")  # and its webhook is lost

    sync.reconcile()

    user = reload(erin)
    assert (user.subscription_id, user.subscription_status) == (first["id"], "canceled")
    assert not membership.standing(user).can_interact


def test_it_keeps_a_moderators_freeze_when_the_member_pays(client, frank, stripe_peer):
    sub = subscribed(stripe_peer, frank)

    post_event(client, make_event("customer.subscription.created", {"id": sub["id"]}))
    post_event(client, make_event("invoice.paid", {"id": "in_2", "subscription": sub["id"]}))

    st = membership.standing(reload(frank))
    assert reload(frank).subscription_id == sub["id"]
    assert st.frozen and st.reason is membership.Reason.FROZEN_BY_MODERATOR and not st.badge


def test_it_ignores_a_late_payment_failure_for_an_invoice_since_paid(
    client, erin, stripe_peer, outbox
):
    sub = subscribed(stripe_peer, erin)
    post_event(client, make_event("customer.subscription.created", {"id": sub["id"]}))

    failed = {"id": "in_old", "subscription": sub["id"], "amount_due": 100, "currency": "usd"}
    post_event(client, make_event("invoice.payment_failed", failed))

    assert membership.standing(reload(erin)).can_interact
    assert not any("payment failed" in mail for mail in read_outbox(outbox))


def confirmation_mails(outbox) -> list[str]:
    return [m for m in read_outbox(outbox) if "Subject: Please confirm your membership" in m]


def test_it_asks_the_member_to_confirm_a_payment_their_bank_held(client, erin, stripe_peer, outbox):
    sub = subscribed(stripe_peer, erin)
    post_event(client, make_event("customer.subscription.created", {"id": sub["id"]}))
    stripe_peer.fail_next_invoice(sub["customer"], sub["id"])  # now past due on Stripe's side
    page = "https://invoice.stripe.com/i/acct_1Test/test_YWNjdF8x"
    invoice = {"id": "in_3ds", "subscription": sub["id"], "hosted_invoice_url": page}

    post_event(client, make_event("invoice.payment_action_required", invoice))

    [mail] = confirmation_mails(outbox)
    assert f"Confirm the payment here: {page}" in mail
    assert "Your account will be frozen on" in mail and "http://club.test/settings" in mail
    assert reload(erin).subscription_status == "past_due"


def test_the_payment_failed_mail_names_the_amount_and_the_freeze_time_in_utc(
    client, erin, stripe_peer, outbox
):
    sub = subscribed(stripe_peer, erin)
    post_event(client, make_event("customer.subscription.created", {"id": sub["id"]}))
    stripe_peer.fail_next_invoice(sub["customer"], sub["id"])
    invoice = {"id": "in_failed", "subscription": sub["id"], "amount_due": 100, "currency": "usd"}

    post_event(client, make_event("invoice.payment_failed", invoice))

    [mail] = [m for m in read_outbox(outbox) if "Subject: Your membership payment failed" in m]
    assert "membership payment of 1.00 USD" in mail
    assert re.search(r"frozen on \d{2} \w+ \d{4} at \d{2}:\d{2} UTC", mail), mail


def test_one_renewal_held_for_3ds_sends_the_confirm_mail_not_payment_failed(
    client, erin, stripe_peer, outbox
):
    """Stripe sends invoice.payment_action_required and invoice.payment_failed for one
    attempt the bank wants confirmed: one mail per (invoice, attempt), the useful one."""
    sub = subscribed(stripe_peer, erin)
    post_event(client, make_event("customer.subscription.created", {"id": sub["id"]}))
    stripe_peer.fail_next_invoice(sub["customer"], sub["id"])
    invoice = {
        "id": "in_3ds_renewal",
        "subscription": sub["id"],
        "attempt_count": 1,
        "amount_due": 100,
        "currency": "usd",
        "hosted_invoice_url": "https://invoice.stripe.com/i/acct_1Test/test_3ds",
    }

    post_event(client, make_event("invoice.payment_action_required", invoice))
    post_event(client, make_event("invoice.payment_failed", invoice))
    # The next attempt fails outright: that one is a real failure to tell about.
    post_event(client, make_event("invoice.payment_failed", {**invoice, "attempt_count": 2}))

    subjects = [
        line
        for mail in read_outbox(outbox)
        for line in mail.splitlines()
        if line.startswith("Subject:") and "Welcome" not in line
    ]
    assert subjects == [
        "Subject: Please confirm your membership payment",
        "Subject: Your membership payment failed",
    ]


@pytest.mark.parametrize(
    "page",
    [
        "https://invoice.stripe.com.evil.example/pay",
        "https://evil.example\\@invoice.stripe.com/pay",
        "https://user@invoice.stripe.com/pay",
        "http://invoice.stripe.com/pay",
    ],
)
def test_it_links_settings_when_the_confirmation_page_is_not_stripes(
    client, erin, stripe_peer, outbox, page
):
    sub = subscribed(stripe_peer, erin)
    stripe_peer.fail_next_invoice(sub["customer"], sub["id"])
    invoice = {"id": "in_3ds_odd", "subscription": sub["id"], "hosted_invoice_url": page}

    post_event(client, make_event("invoice.payment_action_required", invoice))

    [mail] = confirmation_mails(outbox)
    assert page not in mail and "/pay" not in mail
    assert "Confirm the payment here: http://club.test/settings" in mail


def test_it_asks_for_no_confirmation_once_the_invoice_is_paid(client, erin, stripe_peer, outbox):
    sub = subscribed(stripe_peer, erin)  # active on Stripe's side: the payment went through
    invoice = {
        "id": "in_3ds_done",
        "subscription": sub["id"],
        "hosted_invoice_url": "https://invoice.stripe.com/i/acct_1Test/test_done",
    }

    post_event(client, make_event("invoice.payment_action_required", invoice))

    assert confirmation_mails(outbox) == []
    assert membership.standing(reload(erin)).can_interact


def test_it_reads_the_invoice_subscription_in_the_current_api_shape(client, erin, stripe_peer):
    sub = subscribed(stripe_peer, erin)
    invoice = {
        "id": "in_new",
        "object": "invoice",
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": sub["id"]},
        },
    }

    post_event(client, make_event("invoice.paid", invoice))

    assert reload(erin).subscription_id == sub["id"]


def test_it_links_the_customer_named_by_a_completed_checkout(client, erin, stripe_peer):
    sub = subscribed(stripe_peer, erin, link=False)
    session = {
        "id": "cs_test_1",
        "object": "checkout.session",
        "mode": "subscription",
        "client_reference_id": str(erin.id),
        "metadata": {"user_id": str(erin.id), "price_id": "price_test_monthly"},
        "customer": sub["customer"],
        "subscription": sub["id"],
    }

    post_event(client, make_event("checkout.session.completed", session))

    user = reload(erin)
    assert user.stripe_customer_id == sub["customer"]
    assert membership.standing(user).can_interact


def test_a_subscription_to_something_else_buys_no_membership(client, erin, stripe_peer):
    """The Stripe account may sell other things (a one-cent plan, a donation): paying for
    one of them, even as the member's own customer, grants neither access nor the badge."""
    customer = stripe_peer.customer(erin.email)
    membership.link_customer(erin, customer)
    db.session.commit()
    cheap = stripe_peer.subscribe(customer, stripe_peer.other_plan(amount=1))

    post_event(client, make_event("customer.subscription.created", cheap))

    user = reload(erin)
    assert user.subscription_id is None
    assert not membership.standing(user).can_interact and not membership.standing(user).badge


def test_another_running_subscription_does_not_keep_an_ended_membership(client, erin, stripe_peer):
    """The member also pays for something else; the membership ends. The other
    subscription must not stand in for it (as a second membership would)."""
    sub = subscribed(stripe_peer, erin)
    post_event(client, make_event("customer.subscription.created", sub))
    stripe_peer.subscribe(sub["customer"], stripe_peer.other_plan(amount=500))
    stripe_peer.delete(f"/v1/subscriptions/{sub['id']}")

    post_event(client, make_event("customer.subscription.deleted", sub))

    user = reload(erin)
    assert user.subscription_id == sub["id"] and user.subscription_status == "canceled"
    assert not membership.standing(user).can_interact


def test_it_links_no_customer_from_a_checkout_the_site_did_not_open(client, erin, stripe_peer):
    """A Payment Link takes client_reference_id from its URL: anyone can name any account
    there. Linked, the stranger's customer would decide the account's membership and its
    Manage button would open the stranger's portal."""
    sub = subscribed(stripe_peer, make_user(handle="mallory"), link=False)
    session = {
        "id": "cs_test_link",
        "object": "checkout.session",
        "mode": "subscription",
        "client_reference_id": str(erin.id),
        "metadata": {},  # a Payment Link's own
        "customer": sub["customer"],
        "subscription": sub["id"],
    }

    post_event(client, make_event("checkout.session.completed", session))

    user = reload(erin)
    assert user.stripe_customer_id is None
    assert not membership.standing(user).can_interact


def test_it_ignores_a_checkout_whose_customer_is_not_the_accounts(client, alice, stripe_peer):
    membership.link_customer(alice, "cus_alices_own")
    db.session.commit()
    sub = subscribed(stripe_peer, make_user(handle="mallory"), link=False)
    session = {
        "id": "cs_test_2",
        "mode": "subscription",
        "client_reference_id": str(alice.id),
        "metadata": {"user_id": str(alice.id)},
        "customer": sub["customer"],
        "subscription": sub["id"],
    }

    post_event(client, make_event("checkout.session.completed", session))

    user = reload(alice)
    assert user.stripe_customer_id == "cus_alices_own"
    assert user.subscription_id != sub["id"]


def test_it_ends_access_and_unlinks_when_the_customer_is_deleted(client, erin, stripe_peer):
    sub = subscribed(stripe_peer, erin)
    post_event(client, make_event("customer.subscription.created", {"id": sub["id"]}))

    post_event(
        client, make_event("customer.deleted", {"id": sub["customer"], "object": "customer"})
    )

    user = reload(erin)
    assert user.stripe_customer_id is None
    assert membership.standing(user).reason is membership.Reason.SUBSCRIPTION_ENDED


def test_it_ignores_a_test_mode_event_on_a_live_site(app, client, erin):
    app.config["STRIPE_SECRET_KEY"] = "sk_live_club"
    before = table_fingerprint()

    response = post_event(client, make_event("customer.subscription.created", {"id": "sub_x"}))

    assert response.status_code == 200
    assert table_fingerprint() == before


def test_it_refuses_an_oversized_body_before_verifying_it(client):
    payload = b"{" + b" " * (2 * 1024 * 1024) + b"}"

    response = client.post(
        "/billing/webhook", data=payload, headers={"Stripe-Signature": sign(payload)}
    )

    assert response.status_code == 413
    assert event_rows() == 0
