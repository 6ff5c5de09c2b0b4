"""The audit log says what each moderation row was about, and which freeze was lifted.

Found by the moderation walk-through of 2026-11-26: rows about comments named only
"comment 12", "Freeze lifted" had no detail, and unhiding an article read as approving it.
"""

from __future__ import annotations

import sqlalchemy as sa

from club import membership
from club.extensions import db
from club.models import AuditEntry
from tests.community.conftest import add_comment
from tests.community.test_moderation import reported_by, reporters
from tests.conftest import login, make_article


def audit_page(client, admin) -> str:
    login(client, admin)
    return client.get("/admin/audit").get_data(as_text=True)


def test_a_row_about_a_comment_names_its_author_article_and_first_words(
    client, article, alice, carol
):
    comment = add_comment(article, alice, "Buy my supplements " + "now " * 40)
    reported_by(client, comment, reporters(3))

    page = audit_page(client, carol)

    assert f"by @alice on “{article.title}”: “Buy my supplements now" in page
    assert "now now now now now now now now now now now now now now now now now now" not in page


def test_the_note_is_read_when_shown_so_a_deleted_account_leaves_no_name_behind(
    client, article, alice, carol
):
    comment = add_comment(article, alice, "Something I said")
    reported_by(client, comment, reporters(3))
    login(client, alice)
    client.submit("/settings/delete", {"password": "correct horse battery", "confirm": "alice"})

    page = audit_page(client, carol)

    # The comment waits for a moderator as it was reported (account deletion keeps it),
    # but the name is gone, and the log itself never held the words.
    assert "by a deleted account on" in page and "@alice" not in page
    stored = " ".join(db.session.scalars(sa.select(AuditEntry.detail)))
    assert "Something I said" not in stored


def test_lifting_a_freeze_records_which_freeze_it_was(client, alice, carol):
    membership.freeze(alice, by=carol, reason="Spam links")
    db.session.commit()
    login(client, carol)

    client.submit(f"/admin/users/{alice.id}/unfreeze")

    detail = db.session.scalar(
        sa.select(AuditEntry.detail).where(AuditEntry.action == "user.unfreeze")
    )
    assert detail.startswith("freeze of ") and detail.endswith(": Spam links")


def test_showing_a_hidden_article_again_is_logged_as_such(client, carol):
    article = make_article(status="hidden", title="Back again")
    login(client, carol)

    client.submit(f"/admin/articles/{article.id}/approve")

    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Article shown again" in page and "Article approved" not in page
