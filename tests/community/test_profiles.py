"""Profiles at /u/<handle>, and the badge wherever a name appears."""

from __future__ import annotations

import pytest

from club import membership
from club.extensions import db
from tests.community.conftest import add_comment, page_of
from tests.conftest import login, make_user

BADGE = 'aria-label="Verified member"'


def test_it_shows_name_badge_bio_join_date_and_recent_comments(client, article, alice):
    alice.bio = "Runner, <b>nurse</b>."
    db.session.commit()
    add_comment(article, alice, "My recent thought")
    html = client.get("/u/alice").get_data(as_text=True)
    main = html.split("<main", 1)[1]
    assert "Alice Active" in main and BADGE in main
    assert "Runner, &lt;b&gt;nurse&lt;/b&gt;." in main
    assert f"joined {alice.created_at:%B %Y}" in main
    assert "My recent thought" in main


SPAM_BIO = "Cheap pills at https://spam.example/pills"


def test_it_links_a_members_bio_and_lets_search_engines_index_it(client, alice):
    alice.bio = SPAM_BIO
    db.session.commit()
    html = client.get("/u/alice").get_data(as_text=True)
    assert '<a href="https://spam.example/pills" rel="nofollow noopener ugc">' in html
    assert 'name="robots"' not in html


@pytest.mark.parametrize("persona", ["dave", "erin", "bob", "frank"])
def test_it_does_not_link_or_index_the_bio_of_an_account_that_cannot_interact(
    client, request, persona
):
    """Unconfirmed, never subscribed, payment failed, frozen by a moderator: none of them
    may park a link on the site for search engines to follow."""
    account = request.getfixturevalue(persona)
    account.bio = SPAM_BIO
    db.session.commit()
    html = client.get(f"/u/{account.handle}").get_data(as_text=True)
    assert "Cheap pills at https://spam.example/pills" in html  # still readable
    assert 'href="https://spam.example' not in html
    assert '<meta name="robots" content="noindex">' in html


def test_it_answers_404_for_an_unknown_handle(client):
    assert client.get("/u/nobody_here").status_code == 404


def test_it_pages_a_profiles_comments_with_a_keyset(client, article, alice):
    for n in range(22):
        add_comment(article, alice, f"Thought number {n:02d}")
    first = client.get("/u/alice").get_data(as_text=True)
    assert "Thought number 21" in first and "Thought number 01" not in first
    before = first.split("/u/alice?before=")[1].split('"')[0]
    second = client.get(f"/u/alice?before={before}").get_data(as_text=True)
    assert "Thought number 01" in second and "Thought number 21" not in second


def test_it_leaves_deleted_comments_off_the_profile(member, article, alice):
    comment = add_comment(article, alice, "regretted words")
    member.submit(f"/comments/{comment.id}/delete")
    assert "regretted words" not in member.get("/u/alice").get_data(as_text=True)


def test_it_shows_the_badge_next_to_a_commenters_name(client, article, alice):
    add_comment(article, alice)
    html = page_of(client, article).split('id="comments"')[1]
    assert BADGE in html


def test_it_drops_the_badge_the_moment_an_account_is_frozen(client, article, alice, carol):
    add_comment(article, alice)
    membership.freeze(alice, by=carol, reason="cooling off")
    db.session.commit()
    html = page_of(client, article).split('id="comments"')[1]
    assert "Alice Active" in html and BADGE not in html
    membership.unfreeze(alice, by=carol)
    db.session.commit()
    assert BADGE in page_of(client, article).split('id="comments"')[1]


def test_it_never_badges_a_lookalike_name(client):
    impostor = make_user(display_name="Bob ✔ Verified member")
    html = client.get(f"/u/{impostor.handle}").get_data(as_text=True).split("<main", 1)[1]
    assert "Bob ✔ Verified member" in html and BADGE not in html


def test_it_isolates_a_right_to_left_name_from_the_text_around_it(client, article):
    """Unisolated, an Arabic name pulls the date's day number to its left."""
    ali = make_user(handle="ali", display_name="علي", subscription="active")
    add_comment(article, ali, "مرحبا")
    for html in (page_of(client, article), client.get("/u/ali").get_data(as_text=True)):
        assert "<bdi>علي</bdi>" in html


def test_the_settings_hint_gives_the_members_own_address_and_warns_about_old_links(client, alice):
    login(client, alice)

    page = client.get("/settings").get_data(as_text=True)

    assert "Your public address: /u/alice." in page
    assert "If you change it, old links stop reaching you, and someone else may take it." in page
    assert "stop working" not in page  # they do not: they may reach whoever takes the handle


def test_the_sign_up_hint_says_where_the_profile_will_be(client):
    page = client.get("/signup").get_data(as_text=True)

    assert "Your profile will be at /u/ followed by this." in page
