"""Redis hanging (it accepts connections and never answers): requests wait a moment, once.

A refused connection fails at once (test_redis_outage.py); a Redis that hangs, behind a
stalled network or stuck on a slow disk, makes every client wait out its socket timeout.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from club import config
from tests.conftest import PASSWORD, read_outbox


@dataclass
class Connection:
    """One client connection to the silent server, timed from accept to the client's close."""

    opened: float
    closed: float | None = None

    @property
    def wait(self) -> float:
        """How long the client waited on it: it closes its connection when its socket times
        out. Wall-clock socket time, which a slow or busy machine does not stretch."""
        return (self.closed or time.monotonic()) - self.opened


@dataclass
class SilentRedis:
    url: str
    held: list[Connection]

    @property
    def connections(self) -> int:
        """How many connections clients opened: one per wait, as each gives up on its
        connection when the socket times out."""
        return len(self.held)

    def waits(self, since: int = 0) -> list[float]:
        return [connection.wait for connection in self.held[since:]]


def hold_silently(connection: socket.socket, record: Connection) -> None:
    """Read what the client sends, answer nothing, and note when it hangs up."""
    with connection, contextlib.suppress(OSError):
        while connection.recv(4096):
            pass
    record.closed = time.monotonic()


@pytest.fixture
def silent_redis() -> Iterator[SilentRedis]:
    """A Redis server that accepts connections and then says nothing."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[Connection] = []
    sockets: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                connection = server.accept()[0]
            except TimeoutError:
                continue
            record = Connection(opened=time.monotonic())
            sockets.append(connection)
            held.append(record)
            threading.Thread(target=hold_silently, args=(connection, record), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield SilentRedis(f"redis://127.0.0.1:{server.getsockname()[1]}/0", held)
    stop.set()
    thread.join()
    for connection in sockets:
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_RDWR)
    server.close()


@pytest.fixture
def app_config(app_config: dict, silent_redis: SilentRedis) -> dict:
    # The Redis settings as the environment gives them in production.
    from_env = config.load({"REDIS_URL": silent_redis.url, "SECRET_KEY": "x" * 32})
    redis_keys = ("REDIS_URL", "RATELIMIT_STORAGE_URI", "RATELIMIT_STORAGE_OPTIONS")
    app_config.update({key: from_env[key] for key in redis_keys})
    app_config.update(RATELIMIT_ENABLED=True, RQ_ASYNC=True)
    return app_config


# Each wait is a connection the silent server accepts (a client gives its connection up
# when the socket times out), so they are counted, and timed from the server's side: how
# long a request's own work takes depends on the machine and what else it is doing, but
# a socket timeout is wall-clock time.


def test_it_stops_waiting_on_a_silent_redis_after_a_moment(client, alice, outbox, silent_redis):
    def ask_for_a_reset():
        assert client.submit("/reset", {"email": alice.email}).status_code in (302, 303)

    ask_for_a_reset()
    first = silent_redis.waits()
    for _ in range(3):
        ask_for_a_reset()

    # The first request finds out: it waits on the limiter's count and its check, then
    # on queueing the mail, about two seconds in all (half a second, half a second, one
    # second), not redis-py's default 5 s per call. Queueing does not ask Redis again for
    # a while, and the limiter only after growing gaps: at most one later request waits.
    assert len(first) == 3 and sum(first) < 2.5, first
    assert silent_redis.connections - len(first) <= 1, silent_redis.waits()
    # The reset mails still went, inline.
    assert len([m for m in read_outbox(outbox) if f"To: {alice.email}" in m]) == 4


def test_it_signs_members_in_without_waiting_on_each_request(client, alice, silent_redis):
    def log_in():
        response = client.submit("/login", {"email": alice.email, "password": PASSWORD})
        assert response.status_code == 303

    log_in()  # the rate limiter finds Redis silent and falls back to memory
    first = silent_redis.waits()
    for _ in range(3):
        log_in()

    # Only the rate limiter asks Redis here: its count and its check at first (half a
    # second each), then at most one check again.
    assert len(first) == 2 and sum(first) < 1.5, first
    assert silent_redis.connections - len(first) <= 1, silent_redis.waits()
