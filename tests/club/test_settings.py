"""Settings: profile, email, password, status, billing (#2 point 7; C7 C13 C20).

Appeals: ``test_appeals.py``; export and deletion: ``test_account_data.py``."""

from __future__ import annotations

from datetime import timedelta

import pytest

from club import accounts, membership, tokens
from club.clock import utcnow
from club.extensions import db
from tests.club.conftest import last_link, messages_to
from tests.conftest import PASSWORD, login, make_user, read_outbox, table_fingerprint

NEW_PASSWORD = "an entirely new passphrase"


def profile_data(**overrides) -> dict:
    data = {"display_name": "Alice Anew", "handle": "alice_new", "bio": "Reads everything."}
    data.update(overrides)
    return data


def is_signed_in(client) -> bool:
    return client.get("/settings").status_code == 200


@pytest.mark.parametrize("persona", ["alice", "bob", "carol", "dave", "erin", "frank"])
def test_it_opens_settings_in_every_standing(client, request, persona):
    login(client, request.getfixturevalue(persona))
    response = client.get("/settings")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for section in (
        "Account status",
        "Profile",
        "Password",
        "Billing",
        "Your data",
        "Delete account",
    ):
        assert section in page


def test_it_sends_visitors_to_log_in_from_settings(client):
    response = client.get("/settings")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


# --- Profile ----------------------------------------------------------------------------


def test_it_saves_the_profile(client, alice):
    login(client, alice)
    response = client.submit("/settings/profile", profile_data(handle="  Alice_New "))
    assert response.status_code == 303
    db.session.refresh(alice)
    assert (alice.display_name, alice.handle, alice.bio) == (
        "Alice Anew",
        "alice_new",
        "Reads everything.",
    )


def test_it_lets_a_billing_frozen_account_fix_its_profile(client, bob):
    login(client, bob)
    assert client.submit("/settings/profile", profile_data(handle="bob")).status_code == 303
    db.session.refresh(bob)
    assert bob.display_name == "Alice Anew"


def test_it_refuses_profile_changes_under_a_moderator_freeze_and_says_why(client, frank):
    login(client, frank)
    before = table_fingerprint()
    response = client.submit("/settings/profile", profile_data(display_name="Totally Legit"))
    assert response.status_code == 403
    assert "moderator" in response.get_data(as_text=True)
    assert table_fingerprint() == before


def test_it_explains_on_the_page_why_the_profile_is_locked(client, frank):
    login(client, frank)
    page = client.get("/settings").get_data(as_text=True)
    assert "cannot change your display name, handle or bio" in page
    assert 'action="/settings/profile"' not in page


def test_it_refuses_a_handle_someone_else_has(client, alice, erin):
    login(client, alice)
    response = client.submit("/settings/profile", profile_data(handle="erin"))
    assert response.status_code == 400
    assert "That handle is taken" in response.get_data(as_text=True)
    db.session.refresh(alice)
    assert alice.handle == "alice"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("bio", "b" * 1001),
        ("display_name", "d" * 61),
        ("handle", "h" * 31),
        ("handle", "Bad Handle"),
    ],
)
def test_it_refuses_bad_profile_input_and_keeps_the_old_profile(client, alice, field, value):
    login(client, alice)
    response = client.submit("/settings/profile", profile_data(**{field: value}))
    assert response.status_code == 400
    db.session.refresh(alice)
    assert (alice.display_name, alice.handle) == ("Alice Active", "alice")
    if len(value) < 100:  # the refused value comes back as typed, to correct
        assert f'value="{value}"' in response.get_data(as_text=True)


def test_it_refuses_a_bio_whose_accents_would_draw_over_the_profile(client, alice):
    login(client, alice)
    response = client.submit("/settings/profile", profile_data(bio="Z" + "\u0301" * 400))
    assert response.status_code == 400
    assert "Use at most 8 accents on one letter" in response.get_data(as_text=True)
    db.session.refresh(alice)
    assert alice.bio == ""
    # Vietnamese stacks two on a letter ("ệ", decomposed here): well within the rule.
    assert client.submit("/settings/profile", profile_data(bio="Tiê\u0323ng")).status_code == 303


def test_it_lets_an_account_keep_a_reserved_handle_an_operator_gave_it(client, carol):
    carol.handle = "admin"  # as `flask users create admin@example.com` names it
    db.session.commit()
    login(client, carol)
    response = client.submit("/settings/profile", profile_data(handle="admin"))
    assert response.status_code == 303
    db.session.refresh(carol)
    assert (carol.display_name, carol.handle) == ("Alice Anew", "admin")


def test_it_still_refuses_a_reserved_handle_as_a_new_choice(client, alice):
    login(client, alice)
    response = client.submit("/settings/profile", profile_data(handle="support"))
    assert response.status_code == 400
    assert "That handle is reserved" in response.get_data(as_text=True)
    db.session.refresh(alice)
    assert alice.handle == "alice"


def test_it_ignores_fields_the_profile_form_does_not_declare(client, erin):
    login(client, erin)
    client.submit(
        "/settings/profile",
        profile_data(
            handle="erin",
            is_admin="1",
            complimentary="1",
            email="attacker@example.com",
            subscription_status="active",
            frozen_at="",
            stripe_customer_id="cus_x",
            id="999",
        ),
    )
    db.session.refresh(erin)
    assert not erin.is_admin and not erin.complimentary
    assert erin.email == "erin@example.com" and erin.subscription_status is None
    assert erin.stripe_customer_id is None and erin.id != 999
    assert not membership.standing(erin).can_interact


# --- Email ------------------------------------------------------------------------------


def ask_email_change(client, new_email: str, password: str = PASSWORD):
    return client.submit("/settings/email", {"new_email": new_email, "password": password})


def test_it_needs_the_password_to_change_the_email(client, alice, outbox):
    login(client, alice)
    response = ask_email_change(client, "alice.new@example.com", password="not my password")
    assert response.status_code == 400
    assert "That is not your password" in response.get_data(as_text=True)
    assert read_outbox(outbox) == []


def test_it_changes_the_email_once_the_new_address_confirms(client, alice, outbox):
    login(client, alice)
    assert ask_email_change(client, "Alice.New@Example.com").status_code == 303
    db.session.refresh(alice)
    assert alice.email == "alice@example.com"
    link = last_link(outbox, "/settings/email/")
    assert "Change my email" in client.get(link).get_data(as_text=True)
    assert client.submit(link).status_code == 303
    db.session.refresh(alice)
    assert alice.email == "alice.new@example.com" and alice.is_email_confirmed
    (notice,) = messages_to(outbox, "alice@example.com")
    assert "is now alice.new@example.com" in notice


def test_it_tells_the_old_address_how_to_get_help_not_to_reset(app, client, alice, outbox):
    app.config["SUPPORT_EMAIL"] = "help@club.example.com"
    login(client, alice)
    ask_email_change(client, "alice.new@example.com")
    client.submit(last_link(outbox, "/settings/email/"))
    (notice,) = messages_to(outbox, "alice@example.com")
    notice = " ".join(notice.split())
    assert "is now alice.new@example.com" in notice
    assert "write to help@club.example.com from this address" in notice
    assert "/reset" not in notice  # a reset link would go to the new address


def test_it_answers_an_email_change_to_a_taken_address_like_any_other(client, alice, erin, outbox):
    login(client, alice)
    taken = ask_email_change(client, "erin@example.com")
    free = ask_email_change(client, "free@example.com")
    assert (taken.status_code, taken.headers["Location"]) == (
        free.status_code,
        free.headers["Location"],
    )
    (notice,) = messages_to(outbox, "erin@example.com")
    assert "/settings/email/" not in notice and "nothing has changed" in notice


def email_section(client) -> str:
    page = client.get("/settings").get_data(as_text=True)
    return page[page.index('id="email"') : page.index('id="password"')]


WAITING = "Waiting for you to confirm <strong>{}</strong>: we sent a link there on"


def test_settings_says_an_email_change_waits_until_its_link_is_opened(client, alice, outbox):
    login(client, alice)
    ask_email_change(client, "Alice.New@Example.com")
    assert WAITING.format("alice.new@example.com") in email_section(client)

    client.submit(last_link(outbox, "/settings/email/"))

    section = email_section(client)
    assert "Waiting for you to confirm" not in section
    assert "Your email address is <strong>alice.new@example.com</strong>" in section


def test_a_waiting_email_change_is_not_shown_once_its_link_has_expired(client, alice):
    login(client, alice)
    ask_email_change(client, "alice.new@example.com")
    db.session.refresh(alice)
    assert WAITING.format("alice.new@example.com") in email_section(client)
    alice.pending_email_at -= timedelta(days=1)
    db.session.commit()
    assert "Waiting for you to confirm" not in email_section(client)


def test_a_change_to_a_taken_address_waits_like_any_other(client, alice, erin):
    """Settings must not tell the member that the address belongs to someone."""
    login(client, alice)
    ask_email_change(client, "erin@example.com")
    assert WAITING.format("erin@example.com") in email_section(client)


def test_it_refuses_an_email_change_link_used_twice(client, alice, outbox):
    login(client, alice)
    ask_email_change(client, "alice.new@example.com")
    link = last_link(outbox, "/settings/email/")
    client.submit(link)
    assert client.submit(link).status_code == 400


def test_it_refuses_an_email_change_link_from_another_account(app, client, alice, erin, outbox):
    login(client, alice)
    ask_email_change(client, "alice.new@example.com")
    link = last_link(outbox, "/settings/email/")
    other = app.test_client()
    login(other, erin)
    assert other.submit(link).status_code == 400
    db.session.refresh(erin)
    assert erin.email == "erin@example.com"


def test_it_refuses_the_change_if_the_address_was_taken_meanwhile(client, alice, outbox):
    login(client, alice)
    ask_email_change(client, "late@example.com")
    make_user(email="late@example.com", handle="late")
    response = client.submit(last_link(outbox, "/settings/email/"))
    assert response.status_code == 400
    assert "belongs to another account" in response.get_data(as_text=True)
    assert 'href="/settings#email"' in response.get_data(as_text=True)
    db.session.refresh(alice)
    assert alice.email == "alice@example.com"


def test_it_kills_reset_links_sent_to_the_old_address(client, alice, outbox):
    reset_token = tokens.issue(tokens.RESET_PASSWORD, alice)
    login(client, alice)
    ask_email_change(client, "alice.new@example.com")
    client.submit(last_link(outbox, "/settings/email/"))
    assert client.get(f"/reset/{reset_token}").status_code == 400


# --- Password ---------------------------------------------------------------------------


def change_password(client, current: str = PASSWORD, new: str = NEW_PASSWORD):
    return client.submit("/settings/password", {"current_password": current, "new_password": new})


def test_it_needs_the_current_password_to_change_it(client, alice):
    login(client, alice)
    response = change_password(client, current="not my password")
    assert response.status_code == 400
    assert "not your current password" in response.get_data(as_text=True)
    # The form is far down the page: the top of the page says where to look.
    html = response.get_data(as_text=True)
    top = html[html.index("<h1>Settings</h1>") : html.index('id="status"')]
    assert 'Nothing was saved. Please check the <a href="#password">Password</a> section' in top
    db.session.refresh(alice)
    assert alice.check_password(PASSWORD)


def test_it_names_a_wrong_password_beside_the_other_mistakes(client, alice):
    """Named only once the rest was right, it came after the member had fixed the rest
    and made them type the new password again."""
    login(client, alice)
    html = change_password(client, current="not my password", new="too short").get_data(
        as_text=True
    )
    assert "not your current password" in html and "Use between 10 and 256 characters" in html
    email = ask_email_change(client, "not an address", password="not my password")
    assert "That is not your password" in email.get_data(as_text=True)
    assert "Enter a valid email address" in email.get_data(as_text=True)
    gone = client.submit("/settings/delete", {"password": "not my password"})
    html = gone.get_data(as_text=True)
    assert gone.status_code == 400
    assert "That is not your password" in html and "Tick the box to confirm." in html
    top = html[html.index("<h1>Settings</h1>") : html.index('id="status"')]
    assert "Your account was not deleted. Please check" in top and "Nothing was saved" not in top
    db.session.refresh(alice)
    assert alice.check_password(PASSWORD)


def test_it_refuses_a_short_new_password(client, alice):
    login(client, alice)
    assert change_password(client, new="too short").status_code == 400
    db.session.refresh(alice)
    assert alice.check_password(PASSWORD)


@pytest.mark.parametrize("new", ["alice@example.com", "Alice@Example.com!", "alice_walks_daily"])
def test_it_refuses_the_accounts_own_email_or_handle_as_the_new_password(client, alice, new):
    alice.handle = "alice_walks_daily"
    db.session.commit()
    login(client, alice)
    response = change_password(client, new=new)
    assert response.status_code == 400
    assert "must not be the site&#39;s name, or your email, handle or name" in response.get_data(
        as_text=True
    )
    db.session.refresh(alice)
    assert alice.check_password(PASSWORD)


def test_it_changes_the_password_and_keeps_this_session_signed_in(client, alice):
    login(client, alice)
    assert change_password(client).status_code == 303
    db.session.refresh(alice)
    assert alice.check_password(NEW_PASSWORD)
    assert is_signed_in(client)


def test_it_does_not_lengthen_the_log_in_when_the_password_changes(client, alice):
    signed_in_at = utcnow() - timedelta(days=20)
    with client.session_transaction() as session:
        session["_user_id"] = accounts.session_id(alice, signed_in_at)
    change_password(client)
    with client.session_transaction() as session:
        renewed = session["_user_id"]
    db.session.refresh(alice)
    assert renewed == accounts.session_id(alice, signed_in_at)


def test_it_tells_the_owner_their_password_was_changed(client, alice, outbox):
    login(client, alice)
    change_password(client)
    (notice,) = messages_to(outbox, alice.email)
    assert "Subject: Your Billionaire Club password was changed" in notice
    assert "every other session was signed out" in notice


def test_it_sends_no_notice_when_the_password_was_not_changed(client, alice, outbox):
    login(client, alice)
    change_password(client, current="not my password")
    assert messages_to(outbox, alice.email) == []


def test_it_refuses_the_current_password_as_the_new_one_without_signing_anyone_out(
    client, alice, outbox
):
    # Found by the new-member walk-through: it said "changed", signed out every other
    # session and mailed "someone else may have had access".
    login(client, alice)
    token = alice.session_token

    response = change_password(client, new=PASSWORD)

    assert response.status_code == 400
    assert "That is already your password: choose a new one." in response.text
    db.session.refresh(alice)
    assert alice.session_token == token and messages_to(outbox, alice.email) == []


def test_it_lets_a_frozen_account_change_its_password(client, bob):
    login(client, bob)
    assert change_password(client).status_code == 303


def test_it_signs_out_every_other_copy_of_the_session_on_password_change(app, client, alice):
    client.submit("/login", {"email": alice.email, "password": PASSWORD})
    stolen = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    change_password(client)
    replay = app.test_client()
    replay.set_cookie(app.config["SESSION_COOKIE_NAME"], stolen)
    assert not is_signed_in(replay)
    assert is_signed_in(client)


def test_it_kills_old_remember_cookies_and_reissues_this_one(app, client, alice):
    name = app.config["REMEMBER_COOKIE_NAME"]
    client.submit("/login", {"email": alice.email, "password": PASSWORD, "remember": "y"})
    stolen = client.get_cookie(name).value
    change_password(client)
    fresh = client.get_cookie(name).value
    assert fresh != stolen
    replay = app.test_client()
    replay.set_cookie(name, stolen)
    assert not is_signed_in(replay)
    restored = app.test_client()
    restored.set_cookie(name, fresh)
    assert is_signed_in(restored)


# --- Account status ---------------------------------------------------------------------


def status_section(client) -> str:
    page = client.get("/settings").get_data(as_text=True)
    return page[page.index('id="status"') : page.index('id="profile"')]


def test_it_shows_a_paying_member_as_active(client, alice):
    login(client, alice)
    assert "paying member with the verified badge" in status_section(client)


def test_it_explains_a_failed_payment_and_the_way_out(client, bob):
    bob.last_payment_error = "Your card was declined."
    db.session.commit()
    login(client, bob)
    section = status_section(client)
    assert "payment failed" in section and "Your card was declined." in section
    assert 'href="#billing"' in section
    # The banner's advice names the button the billing section shows.
    assert "under Manage subscription" in client.get("/").get_data(as_text=True)
    assert ">Manage subscription</button>" in billing_section(client)


def billing_section(client) -> str:
    page = client.get("/settings").get_data(as_text=True)
    return page[page.index('id="billing"') : page.index('id="export"')]


def test_it_shows_when_an_active_membership_renews(client, alice):
    login(client, alice)
    assert "Renews on" in billing_section(client)
    assert '<h2 id="billing-title">Billing</h2>' in billing_section(client)


@pytest.mark.parametrize("status", ["past_due", "unpaid", "paused"])
def test_it_never_promises_a_renewal_to_a_membership_waiting_for_payment(client, status):
    login(client, make_user(subscription=status))
    assert "Renews on" not in billing_section(client)


def test_it_shows_the_freeze_date_to_a_member_in_grace(client):
    user = make_user(handle="gina", subscription="past_due", past_due_days=1)
    login(client, user)
    grace_ends = membership.standing(user).grace_ends_at
    assert grace_ends.strftime("%d %B %Y") in status_section(client)


def test_it_shows_when_a_cancelled_membership_ends(client, alice):
    alice.subscription_cancel_at_period_end = True
    db.session.commit()
    login(client, alice)
    assert alice.subscription_period_end.strftime("%d %B %Y") in status_section(client)


def test_it_offers_a_new_confirmation_link_to_an_unconfirmed_account(client, dave, outbox):
    login(client, dave)
    assert "Send me a new link" in status_section(client)
    assert client.submit("/settings/confirmation").status_code == 303
    (message,) = messages_to(outbox, dave.email)
    assert "/confirm/" in message


def test_it_does_not_resend_to_a_confirmed_address(client, alice, outbox):
    login(client, alice)
    client.submit("/settings/confirmation")
    assert messages_to(outbox, alice.email) == []


def test_it_points_a_never_subscribed_account_at_billing(client, erin):
    login(client, erin)
    section = status_section(client)
    assert "costs $1.00/month" in section and 'href="#billing"' in section


def test_it_shows_a_moderator_freeze_in_full_with_an_appeal_form(client, frank):
    frank.frozen_until = utcnow() + timedelta(days=5)
    db.session.commit()
    login(client, frank)
    section = status_section(client)
    assert "Spam in comments" in section
    assert frank.frozen_until.strftime("%d %B %Y") in section
    assert 'action="/settings/appeal"' in section
