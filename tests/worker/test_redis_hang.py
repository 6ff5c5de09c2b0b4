"""Redis hanging (it accepts connections and never answers): requests wait a moment, once.

A refused connection fails at once (test_redis_outage.py); a Redis that hangs, behind a
stalled network or stuck on a slow disk, makes every client wait out its socket timeout.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from club import config
from tests.conftest import PASSWORD, read_outbox


@dataclass
class SilentRedis:
    url: str
    held: list[socket.socket]

    @property
    def connections(self) -> int:
        """How many connections clients opened: one per wait, as each gives up on its
        connection when the socket times out."""
        return len(self.held)


@pytest.fixture
def silent_redis() -> Iterator[SilentRedis]:
    """A Redis server that accepts connections and then says nothing."""
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
    yield SilentRedis(f"redis://127.0.0.1:{server.getsockname()[1]}/0", held)
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


@pytest.fixture
def app_config(app_config: dict, silent_redis: SilentRedis) -> dict:
    # The Redis settings as the environment gives them in production.
    from_env = config.load({"REDIS_URL": silent_redis.url, "SECRET_KEY": "x" * 32})
    redis_keys = ("REDIS_URL", "RATELIMIT_STORAGE_URI", "RATELIMIT_STORAGE_OPTIONS")
    app_config.update({key: from_env[key] for key in redis_keys})
    app_config.update(RATELIMIT_ENABLED=True, RQ_ASYNC=True)
    return app_config


def timed(request) -> float:
    started = time.monotonic()
    request()
    return time.monotonic() - started


# Each wait is a connection the silent server accepts (a client gives its connection up
# when the socket times out), so they are counted. Their length is socket timeouts,
# wall-clock time that a slow machine does not stretch, measured beyond the request's
# own work (the same request once nothing waits), which it does. The page is drawn once
# first, so the first request's one-off work (templates compiled) is not counted as waiting.


def test_it_stops_waiting_on_a_silent_redis_after_a_moment(client, alice, outbox, silent_redis):
    def ask_for_a_reset():
        assert client.submit("/reset", {"email": alice.email}).status_code in (302, 303)

    client.get("/reset")
    first = timed(ask_for_a_reset)
    waits = silent_redis.connections
    then = [timed(ask_for_a_reset) for _ in range(3)]
    work = min(then)

    # The first request finds out: it waits on the limiter's count and its check, then
    # on queueing the mail, about two seconds in all (half a second, half a second, one
    # second), not redis-py's default 5 s per call. Queueing does not ask Redis again for
    # a while, and the limiter only after growing gaps: at most one later request waits.
    assert waits == 3 and first - work < 2.5, (waits, first, then)
    assert silent_redis.connections - waits <= 1, then
    # The reset mails still went, inline.
    assert len([m for m in read_outbox(outbox) if f"To: {alice.email}" in m]) == 4


def test_it_signs_members_in_without_waiting_on_each_request(client, alice, silent_redis):
    def log_in():
        response = client.submit("/login", {"email": alice.email, "password": PASSWORD})
        assert response.status_code == 303

    client.get("/login")
    first = timed(log_in)  # the rate limiter finds Redis silent and falls back to memory
    waits = silent_redis.connections
    then = [timed(log_in) for _ in range(3)]
    work = min(then)

    # Only the rate limiter asks Redis here: its count and its check at first (half a
    # second each), then at most one check again.
    assert waits == 2 and first - work < 1.5, (waits, first, then)
    assert silent_redis.connections - waits <= 1, then
