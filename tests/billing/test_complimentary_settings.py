"""A complimentary member's billing section: the gift, not "Not subscribed" and a button
to buy what they already have (found by the moderation walk-through of 2026-11-26)."""

from __future__ import annotations

from club import membership
from club.extensions import db
from tests.club.test_settings import billing_section
from tests.conftest import login, make_user

CHECKOUT = 'action="/billing/checkout"'


def test_a_complimentary_member_is_told_so_and_offered_nothing_to_buy(client):
    login(client, make_user(handle="gifted", complimentary=True))
    section = billing_section(client)
    assert "Complimentary membership" in section and "Complimentary: nothing to pay" in section
    assert "an admin gave you a complimentary membership" in section.lower()
    assert "Not subscribed" not in section and CHECKOUT not in section


def test_a_complimentary_member_whose_subscription_ended_sees_no_end_date(client):
    gifted = make_user(handle="gifted", complimentary=True, subscription="canceled")
    login(client, gifted)
    section = billing_section(client)
    assert "Complimentary: nothing to pay" in section
    assert "Ended on" not in section and CHECKOUT not in section


def test_a_complimentary_member_still_paying_is_told_they_may_cancel(client):
    login(client, make_user(handle="gifted", complimentary=True, subscription="active"))
    section = billing_section(client)
    assert "Active" in section and "Manage subscription" in section
    assert "cancel this subscription without losing anything" in section


def test_a_frozen_complimentary_member_is_still_told_of_the_gift(client):
    gifted = make_user(handle="gifted", complimentary=True)
    membership.freeze(gifted, by=None, reason="Spam")
    db.session.commit()
    login(client, gifted)
    section = billing_section(client)
    assert "Complimentary: nothing to pay" in section and CHECKOUT not in section
    assert "complimentary membership works again once the freeze ends" in section
