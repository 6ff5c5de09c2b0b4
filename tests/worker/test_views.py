"""/admin/jobs, and what a page says when Redis is down."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from rq.job import Job, JobStatus

from club.extensions import db
from club.models import AuditEntry
from tests.conftest import login
from tests.worker.conftest import work_off
from worker.queues import enqueue, get_queue

SAMPLE = "tests.worker.sample_jobs"


@pytest.fixture
def failed_job(app, fake_redis) -> Job:
    handle = enqueue(f"{SAMPLE}.fail_permanently", queue="feeds")
    work_off(app, fake_redis)
    return Job.fetch(handle.id, connection=fake_redis)


def test_it_shows_a_failed_job_with_its_error(client, carol, failed_job):
    login(client, carol)
    page = client.get("/admin/jobs/").get_data(as_text=True)

    assert "fail_permanently()" in page
    assert "FeedGone: 404 Not Found" in page
    assert f"/admin/jobs/{failed_job.id}/requeue" in page


def test_it_keeps_the_failure_of_a_job_queued_again_under_its_id(client, carol, app, fake_redis):
    failing = dict(queue="billing", job_id="stripe-event-7", unique=True)
    enqueue(f"{SAMPLE}.fail_permanently", **failing)
    work_off(app, fake_redis)
    # The sweeper queues the event again: the failed job under that id makes way.
    enqueue(f"{SAMPLE}.note_tick", **failing)

    login(client, carol)
    page = client.get("/admin/jobs/").get_data(as_text=True)

    earlier = page[page.index("Earlier failures") :]
    assert "fail_permanently()" in earlier and "FeedGone: 404 Not Found" in earlier


def test_it_requeues_a_failed_job(client, carol, failed_job):
    login(client, carol)
    response = client.submit(f"/admin/jobs/{failed_job.id}/requeue")

    assert response.status_code == 303
    assert failed_job.get_status() == JobStatus.QUEUED
    assert get_queue("feeds").job_ids == [failed_job.id]
    assert "queued again" in client.get("/admin/jobs/").get_data(as_text=True)


def test_it_deletes_a_failed_job(client, carol, failed_job, fake_redis):
    login(client, carol)
    client.submit(f"/admin/jobs/{failed_job.id}/delete")

    assert not Job.exists(failed_job.id, connection=fake_redis)
    assert get_queue("feeds").failed_job_registry.count == 0


@pytest.mark.parametrize(
    ("action", "label"), [("requeue", "Failed job queued again"), ("delete", "Failed job deleted")]
)
def test_an_admins_hand_on_a_failed_job_is_in_the_audit_log(
    client, carol, failed_job, action, label
):
    login(client, carol)
    client.submit(f"/admin/jobs/{failed_job.id}/{action}")

    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.actor_id == carol.id))
    assert entry is not None and entry.action == f"job.{action}"
    assert failed_job.id in entry.detail and "fail_permanently" in entry.detail
    assert label in client.get("/admin/audit").get_data(as_text=True)


def test_it_answers_404_for_requeueing_a_job_that_did_not_fail(client, carol, fake_redis):
    handle = enqueue(f"{SAMPLE}.append_line", "/dev/null", "x")
    login(client, carol)

    assert client.submit(f"/admin/jobs/{handle.id}/requeue").status_code == 404


def test_it_shows_queue_lengths_and_the_periodic_jobs(client, carol, fake_redis):
    enqueue(f"{SAMPLE}.append_line", "/dev/null", "x", queue="mail")
    login(client, carol)
    page = client.get("/admin/jobs/").get_data(as_text=True)

    assert "<tr><td>mail</td><td>1</td>" in page
    assert "refresh-due-feeds" in page
    assert "reconcile-billing" in page
    assert "No worker is running" in page


def test_it_refuses_the_jobs_page_to_members(client, alice, fake_redis):
    login(client, alice)

    assert client.get("/admin/jobs/").status_code == 403


def test_it_explains_inline_mode_on_the_jobs_page(client, carol, no_redis):
    login(client, carol)
    page = client.get("/admin/jobs/").get_data(as_text=True)

    assert "jobs run inline" in page


def test_it_says_redis_is_down_on_the_jobs_page(client, carol, redis_down):
    login(client, carol)
    response = client.get("/admin/jobs/")

    assert response.status_code == 503
    assert "Redis cannot be reached" in response.get_data(as_text=True)


@pytest.fixture
def enqueueing_route(app):
    """A form action that must enqueue (like admin "refresh now")."""

    def refresh_now():
        enqueue(f"{SAMPLE}.append_line", "/dev/null", "x", queue="feeds")
        return "queued"

    app.add_url_rule("/__test__/refresh-now", "test_refresh_now", refresh_now, methods=["POST"])


def test_it_shows_a_clear_message_when_an_action_cannot_be_queued(
    client, carol, redis_down, enqueueing_route
):
    login(client, carol)
    response = client.submit(
        "/__test__/refresh-now", headers={"Referer": "http://localhost/admin/"}
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/"
    page = client.get("/admin/").get_data(as_text=True)
    assert "background jobs are unavailable right now" in page


def test_it_answers_json_clients_with_503_when_an_action_cannot_be_queued(
    client, carol, redis_down, enqueueing_route
):
    login(client, carol)
    response = client.submit("/__test__/refresh-now", headers={"Accept": "application/json"})

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "Redis" in response.get_json()["message"]


@pytest.mark.parametrize("referrer", ["https://evil.example/", "http://localhost//evil.example/x"])
def test_it_never_redirects_to_another_site_after_a_queue_outage(
    client, carol, redis_down, enqueueing_route, referrer
):
    login(client, carol)
    response = client.submit("/__test__/refresh-now", headers={"Referer": referrer})

    assert response.headers["Location"] == "/"


@pytest.mark.redis
def test_it_lists_a_running_worker_and_its_job(app, client, carol, real_redis, processes, tmp_path):
    from tests.worker.conftest import start_flask, wait_for

    log = tmp_path / "slow.txt"
    handle = enqueue(f"{SAMPLE}.slow_append", str(log), 3.0)
    worker = start_flask(app, "worker", "--name", "jobs-page-worker")
    processes.append(worker)
    wait_for(lambda: log.exists())
    login(client, carol)

    page = client.get("/admin/jobs/").get_data(as_text=True)

    assert f"jobs-page-worker — busy (running {handle.id})" in page
    assert "slow_append(" in page.split("<h2>Running jobs</h2>")[1].split("<h2>")[0]


@pytest.mark.parametrize("action", ["requeue", "delete"])
def test_it_says_redis_is_down_when_a_failed_jobs_button_is_pressed(
    client, carol, redis_down, action
):
    login(client, carol)
    response = client.submit(f"/admin/jobs/refresh-feed-1/{action}")

    assert response.status_code == 503
    assert "Redis cannot be reached" in response.get_data(as_text=True)
