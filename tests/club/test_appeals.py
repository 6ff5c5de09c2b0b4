"""Appeals from settings: a member frozen by a moderator asks once to be let back (#2 point 7)."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from club import accounts, membership
from club.extensions import db
from club.models import Appeal, User
from tests.club.test_settings import status_section
from tests.conftest import login


def appeals_of(user: User) -> list[Appeal]:
    return list(db.session.scalars(sa.select(Appeal).where(Appeal.user_id == user.id)))


def test_it_records_one_appeal_against_a_moderator_freeze(client, frank):
    login(client, frank)
    response = client.submit("/settings/appeal", {"text": "It was a misunderstanding."})
    assert response.status_code == 303
    (appeal,) = appeals_of(frank)
    assert (appeal.text, appeal.status, appeal.freeze_started_at) == (
        "It was a misunderstanding.",
        "open",
        frank.frozen_at,
    )
    assert "An admin will review it" in status_section(client)


def test_it_refuses_a_second_appeal_against_the_same_freeze(client, frank):
    login(client, frank)
    client.submit("/settings/appeal", {"text": "First."})
    response = client.submit("/settings/appeal", {"text": "Second."})
    assert response.status_code == 409
    assert "already appealed" in response.get_data(as_text=True)
    assert len(appeals_of(frank)) == 1


def test_it_refuses_an_appeal_from_an_account_no_moderator_froze(client, bob):
    login(client, bob)
    assert client.submit("/settings/appeal", {"text": "Please"}).status_code == 409
    assert appeals_of(bob) == []


@pytest.mark.parametrize("text", ["", " \n\t ", "a" * 2001, "Please \u2066undo\u202e this"])
def test_it_refuses_an_empty_over_long_or_scrambling_appeal(client, frank, text):
    # A member has one appeal per freeze: a blank one must not use it up.
    login(client, frank)
    assert client.submit("/settings/appeal", {"text": text}).status_code == 400
    assert appeals_of(frank) == []


def test_an_appeal_may_run_over_several_lines(client, frank):
    login(client, frank)
    assert (
        client.submit("/settings/appeal", {"text": "Sorry.\r\n\tIt was a mistake."}).status_code
        == 303
    )
    assert len(appeals_of(frank)) == 1


def test_it_shows_the_admins_reply_to_a_rejected_appeal(app, client, frank, carol):
    login(client, frank)
    client.submit("/settings/appeal", {"text": "Please."})
    (appeal,) = appeals_of(frank)
    admin = app.test_client()
    login(admin, carol)
    admin.submit(f"/admin/appeals/{appeal.id}/reject", {"reply": "The spam was clear-cut."})
    section = status_section(client)
    assert "rejected your appeal" in section and "The spam was clear-cut." in section
    assert 'action="/settings/appeal"' not in section


def banner_action(client) -> str:
    page = client.get("/").get_data(as_text=True)
    return html.unescape(re.search(r'<p class="banner-action">(.*?)</p>', page, re.S).group(1))


def test_the_banner_says_where_the_members_appeal_stands(app, client, frank, carol):
    """Offering an appeal the member has used, or one an admin has answered, misleads."""
    login(client, frank)
    assert banner_action(client).endswith("You can appeal in settings.")
    client.submit("/settings/appeal", {"text": "Please."})
    assert banner_action(client).endswith(
        "Your appeal is with the admins; their answer will show in settings."
    )
    (appeal,) = appeals_of(frank)
    admin = app.test_client()
    login(admin, carol)
    admin.submit(f"/admin/appeals/{appeal.id}/reject", {"reply": "The spam was clear-cut."})
    said = banner_action(client)
    assert said.endswith("An admin has answered your appeal; their reply is in settings.")
    assert "You can appeal" not in said


def test_a_failed_payment_mail_to_a_frozen_member_says_where_their_appeal_stands(client, frank):
    from billing import notices

    assert "You can appeal in settings." in notices.payment_failed(frank).body
    login(client, frank)
    client.submit("/settings/appeal", {"text": "Please."})
    body = notices.payment_failed(frank).body
    assert "Your appeal is with the admins" in body and "You can appeal" not in body


def test_every_label_and_section_link_on_settings_reaches_its_own_element(client, dave):
    login(client, dave)
    page = client.get("/settings").get_data(as_text=True)

    ids = re.findall(r'\sid="([^"]+)"', page)
    duplicated = {i for i in ids if ids.count(i) > 1}
    assert duplicated == set()
    for target in re.findall(r'\sfor="([^"]+)"', page) + re.findall(r'href="#([^"]+)"', page):
        assert target in ids, target


def test_settings_says_the_account_is_frozen_once_not_twice(client, bob):
    login(client, bob)
    page = client.get("/settings").get_data(as_text=True)
    assert page.count(membership.FROZEN_MESSAGE) == 1  # the banner's
    assert "Your last payment did not go through" in page  # the section: why, and what to do


def kept(response) -> str:
    """The text the refusal page offers to copy."""
    found = re.search(r'<textarea id="kept-text"[^>]*>(.*?)</textarea>', response.text, re.S)
    return html.unescape(found.group(1)) if found else ""


def test_a_bio_sent_after_the_session_ended_elsewhere_is_kept_to_copy(client, alice):
    login(client, alice)
    accounts.end_all_sessions(alice)  # logged out on another device meanwhile
    db.session.commit()
    bio = "Physiotherapist in Leeds; I write about backs."
    response = client.submit(
        "/settings/profile", {"display_name": "Alice", "handle": "alice", "bio": bio}
    )
    assert response.status_code == 401 and kept(response) == bio


def test_an_appeal_sent_from_a_tab_left_open_too_long_is_kept_to_copy(client, frank):
    login(client, frank)
    text = "The links were to my own clinic's exercise sheets, not advertising."
    response = client.post("/settings/appeal", data={"text": text, "csrf_token": "stale"})
    assert response.status_code == 400 and kept(response) == text
    assert appeals_of(frank) == []


@pytest.mark.parametrize("persona", ["alice", "frank"])
def test_the_deletion_notice_says_what_stays(client, request, persona):
    user = request.getfixturevalue(persona)
    login(client, user)
    page = client.get("/settings").get_data(as_text=True)
    notice = page.split('id="delete-title"', 1)[1].split("<form", 1)[0]
    assert "Comments you wrote stay" in notice and "Reports you filed stay" in notice
    # Frozen or not, the member may have their comments deleted with the account.
    assert "tick the box below to delete them too" in notice
    # Only a frozen one is told of the freeze that outlives the account.
    assert ("freeze stays tied to your address" in notice) is (persona == "frank")
