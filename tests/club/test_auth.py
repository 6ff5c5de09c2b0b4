"""Sign-up, log-in, log-out, confirmation and reset (issue #2 point 4; C2 C6 C11 C15 C16 C21)."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from club import accounts, tokens
from club.clock import utcnow
from club.extensions import db
from club.models import User
from tests.club.conftest import last_link, messages_to
from tests.conftest import PASSWORD, login, make_user, read_outbox, table_fingerprint
from tests.live_server import serving

NEW_PASSWORD = "a brand new passphrase"


def signup_data(**overrides) -> dict:
    data = {
        "email": "Grace@Example.com",
        "display_name": "Grace Hopper",
        "handle": "grace",
        "password": "compilers all the way",
    }
    data.update(overrides)
    return data


def users_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User))


def is_signed_in(client) -> bool:
    return client.get("/settings").status_code == 200


# --- Sign-up ----------------------------------------------------------------------------


def test_it_creates_an_unconfirmed_account_with_a_lower_cased_email(client):
    response = client.submit("/signup", signup_data())
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/signup/check-email")
    user = db.session.scalar(sa.select(User))
    assert (user.email, user.handle, user.display_name) == (
        "grace@example.com",
        "grace",
        "Grace Hopper",
    )
    assert user.email_confirmed_at is None
    assert user.password_hash.startswith("scrypt:")


def test_it_mails_a_confirmation_link_on_sign_up(client, outbox):
    client.submit("/signup", signup_data())
    (message,) = messages_to(outbox, "grace@example.com")
    assert "Confirm your email" in message
    assert "http://127.0.0.1:5000/confirm/" in message


def test_it_answers_sign_up_on_an_existing_email_exactly_like_a_new_one(client, alice):
    fresh = client.submit("/signup", signup_data(email="new@example.com", handle="newbie"))
    existing = client.submit("/signup", signup_data(email="ALICE@example.com", handle="other1"))
    assert (existing.status_code, existing.headers["Location"]) == (
        fresh.status_code,
        fresh.headers["Location"],
    )
    assert existing.get_data() == fresh.get_data()


def test_it_mails_the_owner_instead_of_creating_a_second_account(client, alice, outbox):
    before = users_count()
    client.submit("/signup", signup_data(email="Alice@Example.com", handle="alice2"))
    assert users_count() == before
    (notice,) = messages_to(outbox, "alice@example.com")
    assert "already has one" in notice


def test_it_treats_an_address_typed_with_a_combining_accent_as_the_same(client, outbox):
    make_user(email="j\u00fcrgen@example.com", handle="juergen")  # "ü" precomposed
    before = users_count()
    client.submit("/signup", signup_data(email="Ju\u0308rgen@example.com", handle="jurgen2"))
    assert users_count() == before
    (notice,) = messages_to(outbox, "j\u00fcrgen@example.com")
    assert "already has one" in notice
    assert accounts.find_by_email("ju\u0308rgen@example.com").handle == "juergen"


def test_it_refuses_a_taken_handle_with_a_clear_message(client, alice):
    response = client.submit("/signup", signup_data(handle="alice"))
    assert response.status_code == 400
    assert "That handle is taken" in response.get_data(as_text=True)
    assert users_count() == 1


def test_it_reports_a_taken_handle_whether_or_not_the_email_has_an_account(client, alice, erin):
    known = client.submit("/signup", signup_data(email="alice@example.com", handle="erin"))
    unknown = client.submit("/signup", signup_data(email="nobody@example.com", handle="erin"))
    assert known.status_code == unknown.status_code == 400
    assert comparable(known, "alice@example.com") == comparable(unknown, "nobody@example.com")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("password", "nine char", "Use between 10 and 256 characters"),
        ("password", "x" * 257, "Use between 10 and 256 characters"),
        ("password", "1234567890", "first ones attackers try"),
        ("password", "billionaireclub", "must not be the site"),
        ("password", "grace grace grace", "must not be the site"),
        ("password", "Grace-Hopper Grace-Hopper", "must not be the site"),
        ("password", "Password1!", "too easy to guess"),
        ("password", "qwerty123456", "too easy to guess"),
        ("password", "football123", "too easy to guess"),
        ("password", "grace1234567", "must not be the site"),  # the handle and a run
        ("password", "Grace@Example.com1", "must not be the site"),
        ("password", "grace_hopper_2026!", "must not be the site"),
        ("password", "Grace Hopper 2026", "must not be the site"),
        ("handle", "Grace Hopper!", "lower-case letters, digits and _"),
        ("handle", "ab", "Use 3 to 30 characters"),
        ("handle", "g" * 31, "Use 3 to 30 characters"),
        ("handle", "admin", "reserved"),
        ("display_name", "", "This field is required"),
        ("display_name", "n" * 61, "Use 1 to 60 characters"),
        ("email", "not-an-email", "valid email address"),
        ("email", "a" * 250 + "@example.com", "at most 254 characters"),
    ],
)
def test_it_refuses_bad_sign_up_input_and_writes_nothing(client, field, value, message):
    response = client.submit("/signup", signup_data(**{field: value}))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert users_count() == 0


@pytest.mark.parametrize("password", ["73928461057392846105", "7392-8461-0573-9284-6105"])
def test_a_long_password_of_digits_is_not_taken_for_the_members_name(client, password):
    response = client.submit("/signup", signup_data(password=password))
    assert "must not be the site" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("password", "short", "Use between 10 and 256 characters."),
        ("display_name", "   ", "Use 1 to 60 characters."),
    ],
)
def test_a_field_refused_for_its_length_says_only_that(client, field, value, said):
    page = client.submit("/signup", signup_data(**{field: value})).get_data(as_text=True)
    errors = re.search(rf'<ul class="field-errors" id="{field}-errors">(.*?)</ul>', page).group(1)
    assert re.findall(r"<li>(.*?)</li>", errors) == [said]


def test_it_reports_a_taken_handle_together_with_a_weak_password(client, alice):
    response = client.submit("/signup", signup_data(handle="alice", password="qwerty123456"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "That handle is taken. Choose another." in page
    assert "too easy to guess" in page


def test_it_keeps_what_was_typed_when_sign_up_fails(client):
    response = client.submit("/signup", signup_data(password="short"))
    page = response.get_data(as_text=True)
    assert 'value="grace@example.com"' in page and 'value="Grace Hopper"' in page


def test_it_ignores_undeclared_fields_on_sign_up(client):
    client.submit("/signup", signup_data(is_admin="1", complimentary="1", email_confirmed_at="x"))
    user = db.session.scalar(sa.select(User))
    assert not user.is_admin and not user.complimentary and user.email_confirmed_at is None


def test_it_refuses_sign_up_without_a_csrf_token(client):
    response = client.post("/signup", data=signup_data())
    assert response.status_code == 400
    assert users_count() == 0


# --- Log-in -----------------------------------------------------------------------------


def test_it_logs_in_with_any_case_of_the_email(client, alice):
    response = client.submit("/login", {"email": "ALICE@example.com", "password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert is_signed_in(client)


def test_it_lets_an_unconfirmed_account_log_in(client, dave):
    client.submit("/login", {"email": dave.email, "password": PASSWORD})
    assert is_signed_in(client)


def test_it_checks_the_password_exactly_as_typed(client):
    make_user(handle="spacey", password="  spaces around it  ")
    client.submit("/login", {"email": "spacey@example.com", "password": "spaces around it"})
    assert not is_signed_in(client)
    client.submit("/login", {"email": "spacey@example.com", "password": "  spaces around it  "})
    assert is_signed_in(client)


def test_it_answers_a_wrong_password_and_an_unknown_email_identically(client, alice):
    wrong = client.submit("/login", {"email": "alice@example.com", "password": "wrong password!"})
    unknown = client.submit(
        "/login", {"email": "nobody@example.com", "password": "wrong password!"}
    )
    assert wrong.status_code == unknown.status_code == 400
    assert "do not match an account" in wrong.get_data(as_text=True)
    assert comparable(wrong, "alice@example.com") == comparable(unknown, "nobody@example.com")
    assert "CSRF" in comparable(wrong, "alice@example.com")
    assert not is_signed_in(client)


def comparable(response, typed_email: str) -> str:
    """The page without what legitimately differs: the typed email and the CSRF token."""
    page = response.get_data(as_text=True).replace(typed_email, "EMAIL")
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "CSRF", page)


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "//evil.example",
        "\\\\evil.example",
        "/\\evil.example",
        "https:evil.example",
        "%2F%2Fevil.example",
        "javascript:alert(1)",
        "http://127.0.0.1:5000@evil.example",
        "/\tevil",
        "/\n//evil.example",
        "evil.example",
    ],
)
def test_it_never_redirects_to_another_site_after_log_in(client, alice, target):
    response = client.submit(
        "/login", {"email": alice.email, "password": PASSWORD}, query_string={"next": target}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_it_returns_to_a_page_on_this_site_after_log_in(client, alice):
    response = client.submit(
        "/login",
        {"email": alice.email, "password": PASSWORD},
        query_string={"next": "/settings#password"},
    )
    assert response.headers["Location"] == "/settings#password"


def test_it_sends_visitors_to_log_in_and_back(client, alice):
    response = client.get("/settings")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    follow = client.submit(
        "/login", {"email": alice.email, "password": PASSWORD}, query_string={"next": "/settings"}
    )
    assert follow.headers["Location"] == "/settings"


def test_it_starts_a_fresh_session_at_log_in(client, alice):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    client.submit("/login", {"email": alice.email, "password": PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"].startswith(alice.get_id() + ":")


def test_it_keeps_the_email_when_the_log_in_page_had_expired(client, alice):
    response = client.post(
        "/login", data={"email": alice.email, "password": PASSWORD, "csrf_token": "stale"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Enter your password again." in page
    assert f'value="{alice.email}"' in page and PASSWORD not in page
    assert not is_signed_in(client)


def test_it_says_when_a_log_in_came_without_the_sites_cookie(app, alice):
    """A browser that keeps no cookie for the site (blocked, or a Secure cookie over
    http://) fails every log-in: "open too long" would send its owner round in circles."""
    cookieless = app.test_client(use_cookies=False)
    page = cookieless.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    response = cookieless.post(
        "/login", data={"email": alice.email, "password": PASSWORD, "csrf_token": token}
    )

    assert response.status_code == 400
    assert "or your browser keeps no cookies for this site" in response.text


def test_it_upgrades_an_outdated_password_hash_at_log_in(client):
    user = make_user(handle="oldhash")
    user.password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    db.session.commit()
    client.submit("/login", {"email": user.email, "password": PASSWORD})
    db.session.refresh(user)
    assert user.password_hash.startswith("scrypt:")
    assert user.check_password(PASSWORD)


def test_it_sets_a_remember_cookie_only_when_asked(client, alice, app):
    name = app.config["REMEMBER_COOKIE_NAME"]
    client.submit("/login", {"email": alice.email, "password": PASSWORD})
    assert client.get_cookie(name) is None
    client.post("/logout", data={"csrf_token": client.csrf_token()})
    client.submit("/login", {"email": alice.email, "password": PASSWORD, "remember": "y"})
    assert client.get_cookie(name) is not None


def test_it_restores_a_session_from_the_remember_cookie(app, client, alice):
    name = app.config["REMEMBER_COOKIE_NAME"]
    client.submit("/login", {"email": alice.email, "password": PASSWORD, "remember": "y"})
    remember = client.get_cookie(name).value
    other = app.test_client()
    other.set_cookie(name, remember)
    assert is_signed_in(other)


@pytest.fixture
def later(monkeypatch):
    """Move the clock the session loader reads forward by some days."""

    def move(days: int) -> None:
        moved = utcnow() + timedelta(days=days)
        monkeypatch.setattr(accounts, "utcnow", lambda: moved)

    return move


def test_it_ends_a_log_in_30_days_after_it_began_however_often_it_is_used(client, alice, later):
    client.submit("/login", {"email": alice.email, "password": PASSWORD})
    later(29)
    assert is_signed_in(client)  # used on day 29: the cookie is signed afresh
    later(31)
    assert not is_signed_in(client)


def test_it_refuses_a_remember_cookie_from_a_log_in_over_30_days_old(app, client, alice, later):
    name = app.config["REMEMBER_COOKIE_NAME"]
    client.submit("/login", {"email": alice.email, "password": PASSWORD, "remember": "y"})
    stolen = client.get_cookie(name).value
    replay = app.test_client()
    replay.set_cookie(name, stolen)
    later(31)
    assert not is_signed_in(replay)


def test_it_refuses_a_session_that_names_no_log_in_time(client, alice):
    with client.session_transaction() as session:
        session["_user_id"] = alice.get_id()  # as written before log-ins carried their time
    assert not is_signed_in(client)


# --- Log-out ----------------------------------------------------------------------------


def test_it_logs_out_only_by_post(client, alice):
    login(client, alice)
    assert client.get("/logout").status_code == 405
    assert is_signed_in(client)


def test_it_makes_a_copied_session_cookie_useless_after_log_out(app, client, alice):
    client.submit("/login", {"email": alice.email, "password": PASSWORD})
    stolen = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    client.post("/logout", data={"csrf_token": client.csrf_token()})
    replay = app.test_client()
    replay.set_cookie(app.config["SESSION_COOKIE_NAME"], stolen)
    assert not is_signed_in(replay)


def test_it_makes_a_copied_remember_cookie_useless_after_log_out(app, client, alice):
    name = app.config["REMEMBER_COOKIE_NAME"]
    client.submit("/login", {"email": alice.email, "password": PASSWORD, "remember": "y"})
    stolen = client.get_cookie(name).value
    client.post("/logout", data={"csrf_token": client.csrf_token()})
    replay = app.test_client()
    replay.set_cookie(name, stolen)
    assert not is_signed_in(replay)


def test_it_says_that_log_out_ends_every_session(app, client, alice):
    login(client, alice)
    elsewhere = app.test_client()
    login(elsewhere, alice)

    page = client.submit("/logout", follow_redirects=True).get_data(as_text=True)

    assert "logged out, here and on every other device" in page
    assert not is_signed_in(elsewhere)


def test_it_lets_a_frozen_account_log_out(client, bob):
    login(client, bob)
    response = client.submit("/logout")
    assert response.status_code == 303
    assert not is_signed_in(client)


# --- Password reset ---------------------------------------------------------------------


def ask_reset(client, email: str):
    return client.submit("/reset", {"email": email})


def test_it_answers_reset_requests_identically_for_known_and_unknown_emails(client, alice):
    known = ask_reset(client, "alice@example.com")
    unknown = ask_reset(client, "nobody@example.com")
    assert (known.status_code, known.headers["Location"], known.get_data()) == (
        unknown.status_code,
        unknown.headers["Location"],
        unknown.get_data(),
    )


def test_it_mails_a_reset_link_only_to_an_existing_account(client, alice, outbox):
    ask_reset(client, "nobody@example.com")
    assert read_outbox(outbox) == []
    ask_reset(client, "ALICE@example.com")
    assert len(messages_to(outbox, "alice@example.com")) == 1


def test_it_builds_reset_links_from_the_configured_site_not_the_host_header(app, alice, outbox):
    with app.test_request_context("/reset", method="POST", headers={"Host": "evil.example"}):
        accounts.send_password_reset(alice.email)
    (message,) = read_outbox(outbox)
    assert "http://127.0.0.1:5000/reset/" in message
    assert "evil.example" not in message


def test_it_resets_the_password_and_signs_in_on_a_fresh_session(client, alice, outbox):
    ask_reset(client, alice.email)
    link = last_link(outbox, "/reset/")
    assert client.get(link).headers["Referrer-Policy"] == "no-referrer"
    response = client.submit(link, {"password": NEW_PASSWORD})
    assert response.status_code == 303
    db.session.refresh(alice)
    assert alice.check_password(NEW_PASSWORD)
    assert is_signed_in(client)


def test_it_tells_the_owner_their_password_was_reset(client, alice, outbox):
    ask_reset(client, alice.email)
    client.submit(last_link(outbox, "/reset/"), {"password": NEW_PASSWORD})
    (notice,) = [m for m in messages_to(outbox, alice.email) if "password was changed" in m]
    assert "If you did not change it" in notice and "http://127.0.0.1:5000/reset " in notice


def test_it_signs_out_every_other_session_on_reset(app, client, alice, outbox):
    other = app.test_client()
    other.submit("/login", {"email": alice.email, "password": PASSWORD, "remember": "y"})
    ask_reset(client, alice.email)
    client.submit(last_link(outbox, "/reset/"), {"password": NEW_PASSWORD})
    assert not is_signed_in(other)


def test_it_refuses_a_reset_link_used_twice(client, alice, outbox):
    ask_reset(client, alice.email)
    link = last_link(outbox, "/reset/")
    client.submit(link, {"password": NEW_PASSWORD})
    again = client.submit(link, {"password": "yet another passphrase"})
    assert again.status_code == 400
    db.session.refresh(alice)
    assert alice.check_password(NEW_PASSWORD)


def test_it_refuses_an_expired_reset_link(client, alice):
    token = tokens.issue(tokens.RESET_PASSWORD, alice, now=utcnow() - timedelta(minutes=61))
    response = client.submit(f"/reset/{token}", {"password": NEW_PASSWORD})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    db.session.refresh(alice)
    assert alice.check_password(PASSWORD)


def test_it_kills_reset_links_when_the_password_changes(client, alice):
    token = tokens.issue(tokens.RESET_PASSWORD, alice)
    alice.set_password("changed some other way")
    db.session.commit()
    response = client.get(f"/reset/{token}")
    assert response.status_code == 400


def test_it_kills_reset_links_when_the_owner_logs_in_with_the_password(client, alice):
    token = tokens.issue(tokens.RESET_PASSWORD, alice)
    assert client.get(f"/reset/{token}").status_code == 200
    client.submit("/login", {"email": alice.email, "password": PASSWORD})
    client.submit("/logout")
    response = client.submit(f"/reset/{token}", {"password": NEW_PASSWORD})
    assert response.status_code == 400
    assert "no longer valid" in response.get_data(as_text=True)
    db.session.refresh(alice)
    assert alice.check_password(PASSWORD)


def test_it_refuses_the_accounts_own_email_as_the_new_password_on_reset(client, alice):
    token = tokens.issue(tokens.RESET_PASSWORD, alice)
    response = client.submit(f"/reset/{token}", {"password": "alice@example.com"})
    assert response.status_code == 400
    assert "or your email, handle or name" in response.get_data(as_text=True)
    db.session.refresh(alice)
    assert alice.check_password(PASSWORD)


def test_it_refuses_a_weak_new_password_on_reset_and_keeps_the_link_usable(client, alice):
    token = tokens.issue(tokens.RESET_PASSWORD, alice)
    assert client.submit(f"/reset/{token}", {"password": "short"}).status_code == 400
    assert client.submit(f"/reset/{token}", {"password": NEW_PASSWORD}).status_code == 303


def test_it_confirms_the_email_when_a_reset_link_is_used(client, dave):
    token = tokens.issue(tokens.RESET_PASSWORD, dave)
    client.submit(f"/reset/{token}", {"password": NEW_PASSWORD})
    db.session.refresh(dave)
    assert dave.email_confirmed_at is not None


def test_it_writes_nothing_when_a_spent_token_is_replayed(client, alice, outbox):
    ask_reset(client, alice.email)
    link = last_link(outbox, "/reset/")
    client.submit(link, {"password": NEW_PASSWORD})
    before = table_fingerprint()
    client.submit(link, {"password": "yet another passphrase"})
    assert table_fingerprint() == before


def test_it_lets_only_one_of_many_concurrent_uses_of_a_reset_link_win(app, alice):
    token = tokens.issue(tokens.RESET_PASSWORD, alice)

    # Every browser opens the link first, then all submit at once: a browser that opened
    # it after another's submit would only see "already used", which is not the race.
    opened = threading.Barrier(6, timeout=30)

    def use_link(n: int) -> int:
        with httpx.Client() as http:
            page = http.get(url)
            csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
            opened.wait()
            return http.post(
                url, data={"csrf_token": csrf, "password": f"concurrent pass {n}"}
            ).status_code

    with serving(app) as base_url, ThreadPoolExecutor(max_workers=6) as pool:
        url = f"{base_url}/reset/{token}"
        statuses = sorted(pool.map(use_link, range(6)))
    assert statuses.count(303) == 1 and statuses.count(400) == 5, statuses
    db.session.refresh(alice)
    assert sum(alice.check_password(f"concurrent pass {n}") for n in range(6)) == 1


def test_it_forgets_spent_tokens_once_they_have_expired(app, alice):
    token = tokens.issue(tokens.RESET_PASSWORD, alice)
    tokens.spend(tokens.RESET_PASSWORD, token)
    db.session.commit()
    assert tokens.purge_spent(now=utcnow()) == 0
    assert tokens.purge_spent(now=utcnow() + timedelta(hours=2)) == 1


def field_errors(html: str, field_id: str) -> list[str]:
    found = re.search(rf'<ul class="field-errors" id="{field_id}-errors">(.*?)</ul>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", found[1]) if found else []


@pytest.mark.parametrize(
    ("address", "form", "field", "error"),
    [
        ("/signup", signup_data(email="a" * 10_000 + "@x.com"), "email", "at most 254 characters"),
        ("/signup", signup_data(handle=" " * 40), "handle", "Use 3 to 30 characters."),
        ("/login", {"email": "a" * 300, "password": "x"}, "email", "Use at most 254 characters."),
        ("/reset", {"email": "a" * 300}, "email", "Use at most 254 characters."),
    ],
)
def test_a_value_over_its_length_gets_that_one_error_in_words(client, address, form, field, error):
    html = client.submit(address, form).get_data(as_text=True)
    [said] = field_errors(html, field)
    assert error in said
