"""Calls that wait for the commit of the transaction that asked for them."""

from __future__ import annotations

import pytest

from club.extensions import db
from club.models import User
from club.transactions import call_after_commit
from tests.conftest import make_user


@pytest.fixture
def calls() -> list[str]:
    return []


def test_it_calls_only_once_the_transaction_commits(app, calls):
    call_after_commit(calls.append, "committed")
    db.session.flush()
    assert calls == []

    db.session.commit()
    db.session.commit()  # a later commit does not call it again

    assert calls == ["committed"]


@pytest.mark.parametrize("end", ["rollback", "close"])
def test_it_never_calls_when_the_transaction_ends_without_a_commit(app, calls, end):
    call_after_commit(calls.append, "undone")

    getattr(db.session, end)()
    db.session.commit()

    assert calls == []


def test_a_savepoint_rolled_back_takes_its_calls_along(app, calls):
    call_after_commit(calls.append, "outside")
    with pytest.raises(RuntimeError), db.session.begin_nested():
        call_after_commit(calls.append, "inside")
        raise RuntimeError("the savepoint rolls back")

    db.session.commit()

    assert calls == ["outside"]


@pytest.mark.parametrize(("end", "called"), [("commit", ["inside"]), ("rollback", [])])
def test_a_released_savepoint_leaves_its_calls_to_the_outer_transaction(app, calls, end, called):
    with db.session.begin_nested():
        call_after_commit(calls.append, "inside")
    assert calls == []

    getattr(db.session, end)()
    db.session.commit()

    assert calls == called


def test_a_failing_call_is_logged_and_the_commit_stands(app, calls, caplog):
    user = make_user()
    user.display_name = "Kept"

    def fail() -> None:
        raise RuntimeError("Stripe is down")

    call_after_commit(fail)
    call_after_commit(calls.append, "next")
    db.session.commit()

    assert calls == ["next"]
    assert "a call waiting for the commit failed" in caplog.text
    db.session.expire_all()
    assert db.session.get(User, user.id).display_name == "Kept"
