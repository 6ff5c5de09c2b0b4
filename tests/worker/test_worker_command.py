"""``flask --app club worker`` and ``flask --app club scheduler`` as real processes."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.worker.conftest import free_port, output, start_flask, wait_for
from worker import cli
from worker.queues import enqueue

SAMPLE = "tests.worker.sample_jobs"


def test_it_refuses_to_start_a_worker_without_redis(runner, no_redis):
    result = runner.invoke(args=["worker", "--burst"])

    assert result.exit_code == 2
    assert "REDIS_URL is not set" in result.output


@pytest.mark.parametrize("command", [["worker", "--burst"], ["scheduler"]])
def test_it_says_in_one_line_that_redis_cannot_be_reached(app, runner, command):
    port = free_port()
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"

    result = runner.invoke(args=command)

    assert result.exit_code == 1
    assert f"Error: cannot reach Redis at 127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output


def test_it_refuses_an_unknown_queue_name(runner, fake_redis):
    result = runner.invoke(args=["worker", "--queues", "feeds,urgent"])

    assert result.exit_code == 2
    assert "choose from feeds, billing, mail, default" in result.output


@pytest.mark.redis
def test_it_works_off_the_queues_in_an_app_context(app, real_redis, processes, tmp_path):
    marker = tmp_path / "context.txt"
    enqueue(f"{SAMPLE}.describe_context", str(marker), queue="mail")

    worker = start_flask(app, "worker", "--burst")
    processes.append(worker)

    assert worker.wait(60) == 0, output(worker)
    assert marker.read_text() == "club 1"


@pytest.mark.redis
def test_it_finishes_the_current_job_on_sigterm(app, real_redis, processes, tmp_path):
    log = tmp_path / "slow.txt"
    enqueue(f"{SAMPLE}.slow_append", str(log), 2.0)
    worker = start_flask(app, "worker", "--with-scheduler")
    processes.append(worker)
    wait_for(lambda: log.exists() and "started" in log.read_text())

    worker.send_signal(signal.SIGTERM)

    assert worker.wait(30) == 0
    assert log.read_text() == "started\nfinished\n"


def children_of(pid: int) -> list[int]:
    """The pids of ``pid``'s child processes (Linux /proc)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


@pytest.mark.redis
def test_it_finishes_the_current_job_when_every_process_gets_sigterm(
    app, real_redis, processes, tmp_path
):
    log = tmp_path / "slow.txt"
    enqueue(f"{SAMPLE}.slow_append", str(log), 2.0)
    worker = start_flask(app, "worker")
    processes.append(worker)
    wait_for(lambda: log.exists() and "started" in log.read_text())
    horses = children_of(worker.pid)
    assert horses, "the job runs in a work horse"

    for pid in [worker.pid, *horses]:  # as Heroku, `docker stop` or systemd signal them
        os.kill(pid, signal.SIGTERM)

    assert worker.wait(30) == 0, output(worker)
    assert log.read_text() == "started\nfinished\n"


@pytest.mark.redis
def test_it_starts_and_stops_the_scheduler_with_the_worker(app, real_redis, processes):
    schedulers = "rq:cron_schedulers"
    worker = start_flask(app, "worker", "--with-scheduler", "--queues", "default")
    processes.append(worker)
    wait_for(lambda: real_redis.zcard(schedulers) == 1, timeout=30)

    worker.send_signal(signal.SIGTERM)

    assert worker.wait(30) == 0
    wait_for(lambda: real_redis.zcard(schedulers) == 0, timeout=15)


def scheduler_children(pid: int) -> list[int]:
    """The ``flask scheduler`` processes that ``pid`` started."""
    found = []
    for child in children_of(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"\0flask\0scheduler\0" in command:  # not RQ's own scheduler, nor a work horse
            found.append(child)
    return found


def is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.redis
def test_it_does_not_restart_the_scheduler_when_every_process_is_told_to_stop(
    app, real_redis, processes, tmp_path
):
    log = tmp_path / "slow.txt"
    enqueue(f"{SAMPLE}.slow_append", str(log), 3.0)
    worker = start_flask(app, "worker", "--with-scheduler")
    processes.append(worker)
    wait_for(lambda: log.exists() and "started" in log.read_text(), timeout=30)
    wait_for(lambda: len(scheduler_children(worker.pid)) == 1, timeout=30)

    for pid in [worker.pid, *children_of(worker.pid)]:  # systemd's control-group kill
        os.kill(pid, signal.SIGTERM)

    assert worker.wait(30) == 0, output(worker)
    assert "starting it again" not in output(worker)
    assert log.read_text() == "started\nfinished\n"


@pytest.mark.redis
def test_it_starts_the_scheduler_again_when_it_dies(app, real_redis, processes):
    worker = start_flask(app, "worker", "--with-scheduler", "--queues", "default")
    processes.append(worker)
    wait_for(lambda: len(scheduler_children(worker.pid)) == 1, timeout=30)
    [first] = scheduler_children(worker.pid)

    os.kill(first, signal.SIGKILL)  # as the OOM killer would

    wait_for(lambda: scheduler_children(worker.pid) not in ([], [first]), timeout=30)
    [second] = scheduler_children(worker.pid)
    assert "the scheduler exited (code -9); starting it again" in output(worker)

    worker.send_signal(signal.SIGTERM)

    assert worker.wait(30) == 0
    wait_for(lambda: not is_running(second), timeout=15)


def test_the_scheduler_is_started_again_after_a_start_that_failed(monkeypatch):
    # Just after the OOM killer struck, the system may refuse the next process too.
    starts = []
    real_popen = subprocess.Popen

    def popen(command, env=None):
        starts.append(command)
        if len(starts) == 2:
            raise OSError(errno.ENOMEM, "Cannot allocate memory")
        return real_popen(command, env=env)

    monkeypatch.setattr(cli.subprocess, "Popen", popen)
    monkeypatch.setattr(cli.SchedulerChild, "RESTART_DELAY", 0.05)
    crashing = [sys.executable, "-c", "import os; os._exit(1)"]
    child = cli.SchedulerChild(crashing).start()
    try:
        wait_for(lambda: len(starts) >= 4, timeout=20)
    finally:
        child.stop()
    assert not child._watcher.is_alive()


def blocked_clients(connection) -> list[str]:
    """The ids of the connections waiting on a queue in this suite's database."""
    db = str(connection.connection_pool.connection_kwargs.get("db", 0))
    return [
        client["id"]
        for client in connection.client_list()
        if client["db"] == db and client["cmd"] in ("blpop", "blmove")
    ]


def restart_redis_empty(connection) -> None:
    """Do to the workers what a Redis restart does: forget every key and drop the
    connections they wait on (only in this suite's database, which it owns)."""
    connection.flushdb()
    for client_id in blocked_clients(connection):
        connection.client_kill_filter(_id=client_id)


@pytest.mark.redis
def test_a_worker_registers_again_after_redis_restarts_empty(
    app, client, carol, real_redis, processes
):
    from tests.conftest import login

    worker = start_flask(app, "worker", "--queues", "default", "--name", "survivor")
    processes.append(worker)
    wait_for(lambda: blocked_clients(real_redis), timeout=30)

    restart_redis_empty(real_redis)

    wait_for(lambda: real_redis.sismember("rq:workers", "rq:worker:survivor"), timeout=30)
    assert "registering it again" in output(worker)
    login(client, carol)
    page = client.get("/admin/jobs/").get_data(as_text=True)
    assert "survivor — idle" in page and "No worker is running" not in page
