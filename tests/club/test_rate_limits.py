"""Log-in, sign-up and reset are rate-limited, with a 429 page in the site's look (C14)."""

from __future__ import annotations

import threading

import pytest

from club.extensions import limiter
from club.web import wait_in_words
from tests.club.conftest import last_link, messages_to
from tests.conftest import PASSWORD, login, make_user, read_outbox


@pytest.fixture
def app_config(app_config):
    return {**app_config, "RATELIMIT_ENABLED": True}


@pytest.fixture(autouse=True)
def fresh_counters(app):
    # With REDIS_URL set the counters live in Redis and would outlive one test.
    limiter.reset()
    yield
    limiter.reset()


def from_ip(ip: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": ip}}


def test_it_limits_log_in_attempts_from_one_address(client, alice):
    for _ in range(10):
        client.submit(
            "/login", {"email": alice.email, "password": "wrong guess!"}, **from_ip("198.51.100.7")
        )
    response = client.submit(
        "/login", {"email": alice.email, "password": PASSWORD}, **from_ip("198.51.100.7")
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "You are doing that too often" in page and '<a class="brand"' in page
    assert "Retry-After" in response.headers


def test_its_429_page_says_how_long_to_wait(client):
    for _ in range(6):
        response = client.submit("/reset", {"email": "someone@example.com"})
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert 3500 < int(response.headers["Retry-After"]) <= 3601
    assert "Try again in about an hour." in page and "a moment" not in page


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (5, "a minute"),
        (60, "a minute"),
        # A one-minute window's reset time, rounded up to the next whole second.
        (60.4, "a minute"),
        (60.999, "a minute"),
        (61, "about 2 minutes"),
        (120.6, "about 2 minutes"),
        (3470.2, "about 58 minutes"),
        (3600.9, "about an hour"),
        (89 * 60, "about 89 minutes"),
        (2 * 3600 + 1, "about 2 hours"),
        (150 * 60, "about 3 hours"),
        (23 * 3600 + 1, "about 23 hours"),
    ],
)
def test_it_says_a_wait_in_words_never_shorter_than_it_is(seconds, words):
    assert wait_in_words(seconds) == words


def test_it_counts_an_ipv6_clients_whole_64_as_one_address(client, alice):
    for n in range(10):
        guess = {"email": f"x{n}@example.com", "password": "wrong guess!"}
        client.submit("/login", guess, **from_ip(f"2001:db8:1:2::{n + 1:x}"))
    same_64 = client.submit(
        "/login", {"email": alice.email, "password": PASSWORD}, **from_ip("2001:db8:1:2::ffff")
    )
    other_64 = client.submit(
        "/login", {"email": alice.email, "password": PASSWORD}, **from_ip("2001:db8:1:3::1")
    )
    assert (same_64.status_code, other_64.status_code) == (429, 303)


def test_it_does_not_limit_another_address(client, erin):
    for n in range(10):
        client.submit(
            "/login",
            {"email": f"x{n}@example.com", "password": "wrong guess!"},
            **from_ip("198.51.100.7"),
        )
    response = client.submit(
        "/login", {"email": erin.email, "password": PASSWORD}, **from_ip("203.0.113.9")
    )
    assert response.status_code == 303


def test_it_ignores_a_spoofed_forwarded_for_header(client, alice):
    for n in range(10):
        client.submit(
            "/login",
            {"email": alice.email, "password": "wrong guess!"},
            headers={"X-Forwarded-For": f"10.0.0.{n}"},
            **from_ip("198.51.100.7"),
        )
    response = client.submit(
        "/login",
        {"email": alice.email, "password": PASSWORD},
        headers={"X-Forwarded-For": "10.9.9.9"},
        **from_ip("198.51.100.7"),
    )
    assert response.status_code == 429


def test_it_limits_guesses_at_one_account_from_many_addresses(client, alice):
    for n in range(20):
        client.submit(
            "/login", {"email": alice.email, "password": "wrong guess!"}, **from_ip(f"192.0.2.{n}")
        )
    response = client.submit(
        "/login", {"email": alice.email, "password": "wrong guess!"}, **from_ip("192.0.2.200")
    )
    assert response.status_code == 429


def test_it_counts_guesses_at_an_address_however_it_is_spelt(client):
    from tests.conftest import make_user

    make_user(email="j\u00fcrgen@example.com", handle="jurgen")
    spellings = ["j\u00fcrgen@example.com", "ju\u0308rgen@example.com", "J\u00dcRGEN@example.com"]
    for n in range(20):
        guess = {"email": spellings[n % 3], "password": "wrong guess!"}
        client.submit("/login", guess, **from_ip(f"192.0.2.{n}"))
    response = client.submit(
        "/login", {"email": spellings[1], "password": "wrong guess!"}, **from_ip("192.0.2.200")
    )
    assert response.status_code == 429


def test_it_keeps_the_reset_open_for_an_owner_whose_log_in_is_limited(client, alice):
    for _ in range(11):
        client.submit(
            "/login", {"email": alice.email, "password": "wrong guess!"}, **from_ip("198.51.100.7")
        )
    assert (
        client.submit("/reset", {"email": alice.email}, **from_ip("198.51.100.7")).status_code
        == 303
    )


def test_it_keeps_the_way_back_in_open_after_an_attack_on_an_account(client, alice, outbox):
    for n in range(20):  # two addresses: one may only try ten times a minute
        attacker = from_ip(f"203.0.113.{n % 2}")
        client.submit("/login", {"email": alice.email, "password": "wrong guess!"}, **attacker)
    for _ in range(5):
        client.submit("/reset", {"email": alice.email}, **attacker)
    owner = from_ip("198.51.100.44")
    locked = client.submit("/login", {"email": alice.email, "password": PASSWORD}, **owner)
    assert locked.status_code == 429
    assert "reset your password" in locked.get_data(as_text=True)
    assert client.submit("/reset", {"email": alice.email}, **owner).status_code == 303
    # Five mails an hour, whoever asks: the owner opens one the attacker asked for.
    assert len(read_outbox(outbox)) == 5
    link = last_link(outbox, "/reset/")
    response = client.submit(link, {"password": "a brand new passphrase"}, **owner)
    assert response.status_code == 303


def test_it_sends_one_address_five_reset_mails_an_hour_whoever_asks(client, alice, outbox):
    for n in range(8):
        response = client.submit("/reset", {"email": alice.email}, **from_ip(f"192.0.2.{n}"))
        assert response.status_code == 303  # the same answer, mail or not
    assert len(read_outbox(outbox)) == 5


def test_it_tells_an_owner_of_sign_ups_with_their_address_five_times_an_hour(client, alice, outbox):
    for n in range(8):
        attempt = {
            "email": alice.email,
            "display_name": "Someone",
            "handle": f"someone{n}",
            "password": "a long enough password",
        }
        response = client.submit("/signup", attempt, **from_ip(f"192.0.2.{n}"))
        assert response.status_code == 303  # the same answer, mail or not
    assert len(read_outbox(outbox)) == 5


@pytest.mark.parametrize("victim", ["alice@example.com", "nobody.yet@example.com"])
def test_it_sends_one_address_five_email_change_mails_an_hour_whoever_asks(
    app, alice, outbox, victim
):
    # Throwaway accounts, each within its own limit: the cap is the address's.
    answers = []
    for n in range(8):
        browser = app.test_client()
        login(browser, make_user(handle=f"throwaway{n}", confirmed=False))
        data = {"new_email": victim, "password": PASSWORD}
        response = browser.submit("/settings/email", data, **from_ip(f"192.0.2.{n}"))
        answers.append((response.status_code, response.headers["Location"]))
        flashed = browser.get("/settings").get_data(as_text=True)
        assert f"We sent a link to {victim}." in flashed  # the same answer, mail or not
    assert answers == [(303, "/settings")] * 8
    assert len(messages_to(outbox, victim)) == 5


def sign_up_form(n: int, password: str = "a long enough password") -> dict:
    return {
        "email": f"s{n}@example.com",
        "display_name": "Someone",
        "handle": f"someone{n}",
        "password": password,
    }


def test_it_limits_sign_ups_from_one_address(client):
    statuses = [
        client.submit("/signup", sign_up_form(n), **from_ip("198.51.100.8")).status_code
        for n in range(11)
    ]
    assert statuses == [303] * 10 + [429]


def test_a_refused_sign_up_gives_the_form_back_as_typed(client):
    for n in range(10):
        client.submit("/signup", sign_up_form(n), **from_ip("198.51.100.9"))
    typed = {**sign_up_form(99), "display_name": "Ngozi Okafor-Smith"}
    response = client.submit("/signup", typed, **from_ip("198.51.100.9"))
    page = response.get_data(as_text=True)
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert "Too many accounts were created from your network just now" in page
    assert "Try again in about an hour" in page
    for name in ("email", "display_name", "handle"):
        assert f'value="{typed[name]}"' in page
    assert typed["password"] not in page
    assert client.get("/settings").status_code == 302  # no account, not signed in


# Each form limited by the hour: what a refused post sends, what an accepted one sends,
# and how many accepted posts the hour allows. (Password and email change count every
# post: each checks the current password, a guess whoever sends it.)
HOURLY_FORMS = {
    "sign-up": ("/signup", sign_up_form(0, password="password"), sign_up_form(0), 10),
    "reset": ("/reset", {"email": "alice.example.com"}, {"email": "alice@example.com"}, 5),
}


def open_form(app, alice, url: str):
    browser = app.test_client()
    if url.startswith("/settings/"):
        login(browser, alice)
    return lambda data: browser.submit(url, data, **from_ip("198.51.100.8")).status_code


@pytest.mark.parametrize("form", HOURLY_FORMS.values(), ids=HOURLY_FORMS.keys())
def test_a_refused_form_does_not_count_toward_the_hourly_limit(app, alice, form):
    # A weak password or a typo, corrected: the member is not locked out for the hour.
    url, refused, accepted, per_hour = form
    send = open_form(app, alice, url)
    assert [send(refused) for _ in range(per_hour)] == [400] * per_hour
    assert send(accepted) == 303


@pytest.mark.parametrize(
    ("url", "field", "other", "per_hour"),
    [
        ("/settings/password", "current_password", {"new_password": "a brand new passphrase"}, 10),
        ("/settings/email", "password", {"new_email": "alice.new@example.com"}, 5),
    ],
    ids=["password change", "email change"],
)
def test_a_wrong_current_password_counts_toward_the_hourly_limit(
    app, alice, url, field, other, per_hour
):
    # Each is a guess at the password, from a session that may not be its owner's.
    send = open_form(app, alice, url)
    guesses = [send({field: f"guess number {n}", **other}) for n in range(per_hour)]
    assert guesses == [400] * per_hour
    assert send({field: PASSWORD, **other}) == 429


@pytest.mark.parametrize(
    ("url", "field", "other", "per_hour"),
    [
        ("/settings/password", "current_password", {"new_password": "a brand new passphrase"}, 10),
        ("/settings/email", "password", {"new_email": "alice.new@example.com"}, 5),
    ],
    ids=["password change", "email change"],
)
def test_wrong_passwords_sent_at_once_get_no_more_tries(app, alice, url, field, other, per_hour):
    # A limit counted after the answer lets a parallel burst past it; this one counts each
    # guess as it arrives.
    browsers = []
    for _ in range(3 * per_hour):
        browser = app.test_client()
        login(browser, alice)
        browsers.append(browser)
    answers: list[int] = []
    barrier = threading.Barrier(len(browsers), timeout=10)

    def guess(browser, n: int) -> None:
        data = {field: f"guess number {n}", **other, "csrf_token": browser.csrf_token()}
        barrier.wait()
        answers.append(browser.post(url, data=data).status_code)

    threads = [threading.Thread(target=guess, args=(b, n)) for n, b in enumerate(browsers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert answers.count(400) == per_hour and answers.count(429) == 2 * per_hour


@pytest.mark.parametrize("form", HOURLY_FORMS.values(), ids=HOURLY_FORMS.keys())
def test_every_post_of_a_form_counts_toward_a_ceiling(app, alice, form):
    # The hourly limit is counted after its answer, so a burst passes its check; the
    # ceiling counts each post as it arrives.
    url, refused, _, per_hour = form
    send = open_form(app, alice, url)
    statuses = [send(refused) for _ in range(3 * per_hour + 1)]
    assert statuses == [400] * 3 * per_hour + [429]


def test_it_limits_reset_requests(client):
    for _ in range(5):
        client.submit("/reset", {"email": "someone@example.com"}, **from_ip("198.51.100.9"))
    assert (
        client.submit(
            "/reset", {"email": "someone@example.com"}, **from_ip("198.51.100.9")
        ).status_code
        == 429
    )


def test_it_does_not_count_page_views(client):
    for _ in range(15):
        assert client.get("/login", **from_ip("198.51.100.10")).status_code == 200


def test_it_keeps_a_settings_limit_across_a_new_log_in(client, alice, outbox):
    def change_email(n: int):
        data = {"new_email": f"someone{n}@elsewhere.example", "password": PASSWORD}
        return client.submit("/settings/email", data)

    def log_in_again():
        client.submit("/logout")
        client.submit("/login", {"email": alice.email, "password": PASSWORD})

    log_in_again()
    assert [change_email(n).status_code for n in range(5)] == [303] * 5
    log_in_again()  # a new session token, the same account
    assert change_email(5).status_code == 429
    assert len(read_outbox(outbox)) == 5


def test_a_refused_settings_form_comes_back_as_typed(client, alice, outbox):
    login(client, alice)
    for n in range(5):
        client.submit(
            "/settings/email", {"new_email": f"s{n}@elsewhere.example", "password": PASSWORD}
        )
    typed = {"new_email": "alice.at.work@elsewhere.example", "password": PASSWORD}
    response = client.submit("/settings/email", typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert "You have asked to change your email too often, so nothing was done." in page
    assert "Try again in about an hour." in page
    assert 'value="alice.at.work@elsewhere.example"' in page and PASSWORD not in page
    assert len(read_outbox(outbox)) == 5


def test_a_refused_download_says_so_on_the_settings_page(client, alice):
    login(client, alice)
    for _ in range(10):
        assert client.submit("/settings/export").status_code == 200
    response = client.submit("/settings/export")
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "You have downloaded your data too often, so nothing was done." in page
    assert 'id="export"' in page  # the settings page, not a dead end


def test_it_still_sends_a_reset_mail_when_the_counters_store_fails(
    client, alice, outbox, monkeypatch
):
    def store_down(*args, **kwargs):
        raise ConnectionError("the rate-limit store is unreachable")

    monkeypatch.setattr(limiter.limiter, "hit", store_down)
    assert client.submit("/reset", {"email": alice.email}).status_code == 303
    assert len(read_outbox(outbox)) == 1


def test_members_behind_one_address_do_not_lock_each_other_out(app, client):
    # An office, campus or mobile network: one public address, many members (F4).
    members = [make_user(handle=f"campus{n}") for n in range(12)]
    statuses = [
        app.test_client()
        .submit("/login", {"email": m.email, "password": PASSWORD}, **from_ip("198.51.100.50"))
        .status_code
        for m in members
    ]
    assert statuses == [303] * 12
    guess = {"email": "x@example.com", "password": "wrong guess!"}
    wrong = [
        client.submit("/login", guess, **from_ip("198.51.100.50")).status_code for _ in range(11)
    ]
    assert wrong == [400] * 10 + [429]  # failures are still counted, from this address


def test_every_attempt_at_one_account_counts_toward_a_ceiling(app, alice):
    # Failures are counted after their answer, so parallel guesses could overshoot the
    # failure limits; the ceiling counts every attempt, even a right password.
    statuses = []
    for n in range(41):
        browser = app.test_client()  # a new client and address each time
        answer = browser.submit(
            "/login", {"email": alice.email, "password": PASSWORD}, **from_ip(f"198.51.100.{n}")
        )
        statuses.append(answer.status_code)
    assert statuses == [303] * 40 + [429]


def test_a_burst_of_parallel_guesses_from_one_address_meets_a_ceiling(app):
    # Sent together, wrong passwords all pass the failures-only limit's check before any
    # is counted; every attempt counts toward the address's ceiling as it arrives.
    clients = [app.test_client() for _ in range(40)]
    tokens = [browser.csrf_token() for browser in clients]
    start = threading.Barrier(len(clients))
    statuses = [0] * len(clients)

    def guess(n: int) -> None:
        with app.app_context():
            start.wait()
            statuses[n] = (
                clients[n]
                .post(
                    "/login",
                    data={
                        "csrf_token": tokens[n],
                        "email": f"victim{n}@example.com",
                        "password": "wrong guess!",
                    },
                    **from_ip("203.0.113.9"),
                )
                .status_code
            )

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count(400) <= 30 and statuses.count(429) >= 10


def test_an_email_change_sent_without_the_password_does_not_use_up_the_hour(client, alice):
    """It guesses nothing and mails no one: a member who forgot to type the password five
    times can still change their email with it."""
    login(client, alice)
    for n in range(6):
        forgot = {"new_email": f"s{n}@elsewhere.example", "password": ""}
        assert client.submit("/settings/email", forgot).status_code == 400
    typed = {"new_email": "alice.at.work@elsewhere.example", "password": PASSWORD}
    assert client.submit("/settings/email", typed).status_code == 303
