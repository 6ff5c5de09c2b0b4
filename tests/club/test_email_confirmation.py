"""Email confirmation: the link only shows a button; it works once, for its address; a link
opened again once the address is confirmed says so (issue #2 point 4)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from club import tokens
from club.clock import utcnow
from club.extensions import db
from club.models import User
from tests.club.conftest import last_link
from tests.club.test_auth import signup_data


def test_it_confirms_an_email_only_when_the_button_is_pressed(client, outbox):
    client.submit("/signup", signup_data())
    link = last_link(outbox, "/confirm/")
    page = client.get(link)
    assert page.status_code == 200 and "Confirm my email" in page.get_data(as_text=True)
    assert db.session.scalar(sa.select(User)).email_confirmed_at is None
    response = client.submit(link)
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(sa.select(User)).email_confirmed_at is not None


def test_it_says_the_address_is_already_confirmed_when_the_link_is_used_again(client, outbox):
    client.submit("/signup", signup_data())
    link = last_link(outbox, "/confirm/")
    client.submit(link)
    for open_again in (client.get, client.submit):
        again = open_again(link)
        assert again.status_code == 303
        page = client.get(again.headers["Location"]).get_data(as_text=True)
        assert "This email address is already confirmed." in page
        assert "already been used" not in page


def test_it_says_an_expired_link_is_no_matter_once_the_address_is_confirmed(client, dave):
    old = tokens.issue(tokens.CONFIRM_EMAIL, dave, now=utcnow() - timedelta(days=4))
    dave.email_confirmed_at = utcnow()
    db.session.commit()
    response = client.get(f"/confirm/{old}")
    assert response.status_code == 303
    assert "already confirmed" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_an_older_link_says_the_address_is_confirmed_without_asking_again(client, outbox):
    # Settings sends a new link on request: several can be valid at once.
    client.submit("/signup", signup_data())
    first = last_link(outbox, "/confirm/")
    user = db.session.scalar(sa.select(User))
    second = f"/confirm/{tokens.issue(tokens.CONFIRM_EMAIL, user)}"
    client.get(client.submit(second).headers["Location"])  # "Thank you…" shown there

    response = client.get(first)

    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "This email address is already confirmed." in page
    assert "Thank you" not in page


def test_it_refuses_a_spent_confirmation_link_whose_address_is_not_confirmed(client, dave):
    # The answer follows the address's state, not the spend: a spent link never claims
    # an unconfirmed address is confirmed.
    token = tokens.issue(tokens.CONFIRM_EMAIL, dave)
    client.submit(f"/confirm/{token}")
    db.session.refresh(dave)
    assert dave.email_confirmed_at is not None
    dave.email_confirmed_at = None
    db.session.commit()
    again = client.submit(f"/confirm/{token}")
    assert again.status_code == 400
    assert "already been used" in again.get_data(as_text=True)


def test_it_refuses_an_expired_confirmation_link(client, dave):
    token = tokens.issue(tokens.CONFIRM_EMAIL, dave, now=utcnow() - timedelta(days=4))
    response = client.submit(f"/confirm/{token}")
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    db.session.refresh(dave)
    assert dave.email_confirmed_at is None


def test_it_refuses_a_tampered_link(client, dave):
    token = tokens.issue(tokens.CONFIRM_EMAIL, dave)
    response = client.get(f"/confirm/{token[:-2]}xx")
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)


def test_it_refuses_a_confirmation_link_for_an_address_no_longer_on_the_account(client, dave):
    token = tokens.issue(tokens.CONFIRM_EMAIL, dave)
    dave.email = "dave.new@example.com"
    db.session.commit()
    assert client.submit(f"/confirm/{token}").status_code == 400


def test_it_does_not_accept_a_reset_token_as_a_confirmation_token(client, dave):
    token = tokens.issue(tokens.RESET_PASSWORD, dave)
    assert client.submit(f"/confirm/{token}").status_code == 400
