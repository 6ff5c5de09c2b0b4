"""gunicorn refuses a bad setting at once, in one line, instead of respawning workers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(**env: str) -> subprocess.Popen:
    """Run the production web process with ``env``; it must stop by itself within 20 s."""
    base = {k: v for k, v in os.environ.items() if k not in env}
    path = os.pathsep.join(filter(None, [str(PROJECT_ROOT), base.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "gunicorn", "--config", "platform/gunicorn.conf.py"]
    process = subprocess.Popen(
        [*command, "--bind", f"127.0.0.1:{free_port()}"],
        cwd=PROJECT_ROOT,
        env={**base, "PYTHONPATH": path, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        process.stdout_text, process.stderr_text = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.terminate()  # gunicorn's graceful stop takes its workers with it
        process.communicate(timeout=30)
        raise AssertionError("gunicorn was still running after 20 s") from None
    return process


def errors(done: subprocess.Popen) -> list[str]:
    return done.stderr_text.strip().splitlines()


def test_production_without_a_secret_key_stops_gunicorn_with_one_line():
    done = start_gunicorn(CLUB_ENV="production", SECRET_KEY="")
    assert done.returncode != 0
    assert errors(done) == ["Configuration error: SECRET_KEY must be set when CLUB_ENV=production"]


def test_a_malformed_statement_timeout_stops_gunicorn_with_one_line():
    done = start_gunicorn(DATABASE_STATEMENT_TIMEOUT="abc")
    assert done.returncode != 0
    assert errors(done) == [
        "Configuration error: DATABASE_STATEMENT_TIMEOUT must be a whole number, got 'abc'"
    ]


# Not WEB_CONCURRENCY: gunicorn parses it itself before reading the config file.
@pytest.mark.parametrize(
    "name", ["GUNICORN_THREADS", "GUNICORN_TIMEOUT", "GUNICORN_GRACEFUL_TIMEOUT", "PORT"]
)
def test_a_malformed_gunicorn_setting_stops_it_with_one_line_naming_it(name):
    done = start_gunicorn(**{name: "two"})
    assert done.returncode != 0
    assert errors(done) == [f"Configuration error: {name} must be a whole number, got 'two'"]


def test_gunicorn_refuses_zero_workers():
    done = start_gunicorn(WEB_CONCURRENCY="0")
    assert errors(done) == ["Configuration error: WEB_CONCURRENCY must be at least 1, got 0"]


def read_gunicorn_settings(**env: str) -> subprocess.CompletedProcess:
    """Read platform/gunicorn.conf.py as gunicorn's master does, without serving."""
    unset = {"CLUB_ENV", "SECRET_KEY", "MAIL_SERVER"}  # whatever the shell running the tests set
    base = {k: v for k, v in os.environ.items() if k not in env and k not in unset}
    return subprocess.run(
        [sys.executable, "-c", "import runpy; runpy.run_path('platform/gunicorn.conf.py')"],
        cwd=PROJECT_ROOT,
        env={**base, "PYTHONPATH": str(PROJECT_ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_gunicorn_warns_when_the_site_is_not_in_production_mode():
    """Forgetting CLUB_ENV=production on a public site would otherwise pass without a word."""
    local = read_gunicorn_settings(SECRET_KEY="k" * 40)
    assert local.returncode == 0, local.stderr
    assert local.stderr.startswith(
        "Warning: CLUB_ENV is not production: cookies are not Secure and mail is written to "
        "instance/outbox. Set CLUB_ENV=production"
    )
    generated_key = read_gunicorn_settings(MAIL_SERVER="smtp.example")
    assert generated_key.stderr.startswith(
        "Warning: CLUB_ENV is not production: cookies are not Secure and the secret key is "
        "this machine's own."
    )
    production = read_gunicorn_settings(
        CLUB_ENV="production",
        SECRET_KEY="k" * 40,
        BASE_URL="https://club.example",
        STRIPE_SECRET_KEY="sk_live_x",
        STRIPE_WEBHOOK_SECRET="whsec_x",
        STRIPE_PRICE_ID="price_x",
        MAIL_SERVER="smtp.example",
        MAIL_FROM="Club <no-reply@club.example>",
        REDIS_URL="redis://redis.example:6379/0",
    )
    assert production.returncode == 0, production.stderr
    assert "Warning" not in production.stderr
