"""An account deleted is mailed nothing more: the mail still queued for it is dropped,
and the jobs RQ keeps for days (finished, failed) stop holding its address and words."""

from __future__ import annotations

import pytest
from rq.exceptions import NoSuchJobError
from rq.job import Job

from club import accounts
from club.extensions import db
from tests.conftest import read_outbox
from tests.worker.conftest import work_off
from worker.queues import enqueue


def mail(to: str, subject: str) -> str:
    return enqueue("worker.jobs.send_mail", to, subject, "Body", queue="mail").id


def test_the_mail_queued_for_a_deleted_account_is_dropped_and_forgotten(
    app, fake_redis, alice, erin, outbox
):
    sent = mail("alice@example.com", "Sent before she left")
    work_off(app, fake_redis)  # finished: RQ keeps it, address and text, for a day
    waiting = mail("alice@example.com", "A moderator removed your comment")
    other = mail("erin@example.com", "Welcome")

    accounts.delete_account(alice)
    db.session.commit()
    work_off(app, fake_redis)

    subjects = [line for m in read_outbox(outbox) for line in m.splitlines() if "Subject:" in line]
    assert subjects == ["Subject: Sent before she left", "Subject: Welcome"]
    for job_id in (sent, waiting):
        with pytest.raises(NoSuchJobError):
            Job.fetch(job_id, connection=fake_redis)
    assert Job.fetch(other, connection=fake_redis).args[0] == "erin@example.com"


def test_a_deletion_rolled_back_keeps_the_accounts_mail(app, fake_redis, alice, outbox):
    mail("alice@example.com", "Still a member")

    accounts.delete_account(alice)
    db.session.rollback()
    work_off(app, fake_redis)

    assert len(read_outbox(outbox)) == 1
