"""Fixtures for the worker's tests: Redis three ways (fake, real, and down)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import fakeredis
import pytest
import redis
from flask import Flask
from rq import SimpleWorker

from club.extensions import limiter
from worker.queues import QUEUES, get_queue

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def rate_limiter_finds_redis_up() -> Iterator[None]:
    """Each test starts, and leaves the next, with the rate limiter's storage up.

    Flask-Limiter keeps "storage down", and when it last checked, on its extension
    object, which every app in this process shares: a test against a dead Redis would
    leave it to the next. Its private state, set by name (checked to exist, so a renamed
    attribute fails here rather than making the tests pass vacuously); a long-running
    web process with Redis answering has these values.
    """

    def reset() -> None:
        for name in ("_storage_dead", "_Limiter__check_backend_count"):
            assert hasattr(limiter, name), f"flask-limiter no longer has {name}"
        limiter._storage_dead = False
        limiter._Limiter__check_backend_count = 0
        limiter._Limiter__last_check_backend = 0.0

    reset()
    yield
    reset()


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def use_redis(app: Flask, connection: redis.Redis, url: str, is_async: bool) -> None:
    """Point the app's queues at ``connection``."""
    app.config["REDIS_URL"] = url
    app.config["RQ_ASYNC"] = is_async
    app.extensions["club_redis"] = connection


def skip_unless_ci(variable: str) -> None:
    """Skip a real-service test when ``variable`` is missing; in CI's second pass, fail."""
    message = f"{variable} is missing: real-service tests run in CI's second pass (.ci/run)"
    if os.environ.get("CLUB_CI_REQUIRE_SERVICES"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def no_redis(app: Flask) -> None:
    """Run jobs inline, as the local default does (even in CI's Redis pass)."""
    app.config["REDIS_URL"] = None


@pytest.fixture
def fake_redis(app: Flask) -> redis.Redis:
    """An in-memory Redis (with Lua, which unique jobs need); jobs wait for a worker."""
    connection = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    use_redis(app, connection, "redis://fake.invalid:6379/0", is_async=True)
    return connection


@pytest.fixture
def real_redis_url() -> str:
    """The real Redis from REDIS_URL (CI's second pass), emptied for this test."""
    url = os.environ.get("REDIS_URL")
    if not url:
        skip_unless_ci("REDIS_URL")
    connection = redis.Redis.from_url(url)
    # The suite owns this database index (see .ci/run); start every test from empty.
    connection.flushdb()
    return url


@pytest.fixture
def real_redis(app: Flask, real_redis_url: str) -> redis.Redis:
    """The app's queues on the real Redis; jobs wait for a worker."""
    connection = redis.Redis.from_url(real_redis_url)
    use_redis(app, connection, real_redis_url, is_async=True)
    return connection


@pytest.fixture
def redis_refusing_writes(app: Flask) -> Iterator[str]:
    """A real Redis that answers but refuses every write, as a former primary does after
    a failover: a replica of a primary that is not there (it still answers PING)."""
    binary = shutil.which("redis-server")
    if binary is None:
        skip_unless_ci("a redis-server program")
    port = free_port()
    options = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    server = subprocess.Popen(
        [binary, *options, "--replicaof", "127.0.0.1", str(free_port())],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_for(lambda: _answers(url))
        app.config["REDIS_URL"] = url
        app.config["RQ_ASYNC"] = True
        app.extensions.pop("club_redis", None)
        yield url
    finally:
        server.terminate()
        server.wait(10)


def _answers(url: str) -> bool:
    try:
        return redis.Redis.from_url(url, socket_timeout=1).ping()
    except redis.ConnectionError:
        return False


@pytest.fixture
def redis_down(app: Flask) -> str:
    """Point the app at a port where no Redis listens."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    app.config["REDIS_URL"] = url
    app.config["RQ_ASYNC"] = True
    app.extensions.pop("club_redis", None)
    return url


def work_off(app: Flask, connection: redis.Redis) -> None:
    """Run every queued job to the end in this process, as a worker would."""
    from worker.cli import AppContextMixin

    class InProcessWorker(AppContextMixin, SimpleWorker):
        """The worker's app context, without forking (fakeredis lives in this process)."""

    worker = InProcessWorker(
        [get_queue(name, app, connection) for name in QUEUES], connection=connection
    )
    worker.app = app
    worker.work(burst=True)


def subprocess_env(app: Flask, **extra: str) -> dict[str, str]:
    """Environment for a child process that shares this test's database and Redis."""
    env = dict(os.environ)
    env.update(
        FLASK_APP="club",
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        SECRET_KEY=app.config["SECRET_KEY"],
        BILLING_BACKEND="local",
        PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")])),
    )
    env.pop("STRIPE_SECRET_KEY", None)
    if app.config.get("REDIS_URL"):
        env["REDIS_URL"] = app.config["REDIS_URL"]
    env.update(extra)
    return env


def start_flask(app: Flask, *args: str, **env: str) -> subprocess.Popen:
    """Start ``flask --app club ARGS`` as a child process; ``output(process)`` reads its log."""
    return start_python(app, "-m", "flask", "--app", "club", *args, **env)


def start_gunicorn(app: Flask, port: int, workers: int = 1) -> subprocess.Popen:
    """Start the production web process (``platform/gunicorn.conf.py``) on ``port``."""
    return start_python(
        app,
        "-m",
        "gunicorn",
        "--config",
        "platform/gunicorn.conf.py",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
    )


def start_python(app: Flask, *args: str, **env: str) -> subprocess.Popen:
    """Start ``python ARGS`` in the project with this test's database and Redis."""
    log = tempfile.NamedTemporaryFile(prefix="child-", suffix=".log", delete=False)  # noqa: SIM115
    with log:
        process = subprocess.Popen(
            [sys.executable, *args],
            cwd=PROJECT_ROOT,
            env=subprocess_env(app, **env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    process.log_path = Path(log.name)
    return process


def output(process: subprocess.Popen) -> str:
    """Return what a process started by ``start_flask`` has printed so far."""
    return process.log_path.read_text(errors="replace")


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen]]:
    """Child processes a test starts; each is killed (by its own pid) afterwards."""
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        # SIGTERM first: a worker then stops the scheduler process it started too.
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log_path = getattr(process, "log_path", None)
        if log_path is not None:
            log_path.unlink(missing_ok=True)


def rss_document(count: int, prefix: str = "story") -> bytes:
    """Return an RSS 2.0 feed of ``count`` recent items with distinct GUIDs."""
    from email.utils import format_datetime

    from club.clock import utcnow

    items = "".join(
        f"<item><title>Health story {n}</title>"
        f"<link>https://news.example.com/{prefix}/{n}</link>"
        f"<guid isPermaLink='false'>{prefix}-{n}</guid>"
        f"<pubDate>{format_datetime(utcnow())}</pubDate>"
        f"<description>Summary of story {n}.</description></item>"
        for n in range(count)
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>Fault test feed</title><link>https://news.example.com/</link>{items}"
        "</channel></rss>"
    ).encode()


class FeedServer:
    """A real HTTP server on 127.0.0.1 (free port) serving one feed document."""

    def __init__(self, body: bytes, delay: float = 0.0) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                server.hits += 1
                time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/feed.xml"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """Serves a 20-item feed after a short delay."""
    server = FeedServer(rss_document(20), delay=0.3)
    yield server
    server.close()
