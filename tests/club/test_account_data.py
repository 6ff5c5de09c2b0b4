"""Your data in settings: the JSON export and deleting the account (#2; C5, C17)."""

from __future__ import annotations

import html
import json
from datetime import timedelta

import sqlalchemy as sa

from club import membership, moderation, signals
from club.clock import utcnow
from club.extensions import db
from club.membership import Reason
from club.models import AuditEntry, CarriedFreeze, User
from tests.conftest import PASSWORD, login, make_user, table_fingerprint

NEW_PASSWORD = "an entirely new passphrase"


def is_signed_in(client) -> bool:
    return client.get("/settings").status_code == 200


# --- Export -----------------------------------------------------------------------------


def test_it_exports_the_account_as_a_json_download(client, frank):
    login(client, frank)
    response = client.submit("/settings/export")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="billionaire-club-frank-'
    )
    data = json.loads(response.get_data())
    assert data["account"]["email"] == "frank@example.com"
    assert data["account"]["handle"] == "frank"
    assert data["standing"]["moderator_freeze"]["reason"] == "Spam in comments"
    assert data["subscription"]["status"] == "active"


def test_it_exports_what_admins_did_to_the_account_without_naming_them(client, frank, carol):
    since = frank.frozen_at
    moderation.lift_freeze(frank, by=carol)  # the freeze is over, its reason is not gone
    membership.set_complimentary(frank, True, by=carol)
    db.session.commit()
    login(client, frank)

    data = json.loads(client.submit("/settings/export").get_data())

    history = [(e["action"], e["detail"]) for e in data["account_history"]]
    assert history == [
        ("Account frozen", "Spam in comments"),
        ("Freeze lifted", f"freeze of {since:%Y-%m-%d}: Spam in comments"),
        ("Complimentary membership granted", ""),
    ]
    assert "carol" not in json.dumps(data["account_history"]).lower()
    assert data["standing"]["moderator_freeze"] is None
    assert data["subscription"]["has_paid_before"] is True


def test_it_never_exports_secrets(client, alice):
    login(client, alice)
    body = client.submit("/settings/export").get_data(as_text=True)
    assert alice.password_hash not in body and alice.session_token not in body


def test_it_includes_what_other_packages_contribute_to_the_export(app, client, alice):
    def contribute(sender, user, **kwargs):
        return {"comments": [{"author": user.handle, "body": "Nice read."}]}

    signals.account_exporting.connect(contribute, app)
    try:
        login(client, alice)
        data = json.loads(client.submit("/settings/export").get_data())
    finally:
        signals.account_exporting.disconnect(contribute, app)
    assert data["comments"] == [{"author": "alice", "body": "Nice read."}]


# --- Deletion ---------------------------------------------------------------------------


def delete(client, password: str = PASSWORD, confirm: str | None = "y"):
    data = {"password": password}
    if confirm:
        data["confirm"] = confirm
    return client.submit("/settings/delete", data)


def test_it_refuses_deletion_with_the_wrong_password(client, alice):
    login(client, alice)
    before = table_fingerprint()
    response = delete(client, password="not my password")
    assert response.status_code == 400
    assert "That is not your password" in response.get_data(as_text=True)
    assert table_fingerprint() == before


def test_it_refuses_deletion_without_the_confirmation_tick(client, alice):
    login(client, alice)
    assert delete(client, confirm=None).status_code == 400
    assert db.session.get(User, alice.id) is not None


def test_it_deletes_the_account_and_signs_out(client, bob):
    login(client, bob)
    user_id = bob.id
    response = delete(client)
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, user_id) is None
    assert not is_signed_in(client)


def test_it_leaves_no_personal_data_behind(client, frank, carol):
    login(client, frank)
    client.submit("/settings/appeal", {"text": "My phone number is 555-0100."})
    delete(client)
    db.session.expire_all()
    dump = repr(table_fingerprint()) + repr(
        [tuple(r) for t in db.metadata.sorted_tables for r in db.session.execute(sa.select(t))]
    )
    for personal in ("frank@example.com", "Frank Frozen", "555-0100"):
        assert personal not in dump


def test_it_keeps_records_the_account_made_without_its_name(client, carol, erin):
    membership.set_complimentary(erin, True, by=carol)
    make_user(handle="dana", display_name="Dana Admin", admin=True)  # carol may go
    db.session.commit()
    login(client, carol)
    delete(client)
    db.session.expire_all()
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "user.comp_grant"))
    assert entry is not None and entry.actor_id is None


def test_it_records_the_deletion_in_the_audit_log(client, alice):
    login(client, alice)
    user_id = alice.id
    delete(client)
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "user.delete"))
    assert entry.target_id == str(user_id)


def test_it_lets_other_packages_clean_up_before_the_account_goes(app, client, alice):
    seen = []

    def on_deleting(sender, user, **kwargs):
        seen.append((user.handle, db.session.get(User, user.id) is not None))

    signals.account_deleting.connect(on_deleting, app)
    try:
        login(client, alice)
        delete(client)
    finally:
        signals.account_deleting.disconnect(on_deleting, app)
    assert seen == [("alice", True)]


def test_it_keeps_everything_when_a_package_blocks_the_deletion(app, client, alice):
    def refuse(sender, user, **kwargs):
        user.bio = "half-deleted"
        raise signals.DeletionBlocked("Stripe could not be reached to cancel your subscription.")

    signals.account_deleting.connect(refuse, app)
    try:
        login(client, alice)
        before = table_fingerprint()
        response = delete(client)
    finally:
        signals.account_deleting.disconnect(refuse, app)
    assert response.status_code == 409
    assert "Stripe could not be reached" in response.get_data(as_text=True)
    assert table_fingerprint() == before


def test_it_keeps_the_sites_only_admin(client, carol):
    login(client, carol)
    before = table_fingerprint()
    response = delete(client)
    assert response.status_code == 409
    assert "you are the site's only admin" in html.unescape(response.text)
    assert "flask --app club users admin EMAIL" in response.text
    assert table_fingerprint() == before


def test_it_lets_an_admin_go_while_another_admin_remains(client, carol):
    make_user(handle="dana", display_name="Dana Admin", admin=True)
    login(client, carol)
    assert delete(client).status_code == 303
    assert db.session.scalar(sa.select(User).where(User.handle == "carol")) is None


def test_it_lets_the_email_sign_up_again_after_deletion(client, alice):
    login(client, alice)
    delete(client)
    response = client.submit(
        "/signup",
        {
            "email": "alice@example.com",
            "display_name": "A",
            "handle": "alice",
            "password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 303
    assert db.session.scalar(sa.select(User).where(User.handle == "alice")) is not None


def sign_up_again(client, email: str, handle: str):
    form = {"email": email, "display_name": "Again", "handle": handle, "password": NEW_PASSWORD}
    assert client.submit("/signup", form).status_code == 303
    return db.session.scalar(sa.select(User).where(User.handle == handle))


def test_it_keeps_a_moderators_freeze_for_an_address_that_signs_up_again(client, frank):
    until = utcnow() + timedelta(days=10)
    frank.frozen_until = until
    db.session.commit()
    login(client, frank)
    delete(client)

    again = sign_up_again(client, "Frank@Example.com", "frank_two")

    standing = membership.standing(again)
    assert standing.reason is Reason.FROZEN_BY_MODERATOR
    assert standing.moderator_reason == "Spam in comments" and again.frozen_until == until
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.target_id == str(again.id)))
    assert entry.action == "user.freeze" and "carried over from a deleted account" in entry.detail
    # The freeze lives on the account again; nothing is left to carry a second time.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CarriedFreeze)) == 0


def test_it_carries_no_freeze_that_ended_or_never_was(client, alice, frank):
    frank.frozen_until = utcnow() + timedelta(days=1)
    db.session.commit()
    for account in (alice, frank):
        login(client, account)
        delete(client)
    stored = db.session.scalar(sa.select(CarriedFreeze))
    stored.until = utcnow() - timedelta(minutes=1)  # frank's freeze has run out meanwhile
    db.session.commit()

    for email, handle in (("alice@example.com", "alice_two"), ("frank@example.com", "frank_two")):
        assert membership.standing(sign_up_again(client, email, handle)).frozen_since is None


def test_it_forgets_carried_freezes_once_they_end(app):
    db.session.add_all(
        [
            CarriedFreeze(email_digest="a" * 64, reason="x", until=utcnow() - timedelta(days=1)),
            CarriedFreeze(email_digest="b" * 64, reason="x", until=utcnow() + timedelta(days=1)),
            CarriedFreeze(email_digest="c" * 64, reason="x", until=None),
        ]
    )
    assert moderation.prune_carried_freezes() == 1


def test_it_lets_a_frozen_account_delete_itself(client, frank):
    login(client, frank)
    assert delete(client).status_code == 303
