"""Mail to an address nobody has proven carries none of the account's own words.

Anyone can sign up with a stranger's address and choose any display name, so a greeting
by name would deliver the signer's text ("claim your refund at ...") inside the site's
genuine mail. Found by the security review of 2026-11-26.
"""

from __future__ import annotations

from club.extensions import db
from tests.club.conftest import messages_to
from tests.club.test_auth import signup_data
from tests.conftest import PASSWORD, login

LURE = "URGENT claim your refund at evil.example now"


def bodies(outbox, address: str) -> str:
    messages = messages_to(outbox, address)
    assert messages, f"no mail went to {address}"
    return "\n".join(messages)


def test_the_sign_up_confirmation_does_not_repeat_the_name_typed_at_sign_up(client, outbox):
    client.submit("/signup", signup_data(email="victim@example.com", display_name=LURE))

    mail = bodies(outbox, "victim@example.com")

    assert "Confirm your email address" in mail
    assert LURE not in mail and "Hello," in mail


def test_a_confirmation_sent_again_after_a_rename_does_not_repeat_the_name(client, dave, outbox):
    login(client, dave)
    assert (
        client.submit("/settings/profile", {"display_name": LURE, "handle": "dave"}).status_code
        == 303
    )
    assert client.submit("/settings/confirmation").status_code == 303

    mail = bodies(outbox, dave.email)

    assert "Confirm your email address" in mail and LURE not in mail


def test_a_password_reset_to_an_unconfirmed_address_does_not_repeat_the_name(client, dave, outbox):
    dave.display_name = LURE
    db.session.commit()

    client.submit("/reset", {"email": dave.email})

    mail = bodies(outbox, dave.email)
    assert "Set a new password" in mail and LURE not in mail


def test_an_email_change_confirmation_does_not_repeat_the_name(client, alice, outbox):
    alice.display_name = LURE
    db.session.commit()
    login(client, alice)

    client.submit("/settings/email", {"new_email": "stranger@example.com", "password": PASSWORD})

    mail = bodies(outbox, "stranger@example.com")
    assert "make this address your account's email" in mail and LURE not in mail


def test_mail_to_a_confirmed_address_still_greets_its_owner_by_name(client, alice, outbox):
    client.submit("/reset", {"email": alice.email})

    assert "Hello Alice Active," in bodies(outbox, alice.email)
