"""An account deleted is mailed nothing more: the mail still queued for it is dropped,
and the jobs RQ keeps for days (finished, failed) stop holding its address and words."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from club import accounts
from club import mail as club_mail
from club.clock import utcnow
from club.extensions import db
from club.models import MailStop
from tests.conftest import login, read_outbox
from tests.worker.conftest import free_port, work_off
from worker.queues import (
    FAILURE_TTL,
    FailedWhileDown,
    enqueue,
    failed_while_down,
    get_queue,
    hand_over_failures,
    mail_index_key,
    record_failed_job,
)


def mail(to: str, subject: str) -> str:
    return enqueue("worker.jobs.send_mail", to, subject, "Body", queue="mail").id


def failed_mail(to: str, subject: str, at=None) -> FailedWhileDown:
    """A mail that failed in a web process while Redis was down, as ``run_inline`` keeps it."""
    return FailedWhileDown(
        func="worker.jobs.send_mail",
        args=(to, subject, "Words"),
        kwargs={},
        queue="mail",
        description="send_mail",
        error="SMTP down",
        at=at or utcnow(),
    )


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


def test_a_deleted_accounts_pending_address_keeps_its_owners_mail(
    app, fake_redis, alice, erin, outbox
):
    # alice asked to move to erin's address: the change waits there, and erin is told.
    accounts.request_email_change(alice, "erin@example.com")
    accounts.note_email_change_asked(alice, "erin@example.com")
    db.session.commit()
    accounts.send_password_reset("erin@example.com")
    db.session.commit()

    accounts.delete_account(alice)
    db.session.commit()
    work_off(app, fake_redis)

    subjects = [line for m in read_outbox(outbox) for line in m.splitlines() if "Subject:" in line]
    assert len(subjects) == 2 and any("reset" in s.lower() for s in subjects), subjects


def test_a_deletion_reads_only_the_accounts_own_mail_jobs(app, fake_redis, alice, monkeypatch):
    """Not every job Redis holds: purging 500 unconfirmed accounts at once must not read
    the whole queue 500 times (it took minutes)."""
    others = {mail(f"member{n}@example.com", "News") for n in range(20)}
    own = {mail("alice@example.com", "Yours")}
    read: set[str] = set()
    fetch_many = Job.fetch_many

    def recording(job_ids, **options):
        read.update(job_ids)
        return fetch_many(job_ids, **options)

    monkeypatch.setattr(Job, "fetch_many", staticmethod(recording))
    accounts.delete_account(alice)
    db.session.commit()

    assert read == own and not read & others


def test_a_mail_that_failed_while_redis_was_down_is_forgotten_too(app, fake_redis, alice):
    failure = failed_mail("alice@example.com", "A moderator removed your comment")
    job = record_failed_job(fake_redis, failure)  # as the jobs page reports, and re-queues

    accounts.delete_account(alice)
    db.session.commit()

    with pytest.raises(NoSuchJobError):
        Job.fetch(job.id, connection=fake_redis)


def test_mail_to_the_same_mailbox_written_in_capitals_is_forgotten_too(
    app, fake_redis, alice, outbox
):
    # One mailbox, however a caller wrote it: the index finds it, and so must the match.
    mail("Alice@Example.COM ", "Still queued")

    accounts.delete_account(alice)
    db.session.commit()
    work_off(app, fake_redis)

    assert read_outbox(outbox) == []


def let_days_pass(connection, key: str, days: int) -> None:
    """What ``days`` do to a key's time to live (fakeredis keeps no clock of its own)."""
    left = connection.ttl(key) - days * 24 * 60 * 60
    if left > 0:
        connection.expire(key, left)
    else:
        connection.delete(key)


def test_a_failed_mail_queued_again_by_an_admin_days_later_is_still_forgotten(
    app, client, carol, fake_redis, alice, outbox
):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), JOB_RETRY_INTERVALS=(0,))
    failed = mail("alice@example.com", "A moderator removed your comment")
    work_off(app, fake_redis)
    assert Job.fetch(failed, connection=fake_redis).get_status() == JobStatus.FAILED
    # Thirteen days on, the index of her mail is about to lapse; an admin requeues the job,
    # which fails again and is kept another fourteen days.
    fake_redis.expire(mail_index_key("alice@example.com"), 60)
    login(client, carol)
    client.submit(f"/admin/jobs/{failed}/requeue")
    work_off(app, fake_redis)
    let_days_pass(fake_redis, mail_index_key("alice@example.com"), 13)

    accounts.delete_account(alice)
    db.session.commit()

    with pytest.raises(NoSuchJobError):
        Job.fetch(failed, connection=fake_redis)


def test_the_recipient_index_outlives_a_failed_mail_and_its_retries(app, fake_redis, alice):
    mail("alice@example.com", "Welcome")
    assert fake_redis.ttl(mail_index_key("alice@example.com")) > FAILURE_TTL + 60 * 60


def subjects_sent(outbox) -> list[str]:
    return [line for m in read_outbox(outbox) for line in m.splitlines() if "Subject:" in line]


def test_mail_queued_before_a_deletion_redis_missed_is_not_sent(app, fake_redis, alice, outbox):
    """Redis unreachable at the deletion kept the mail queued to the account; it went out
    once Redis was back."""
    mail("alice@example.com", "Queued before she left")
    server = fake_redis.connection_pool.connection_kwargs["server"]
    server.connected = False
    accounts.delete_account(alice)
    db.session.commit()
    server.connected = True
    app.extensions.pop("club_redis_failed_until", None)  # Redis is back

    work_off(app, fake_redis)
    assert subjects_sent(outbox) == []

    mail("alice@example.com", "Welcome back")  # the address signs up again
    work_off(app, fake_redis)
    assert subjects_sent(outbox) == ["Subject: Welcome back"]


def test_a_stop_outlasts_every_mail_job_an_admin_could_requeue(app, alice):
    club_mail.stop_mail_to("alice@example.com")
    kept = timedelta(seconds=FAILURE_TTL)
    assert club_mail.prune_mail_stops(utcnow() + kept) == 0
    assert club_mail.prune_mail_stops(utcnow() + club_mail.MAIL_STOP_KEPT + timedelta(1)) == 1


def test_a_mail_that_failed_while_redis_was_down_stays_unsent_once_its_account_is_gone(
    app, fake_redis, alice, outbox
):
    """Reported to RQ once Redis is back, it is a job made then: requeued, it went."""
    ran_at = utcnow()
    server = fake_redis.connection_pool.connection_kwargs["server"]
    server.connected = False
    accounts.delete_account(alice)
    db.session.commit()
    server.connected = True
    failure = failed_mail("alice@example.com", "Failed before she left", at=ran_at)
    job = record_failed_job(fake_redis, failure)
    get_queue("mail").failed_job_registry.requeue(job.id)  # an admin presses Requeue
    work_off(app, fake_redis)
    assert subjects_sent(outbox) == []


def test_a_mail_failed_in_a_web_process_and_handed_over_after_the_deletion_stays_unsent(
    app, fake_redis, alice, outbox
):
    """Redis was back when the account was deleted, but the failure still sat in a web
    process, to be listed among the failed jobs (and requeued) only later."""
    failed_while_down.append(failed_mail("alice@example.com", "Your receipt"))
    accounts.delete_account(alice)
    db.session.commit()
    hand_over_failures(fake_redis)
    (job_id,) = get_queue("mail").failed_job_registry.get_job_ids()
    get_queue("mail").failed_job_registry.requeue(job_id)
    work_off(app, fake_redis)
    assert subjects_sent(outbox) == []


def test_a_failure_handed_over_late_is_kept_as_long_as_from_when_it_ran(app, fake_redis):
    ran_at = utcnow() - timedelta(days=2)
    failure = failed_mail("a@example.com", "s", at=ran_at)
    job = record_failed_job(fake_redis, failure)
    expires = fake_redis.zscore(get_queue("mail").failed_job_registry.key, job.id)
    assert abs(expires - (ran_at + timedelta(seconds=FAILURE_TTL)).timestamp()) < 60


def test_a_second_deletion_of_an_address_moves_its_stop_on(app, alice):
    """The address signed up again and left again: the stop counts from the last time."""
    club_mail.stop_mail_to("alice@example.com")
    db.session.commit()
    first = db.session.scalar(sa.select(MailStop.created_at))
    club_mail.stop_mail_to("ALICE@example.com")
    db.session.commit()
    db.session.expire_all()
    (moved,) = db.session.scalars(sa.select(MailStop.created_at)).all()
    assert moved > first
