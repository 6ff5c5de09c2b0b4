"""A Redis that answers but refuses writes (catalogue E-series): a former primary after a
failover, one full under noeviction, one that cannot save. No job is queued then, as
when Redis is down, and the site must act as it does then, not answer 500."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from club.extensions import db
from club.models import User
from tests.conftest import read_outbox
from worker.queues import QueueUnavailable, enqueue


def test_mail_is_sent_inline_when_redis_refuses_to_queue_it(app, redis_refusing_writes, outbox):
    handle = enqueue("worker.jobs.send_mail", "a@example.com", "Subject", "Body", queue="mail")
    assert handle.status == "finished"
    assert len(read_outbox(outbox)) == 1


def test_a_refresh_redis_refuses_is_reported_as_not_queued(app, redis_refusing_writes):
    with pytest.raises(QueueUnavailable, match="refuses writes"):
        enqueue("worker.jobs.refresh_feed", 1, queue="feeds")


def test_sign_up_works_and_mails_its_link_while_redis_refuses_writes(
    client, redis_refusing_writes, outbox
):
    form = {
        "email": "newcomer@example.com",
        "display_name": "New Comer",
        "handle": "newcomer",
        "password": "a long enough password",
        "confirm": "a long enough password",
    }
    response = client.submit("/signup", form)
    assert response.status_code == 303
    assert db.session.scalar(sa.select(User).where(User.email == "newcomer@example.com"))
    assert any("newcomer@example.com" in mail for mail in read_outbox(outbox))


def test_the_health_check_reports_a_redis_that_refuses_writes(client, redis_refusing_writes):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["redis"] == "error"
