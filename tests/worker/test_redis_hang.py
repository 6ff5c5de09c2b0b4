"""Redis hanging (it accepts connections and never answers): requests wait a moment, once.

A refused connection fails at once (test_redis_outage.py); a Redis that hangs, behind a
stalled network or stuck on a slow disk, makes every client wait out its socket timeout.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from club import config
from club.extensions import limiter
from tests.conftest import PASSWORD, read_outbox


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A Redis URL whose server accepts connections and then says nothing."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


@pytest.fixture
def app_config(app_config: dict, silent_redis: str) -> dict:
    # The Redis settings as the environment gives them in production.
    from_env = config.load({"REDIS_URL": silent_redis, "SECRET_KEY": "x" * 32})
    redis_keys = ("REDIS_URL", "RATELIMIT_STORAGE_URI", "RATELIMIT_STORAGE_OPTIONS")
    app_config.update({key: from_env[key] for key in redis_keys})
    app_config.update(RATELIMIT_ENABLED=True, RQ_ASYNC=True)
    return app_config


@pytest.fixture(autouse=True)
def limiter_finds_redis_up() -> None:
    # Flask-Limiter keeps "storage down", and when it last checked, on its extension
    # object, which every app in this process shares: each test starts as a web process
    # that has been up a while with Redis answering (its private state, set by name).
    limiter._storage_dead = False
    limiter._Limiter__check_backend_count = 0
    limiter._Limiter__last_check_backend = 0.0


def timed(request) -> float:
    started = time.monotonic()
    request()
    return time.monotonic() - started


# The waits below are socket timeouts, wall-clock time that a slow machine does not
# stretch; each is measured beyond the request's own work (the same request once nothing
# waits), which a slow machine does stretch. The page is drawn once first, so the first
# request's one-off work (templates compiled) does not count as waiting.


def test_it_stops_waiting_on_a_silent_redis_after_a_moment(client, alice, outbox):
    def ask_for_a_reset():
        assert client.submit("/reset", {"email": alice.email}).status_code in (302, 303)

    client.get("/reset")
    first = timed(ask_for_a_reset)
    then = [timed(ask_for_a_reset) for _ in range(3)]
    work = min(then)

    # The first request finds out in about two seconds (the limiter's two half-second
    # calls, the queue's one second), not redis-py's default 5 s per call. Queueing does
    # not ask Redis again for a while; the rate limiter checks it again after growing
    # gaps, so at most one later request waits, for half a second.
    assert first - work < 2.5, (first, then)
    assert max(then) - work < 0.9 and sorted(then)[-2] - work < 0.3, then
    # The reset mails still went, inline.
    assert len([m for m in read_outbox(outbox) if f"To: {alice.email}" in m]) == 4


def test_it_signs_members_in_without_waiting_on_each_request(client, alice):
    def log_in():
        response = client.submit("/login", {"email": alice.email, "password": PASSWORD})
        assert response.status_code == 303

    client.get("/login")
    first = timed(log_in)  # the rate limiter finds Redis silent and falls back to memory
    then = [timed(log_in) for _ in range(3)]
    work = min(then)

    # Only the rate limiter asks Redis here: a second at first, at most one half-second
    # check after.
    assert first - work < 1.5, (first, then)
    assert max(then) - work < 0.9 and sorted(then)[-2] - work < 0.3, then
