"""The skeleton's wiring: the app builds, personas have the standing they claim."""

from club import membership
from club.membership import Reason


def test_it_gives_each_persona_the_standing_its_comment_claims(
    alice, bob, carol, dave, erin, frank
):
    assert membership.standing(alice).can_interact and membership.standing(alice).badge
    assert membership.standing(bob).reason is Reason.PAYMENT_FAILED
    assert membership.standing(carol).can_interact
    assert membership.standing(dave).reason is Reason.EMAIL_NOT_CONFIRMED
    assert membership.standing(erin).reason is Reason.NOT_SUBSCRIBED
    assert membership.standing(frank).reason is Reason.FROZEN_BY_MODERATOR
