"""The links we email: valid for any address, silent about it, and honoured across a release."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from club import tokens
from club.clock import utcnow
from club.extensions import db
from club.models import User
from tests.club.conftest import last_link
from tests.club.test_auth import signup_data


@pytest.mark.parametrize("address", ["zoë@example.com", "anna@bücher.example"])
def test_it_confirms_and_resets_an_address_in_any_script(client, outbox, address):
    client.submit("/signup", signup_data(email=address))
    link = last_link(outbox, "/confirm/")
    assert client.get(link).status_code == 200
    assert client.submit(link).status_code == 303
    db.session.expire_all()
    assert db.session.scalar(sa.select(User)).email_confirmed_at is not None
    client.submit("/reset", {"email": address})
    assert client.get(last_link(outbox, "/reset/")).status_code == 200


def test_a_link_does_not_spell_out_the_address_it_was_sent_to(client, outbox):
    client.submit("/signup", signup_data(email="private.person@example.com"))
    token = last_link(outbox, "/confirm/").rsplit("/", 1)[1]
    # Everything the link carries, decompressed as anyone holding it could.
    payload = tokens._serializer(tokens.CONFIRM_EMAIL).loads(token)
    assert payload["uid"] and "private.person" not in json.dumps(payload)


def test_a_link_mailed_before_bindings_were_sealed_still_works(client, dave, app):
    # Links already in inboxes when this release went out carry the plain binding.
    serializer = tokens._serializer(tokens.CONFIRM_EMAIL)
    payload = {"uid": dave.id, "jti": "legacy-1", "bind": dave.email, "data": None}
    payload["exp"] = int((utcnow() + timedelta(days=1)).timestamp())
    assert client.submit(f"/confirm/{serializer.dumps(payload)}").status_code == 303
