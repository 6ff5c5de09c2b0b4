"""A moderator's decision commits, and its member deletes the account that very moment.

The decision holds the account until it commits; what the request does afterwards (its
answer, the mail to the member) must not need the account again, or the admin gets an
error page for a decision that was made.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from club import accounts
from club.extensions import db
from club.models import Appeal, User
from tests.club.conftest import messages_to
from tests.conftest import login


@pytest.fixture
def admin_client(client, carol):
    login(client, carol)
    return client


@pytest.fixture
def leaves_once_committed(app, monkeypatch):
    """Arm it with an account: the next commit is followed at once by that account's
    deletion, from a session of its own, as its owner's request would. It answers a
    check that the deletion did happen."""
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a failure is a 500 page, as in production

    def arm(user: User) -> Callable[[], bool]:
        user_id, commit = user.id, db.session.commit

        def commit_then_leave() -> None:
            commit()
            monkeypatch.setattr(db.session, "commit", commit)  # once
            with app.app_context():
                accounts.delete_account(db.session.get(User, user_id))
                db.session.commit()

        monkeypatch.setattr(db.session, "commit", commit_then_leave)
        return lambda: db.session.get(User, user_id, populate_existing=True) is None

    return arm


def test_a_freeze_answers_and_mails_when_the_member_leaves_as_it_commits(
    admin_client, alice, outbox, leaves_once_committed
):
    left = leaves_once_committed(alice)
    form = {"reason": "Spam in comments", "until": ""}

    answer = admin_client.submit(f"/admin/users/{alice.id}/freeze", form)

    assert answer.status_code == 303
    assert left()
    (message,) = messages_to(outbox, "alice@example.com")
    assert "Spam in comments" in message


def test_an_unfreeze_answers_and_mails_when_the_member_leaves_as_it_commits(
    admin_client, frank, outbox, leaves_once_committed
):
    left = leaves_once_committed(frank)

    answer = admin_client.submit(f"/admin/users/{frank.id}/unfreeze")

    assert answer.status_code == 303
    assert left()
    (message,) = messages_to(outbox, "frank@example.com")
    assert "Subject: Your account is no longer frozen" in message


def test_a_complimentary_grant_answers_when_the_member_leaves_as_it_commits(
    admin_client, erin, leaves_once_committed
):
    left = leaves_once_committed(erin)

    answer = admin_client.submit(f"/admin/users/{erin.id}/complimentary", {"grant": "1"})

    assert answer.status_code == 303
    assert left()


@pytest.mark.parametrize("decision", ["accept", "reject"])
def test_an_appeal_decision_answers_and_mails_when_the_member_leaves_as_it_commits(
    admin_client, frank, outbox, leaves_once_committed, decision
):
    appeal = Appeal(user_id=frank.id, freeze_started_at=frank.frozen_at, text="I was hacked.")
    db.session.add(appeal)
    db.session.commit()
    left = leaves_once_committed(frank)

    answer = admin_client.submit(
        f"/admin/appeals/{appeal.id}/{decision}", {"reply": "We looked again."}
    )

    assert answer.status_code == 303
    assert left()
    (message,) = messages_to(outbox, "frank@example.com")
    assert f"Subject: Your appeal was {decision}ed" in message
    assert "We looked again." in message


@pytest.mark.parametrize("command", ["freeze", "unfreeze"])
def test_the_command_line_reports_a_decision_the_member_left_right_after(
    app, runner, alice, frank, outbox, leaves_once_committed, command
):
    member = alice if command == "freeze" else frank
    address = member.email
    left = leaves_once_committed(member)
    reason = ["--reason", "Spam in comments"] if command == "freeze" else []

    result = runner.invoke(args=["users", command, address, *reason])

    assert result.exit_code == 0, result.output
    assert address in result.output
    assert left()
    assert len(messages_to(outbox, address)) == 1
