"""The audit log narrowed to one part of the site and one admin: an OPML import's thousand
"Feed added" rows must not bury a moderator's last freeze (Discourse's staff log filters)."""

from __future__ import annotations

import pytest

from club import audit
from club.admin import PAGE_SIZE
from club.extensions import db
from tests.conftest import login, make_user


@pytest.fixture
def admin_client(client, carol):
    login(client, carol)
    return client


def rows(page: str) -> list[str]:
    """The audit table's body rows."""
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    return body.split("<tr>")[1:]


def test_it_shows_only_the_part_of_the_site_asked_for(admin_client, carol, alice):
    audit.record(None, "feed.add", None, "https://one.example.com/feed")
    audit.record(carol, "user.freeze", alice, "spam")
    audit.record(carol, "rule.add", None, "block “casino”")
    db.session.commit()

    page = admin_client.get("/admin/audit?area=user").get_data(as_text=True)

    assert [("Account frozen" in row) for row in rows(page)] == [True]
    assert '<option value="user" selected>Accounts</option>' in page
    assert 'href="/admin/audit">Clear filters</a>' in page


def test_it_shows_only_what_one_admin_did_however_the_handle_is_typed(admin_client, carol, alice):
    dana = make_user(handle="dana", admin=True)
    audit.record(dana, "user.freeze", alice, "spam")
    audit.record(carol, "user.unfreeze", alice, "appealed")
    db.session.commit()

    page = admin_client.get("/admin/audit?who=+@Dana+").get_data(as_text=True)

    assert [("Account frozen" in row) for row in rows(page)] == [True]
    assert 'name="who" value="dana"' in page


def test_the_next_page_keeps_the_filters(admin_client, carol):
    for n in range(PAGE_SIZE + 1):
        audit.record(carol, "feed.add", None, f"https://f{n}.example.com/feed")
    db.session.commit()

    page = admin_client.get("/admin/audit?area=feed&who=carol").get_data(as_text=True)

    assert "&amp;area=feed&amp;who=carol" in page.split("Older entries")[0].rsplit("href=", 1)[1]


def test_it_says_when_nothing_matches(admin_client, carol):
    audit.record(carol, "feed.add", None, "https://one.example.com/feed")
    db.session.commit()

    page = admin_client.get("/admin/audit?area=appeal").get_data(as_text=True)

    assert "No entries match these filters." in page
    assert "Nothing has been recorded yet." not in page


def test_an_unknown_area_shows_everything(admin_client, carol):
    audit.record(carol, "feed.add", None, "https://one.example.com/feed")
    db.session.commit()
    page = admin_client.get("/admin/audit?area=nonsense").get_data(as_text=True)
    assert len(rows(page)) == 1


def test_every_recorded_action_belongs_to_an_area_the_filter_offers():
    areas = {code.split(".", 1)[0] for code in audit.ACTION_LABELS}
    assert areas <= audit.ACTION_AREAS.keys()


def test_done_by_follows_an_account_through_a_new_handle_and_finds_members_too(
    admin_client, carol, alice
):
    dana = make_user(handle="dana", admin=True)
    audit.record(dana, "user.freeze", alice, "spam")
    audit.record(alice, "appeal.submit", alice)  # a member's own action
    dana.handle = "dana2"
    taker = make_user(handle="dana", email="taker@example.com")  # takes the old handle
    audit.record(taker, "appeal.submit", taker)
    db.session.commit()

    renamed = rows(admin_client.get("/admin/audit?who=dana2").get_data(as_text=True))
    member = rows(admin_client.get("/admin/audit?who=alice").get_data(as_text=True))

    assert [("Account frozen" in row) for row in renamed] == [True]
    assert [("Appeal sent" in row) for row in member] == [True]


def test_done_by_finds_an_admin_whose_account_was_deleted(admin_client, carol, alice):
    gone = make_user(handle="gone", admin=True)
    audit.record(gone, "user.freeze", alice, "spam")
    db.session.commit()
    db.session.delete(gone)
    db.session.commit()

    page = admin_client.get("/admin/audit?who=gone").get_data(as_text=True)

    assert [("@gone (account deleted)" in row) for row in rows(page)] == [True]


def test_done_by_ignores_a_nul_typed_into_it(admin_client, carol):
    """PostgreSQL refuses NUL in text: the filter must not turn it into a 500."""
    audit.record(carol, "feed.add", None, "https://one.example.com/feed")
    db.session.commit()
    response = admin_client.get("/admin/audit?who=caro%00l")
    assert response.status_code == 200 and len(rows(response.get_data(as_text=True))) == 1
