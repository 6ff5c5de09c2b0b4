"""``make prod`` (platform/run_local_prod.py): emailed links reach the server it starts."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def runner(tmp_path, monkeypatch):
    """platform/run_local_prod.py as a module, reading ``.env`` from an empty folder."""
    path = PROJECT_ROOT / "platform" / "run_local_prod.py"
    spec = importlib.util.spec_from_file_location("run_local_prod", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "ROOT", tmp_path)
    return module


def test_emailed_links_point_at_the_port_make_prod_serves_on(runner):
    env = runner.launch_env({"PATH": "/usr/bin"}, "8123")
    assert env["BASE_URL"] == "http://127.0.0.1:8123"
    assert env["FLASK_APP"] == "club" and env["PATH"] == "/usr/bin"


def test_a_base_url_that_is_set_is_kept(runner, tmp_path):
    given = runner.launch_env({"BASE_URL": "https://club.example"}, "8123")
    assert given["BASE_URL"] == "https://club.example"
    (tmp_path / ".env").write_text("BASE_URL=https://from-dotenv.example\n")
    # The app reads .env's itself; the runner must not hide it behind its own.
    assert "BASE_URL" not in runner.launch_env({}, "8123")
