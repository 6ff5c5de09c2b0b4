"""Run the production processes locally: gunicorn (2 workers) and one RQ worker with the scheduler.

``make prod`` runs this against ``DATABASE_URL`` and ``REDIS_URL`` (both required) after
``flask db upgrade``. It serves on 127.0.0.1:$PORT (8000 by default; emailed links point
there unless ``BASE_URL`` is set), prints the processes
it started, and stops them all when one exits or on Ctrl-C / SIGTERM. ``bench/smoke_load.py``
starts it the same way on a free port.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def require(name: str) -> str:
    """Return the variable, or stop with a one-line message."""
    value = os.environ.get(name, "").strip()
    if not value:
        sys.exit(f"{name} must be set: make prod runs the production stack against it.")
    return value


def launch_env(environ: Mapping[str, str], port: str) -> dict[str, str]:
    """The environment the processes start with.

    Emailed links must reach this server: unless ``BASE_URL`` is set (here or in ``.env``),
    they point at it rather than at the app's default port, 5000, as ``make run`` does.
    """
    env = dict(environ, FLASK_APP="club")
    if not environ.get("BASE_URL") and not dotenv_values(ROOT / ".env").get("BASE_URL"):
        env["BASE_URL"] = f"http://127.0.0.1:{port}"
    return env


def commands(port: str) -> dict[str, list[str]]:
    """Return the processes to start, by name."""
    return {
        "web": [
            str(BIN / "gunicorn"),
            "--config",
            str(ROOT / "platform" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            os.environ.get("WEB_CONCURRENCY", "2"),
        ],
        "worker": [str(BIN / "flask"), "--app", "club", "worker", "--with-scheduler"],
    }


def stop_all(processes: dict[str, subprocess.Popen], timeout: float = 30) -> None:
    """SIGTERM every process (gunicorn and RQ shut down gracefully), then wait."""
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + timeout
    for process in processes.values():
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> int:
    """Start the processes and supervise them until one exits or we are told to stop."""
    require("DATABASE_URL")
    require("REDIS_URL")
    port = os.environ.get("PORT", "8000")
    env = launch_env(os.environ, port)
    processes = {
        name: subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 (our own commands)
        for name, command in commands(port).items()
    }
    for name, process in processes.items():
        print(f"started {name} (pid {process.pid})", flush=True)
    print(f"serving on http://127.0.0.1:{port}", flush=True)

    stopping = False

    def request_stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        while not stopping and all(p.poll() is None for p in processes.values()):
            time.sleep(0.2)
    finally:
        stop_all(processes)
    failed = [name for name, p in processes.items() if p.returncode not in (0, -signal.SIGTERM)]
    if failed and not stopping:
        print(f"stopped because {', '.join(failed)} exited", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
