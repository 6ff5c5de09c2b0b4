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
