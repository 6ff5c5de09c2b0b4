"""``flask --app club worker`` and ``flask --app club scheduler``."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time

import click
import redis
from flask import Flask, current_app
from flask.cli import with_appcontext
from rq import Worker, worker_registration

from club.extensions import db
from worker.queues import QUEUES, REDIS_ERRORS, get_queue
from worker.schedule import ClubCronScheduler

log = logging.getLogger(__name__)

# Billing and mail first: a member waiting on a payment or a reset link matters more
# than a feed fetched a minute later.
DEFAULT_QUEUE_ORDER = ("billing", "mail", "feeds", "default")


class AppContextMixin:
    """Runs every job inside a fresh app context of ``self.app`` (mix into an RQ worker)."""

    app: Flask
    _engine_pid: int = 0

    def perform_job(self, job, queue, *args, **kwargs) -> bool:
        """Run the job in an app context (RQ 2.x and 3.x pass different extra arguments)."""
        with self.app.app_context():
            self.forget_inherited_connections()
            return super().perform_job(job, queue, *args, **kwargs)

    def forget_inherited_connections(self) -> None:
        """Drop database connections copied from the parent by fork, without closing them.

        A forked work horse must never talk over its parent's sockets (SQLAlchemy's pooling
        guide: ``engine.dispose(close=False)`` in the child).
        """
        if os.getpid() == self._engine_pid:
            return
        if self._engine_pid:
            for engine in db.engines.values():
                engine.dispose(close=False)
        self._engine_pid = os.getpid()


class AppWorker(AppContextMixin, Worker):
    """RQ's forking worker (a work horse per job, so a crash or timeout is contained)."""

    def __init__(self, *args, app: Flask, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.app = app
        self._engine_pid = os.getpid()

    def setup_work_horse_signals(self) -> None:
        """Let the work horse ignore SIGTERM as well as SIGINT.

        Heroku, ``docker stop`` and systemd's control-group kill send SIGTERM to every
        process, and RQ's horse dies of it mid-job. The main process's warm shutdown waits
        for the job instead; a cold shutdown (a second signal) still ends it with SIGKILL.
        """
        super().setup_work_horse_signals()
        signal.signal(signal.SIGTERM, signal.SIG_IGN)

    def heartbeat(self, timeout: int | None = None, pipeline=None) -> None:
        """Send RQ's heartbeat, and register this worker again if Redis has forgotten it.

        RQ lists a worker in ``rq:workers`` only at birth, and its heartbeat refreshes just
        the worker's own key: after Redis restarts empty, the jobs page would say that no
        worker runs while this one works on. The worker's loop heartbeats as soon as Redis
        answers again, and before and after each job; the check is one SISMEMBER.
        """
        super().heartbeat(timeout, pipeline)
        if self.is_horse or self.birth_date is None:
            return
        if not self.connection.sismember(self.redis_workers_keys, self.key):
            self.register_again(timeout or self.worker_ttl + 60)

    def register_again(self, ttl: int) -> None:
        """Write this worker's key and registry entries again, as its birth did."""
        log.warning("worker %s: Redis had forgotten this worker; registering it again", self.name)
        with self.connection.pipeline() as pipe:
            pipe.hset(self.key, mapping={**self.serialize(), "state": self.get_state()})
            worker_registration.register(self, pipe)
            pipe.expire(self.key, ttl)
            pipe.execute()


def worker_connection(app: Flask) -> redis.Redis:
    """Return a Redis client for a worker: no socket timeout, since it blocks on the queue.

    Stops with one line when Redis cannot be reached at start-up (the process manager
    restarts the command); once running, the worker and scheduler ride out outages.
    """
    connection = redis.Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=5)
    try:
        connection.ping()
    except REDIS_ERRORS as error:
        where = connection.connection_pool.connection_kwargs
        address = where.get("path") or f"{where.get('host')}:{where.get('port')}"
        raise click.ClickException(f"cannot reach Redis at {address} ({error})") from None
    return connection


def parse_queues(value: str) -> list[str]:
    """Return the queue names in ``value`` (comma separated), refusing unknown ones."""
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in QUEUES]
    if unknown or not names:
        raise click.BadParameter(f"choose from {', '.join(QUEUES)}", param_hint="--queues")
    return names


def require_redis(app: Flask) -> None:
    """Stop with a clear message when no Redis is configured."""
    if not app.config.get("REDIS_URL"):
        raise click.UsageError(
            "REDIS_URL is not set. Without Redis every job runs inline in the web process, "
            "so no worker is needed; set REDIS_URL to run one."
        )


# How a scheduler exits when told to stop (flask scheduler handles both signals and exits 0;
# a Popen code of -N means killed by signal N before it could).
STOPPED_ON_PURPOSE = frozenset({0, -signal.SIGTERM, -signal.SIGINT})


class SchedulerChild:
    """Runs ``flask scheduler`` as a child of this worker, and starts it again if it dies.

    The worker beside it would look healthy while the periodic jobs silently stopped (the
    OOM killer, a crash): with one worker, nothing would queue them until someone noticed.
    A child that keeps dying young is restarted less and less often, up to every
    ``MAX_RESTART_DELAY`` seconds, so a broken set-up does not spin.
    """

    RESTART_DELAY = 1.0
    MAX_RESTART_DELAY = 60.0
    HEALTHY_AFTER = 60.0  # a child that ran this long died of something new: retry soon

    def __init__(self, command: list[str] | None = None) -> None:
        self.command = command or scheduler_command_line()
        self.process: subprocess.Popen | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._watcher = threading.Thread(target=self._watch, name="scheduler-child", daemon=True)

    def start(self) -> SchedulerChild:
        """Start the child and the thread that watches it."""
        self._spawn()
        self._watcher.start()
        return self

    def stop(self) -> None:
        """Stop the child and do not start another."""
        with self._lock:
            self._stopping.set()
            process = self.process
        if process is not None:
            stop_process(process)
        if self._watcher.is_alive():
            self._watcher.join(5)

    def _spawn(self) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            env = dict(os.environ, FLASK_APP=os.environ.get("FLASK_APP", "club"))
            try:
                # Our own interpreter running our own command.
                self.process = subprocess.Popen(self.command, env=env)  # noqa: S603
            except OSError:
                # Out of memory or processes, likely just after the OOM killer struck:
                # the watcher tries again later rather than giving up for good.
                log.exception("could not start the scheduler")
                self.process = None

    def _watch(self) -> None:
        delay = self.RESTART_DELAY
        while not self._stopping.is_set():
            if self.process is not None:
                started = time.monotonic()
                code = self.process.wait()
                if self._stopping.is_set() or code in STOPPED_ON_PURPOSE:
                    # A control-group kill (systemd, docker stop, Ctrl-C) signals the child
                    # with the worker: the worker is stopping too, after its current job.
                    log.info("the scheduler stopped (code %s)", code)
                    return
                lived = time.monotonic() - started
                delay = self.RESTART_DELAY if lived >= self.HEALTHY_AFTER else delay
                log.error(
                    "the scheduler exited (code %s); starting it again in %.0f s", code, delay
                )
            if self._stopping.wait(delay):
                return
            delay = min(delay * 2, self.MAX_RESTART_DELAY)
            self._spawn()


def scheduler_command_line() -> list[str]:
    """``flask scheduler`` for this interpreter, told to exit when this process does."""
    return [sys.executable, "-m", "flask", "scheduler", "--parent-pid", str(os.getpid())]


def stop_process(process: subprocess.Popen, timeout: float = 10) -> None:
    """Ask ``process`` to stop, then insist."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@click.command("worker")
@click.option(
    "--queues",
    default=",".join(DEFAULT_QUEUE_ORDER),
    show_default=True,
    help="Queues to work on, in priority order.",
)
@click.option("--burst", is_flag=True, help="Quit once the queues are empty.")
@click.option(
    "--with-scheduler",
    is_flag=True,
    help="Also run RQ's scheduler (retries, delayed jobs) and the periodic jobs.",
)
@click.option(
    "--name",
    default=None,
    help="Worker name (default: host and pid). Reused after a crash, it is refused until "
    "the dead worker's registration lapses (up to 7 minutes).",
)
@with_appcontext
def worker_command(queues: str, burst: bool, with_scheduler: bool, name: str | None) -> None:
    """Run an RQ worker; SIGTERM finishes the current job, then exits."""
    app = current_app._get_current_object()
    require_redis(app)
    names = parse_queues(queues)
    connection = worker_connection(app)
    worker = AppWorker(
        [get_queue(n, app, connection) for n in names], connection=connection, app=app, name=name
    )
    scheduler = SchedulerChild().start() if with_scheduler and not burst else None
    try:
        worker.work(burst=burst, with_scheduler=with_scheduler, logging_level="INFO")
    finally:
        if scheduler is not None:
            scheduler.stop()


@click.command("scheduler")
@click.option("--parent-pid", type=int, default=None, hidden=True)
@with_appcontext
def scheduler_command(parent_pid: int | None) -> None:
    """Run the periodic-job scheduler (safe to run several: one acts per period)."""
    app = current_app._get_current_object()
    require_redis(app)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    scheduler = ClubCronScheduler(worker_connection(app))
    log.info("scheduler %s started", scheduler.name)
    scheduler.run_until(stop, parent_pid=parent_pid)
