"""Admin: members, freezes, complimentary memberships, appeals and the audit log (#2 point 8)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from articles.review import REVIEW_ACTIONS
from club import audit, membership
from club.clock import utcnow
from club.extensions import db
from club.models import Appeal, AuditEntry
from tests.club.conftest import messages_to
from tests.conftest import PASSWORD, login, make_article, make_feed, make_user, table_fingerprint

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def admin_client(client, carol):
    login(client, carol)
    return client


def admin_get_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin") and "GET" in (rule.methods or ()) and not rule.arguments:
            yield rule.rule


def test_it_refuses_every_admin_page_to_a_paying_member(app, client, alice):
    login(client, alice)
    rules = list(admin_get_rules(app))
    assert "/admin/users" in rules and "/admin/audit" in rules
    for rule in rules:
        assert client.get(rule).status_code == 403, rule


def test_it_sends_visitors_from_admin_pages_to_log_in(app, client):
    for rule in admin_get_rules(app):
        response = client.get(rule)
        assert response.status_code == 302 and "/login" in response.headers["Location"], rule


def test_it_refuses_admin_actions_to_a_paying_member(client, alice, erin):
    login(client, alice)
    before = table_fingerprint()
    assert client.submit(f"/admin/users/{erin.id}/complimentary", {"grant": "1"}).status_code == 403
    assert client.submit(f"/admin/users/{erin.id}/freeze", {"reason": "x"}).status_code == 403
    assert table_fingerprint() == before


@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("/admin/", "Dashboard"),
        ("/admin/users", "Members"),
        ("/admin/feeds/new", "Feeds"),
        ("/admin/feeds/", "Feeds"),
        ("/admin/feeds/rules", "Keyword rules"),
    ],
)
def test_it_marks_the_current_page_in_the_admin_navigation(admin_client, path, current):
    page = admin_client.get(path).text
    nav = page.split('aria-label="Admin"', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r'aria-current="page">([^<]+)<', nav) == [current]


def test_it_links_the_account_pages_in_the_admin_navigation(admin_client):
    page = admin_client.get("/admin/").get_data(as_text=True)
    for href in ('href="/admin/users"', 'href="/admin/appeals"', 'href="/admin/audit"'):
        assert href in page


def test_the_dashboard_counts_what_waits_for_an_admin(admin_client, alice, bob):
    from club.community.models import Report
    from tests.community.conftest import add_comment

    article = make_article()
    make_article(status="pending")
    make_article(status="pending")
    make_feed(status="failing")
    reported = add_comment(article, alice, "reported twice")
    for reporter in (bob, make_user()):
        db.session.add(Report(comment_id=reported.id, reporter_id=reporter.id, reason="spam"))
    db.session.commit()

    page = admin_client.get("/admin/").get_data(as_text=True)

    assert "Reports</a>: 1 reported comment waiting for a decision" in page
    assert "Review queue</a>: 2 articles to review" in page
    assert "Feeds</a>: 1 failing" in page
    assert "Appeals</a>: 0 waiting for a decision" in page
    another = add_comment(article, alice, "reported once")
    db.session.add(Report(comment_id=another.id, reporter_id=bob.id, reason="spam"))
    db.session.commit()
    page = admin_client.get("/admin/").get_data(as_text=True)
    assert "Reports</a>: 2 reported comments waiting for a decision" in page


# --- Members ----------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["ERIN@", "eri", "Reader"])
def test_it_finds_members_by_email_handle_or_name(admin_client, alice, erin, query):
    page = admin_client.get("/admin/users", query_string={"q": query}).get_data(as_text=True)
    assert "@erin" in page and "@alice" not in page


@pytest.mark.parametrize("query", ["@erin", "@Eri", " @erin "])
def test_it_finds_a_member_by_the_handle_as_the_site_shows_it(admin_client, alice, erin, query):
    page = admin_client.get("/admin/users", query_string={"q": query}).get_data(as_text=True)
    assert ">@erin</a>" in page and "No account matches" not in page and "@alice" not in page


def test_it_finds_a_member_by_a_name_with_accented_capitals(admin_client, alice):
    make_user(handle="elodie", display_name="ÉLODIE ÖZTÜRK")
    page = admin_client.get("/admin/users", query_string={"q": "élodie öz"}).get_data(as_text=True)
    assert "@elodie" in page and "@alice" not in page


def test_it_treats_wildcards_in_a_search_literally(admin_client, alice, erin):
    page = admin_client.get("/admin/users", query_string={"q": "%"}).get_data(as_text=True)
    assert "No account matches" in page


def test_it_pages_through_members(admin_client):
    for n in range(55):
        make_user(handle=f"member{n:02d}")
    first = admin_client.get("/admin/users").get_data(as_text=True)
    assert "@member54" in first and "@member00" not in first
    assert "Older accounts" in first


def test_it_freezes_a_member_with_a_reason_and_an_end_date(admin_client, alice, carol):
    until = (datetime.now(UTC) + timedelta(days=7)).date()
    response = admin_client.submit(
        f"/admin/users/{alice.id}/freeze", {"reason": "Abusive replies", "until": until.isoformat()}
    )
    assert response.status_code == 303
    db.session.refresh(alice)
    st = membership.standing(alice)
    assert st.reason is membership.Reason.FROZEN_BY_MODERATOR
    assert alice.frozen_until == datetime(until.year, until.month, until.day, tzinfo=UTC)
    assert alice.frozen_by_id == carol.id


def test_it_emails_the_member_why_they_were_frozen(admin_client, alice, outbox):
    admin_client.submit(f"/admin/users/{alice.id}/freeze", {"reason": "Abusive replies"})
    (message,) = messages_to(outbox, alice.email)
    assert "Abusive replies" in message and "/settings" in message
    assert "froze your account with no end date." in message


def test_it_freezes_a_member_indefinitely(admin_client, alice):
    admin_client.submit(f"/admin/users/{alice.id}/freeze", {"reason": "Spam"})
    db.session.refresh(alice)
    assert alice.frozen_at is not None and alice.frozen_until is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": ""}, "Give the member a reason"),
        ({"reason": "   "}, "Give the member a reason"),
        ({"reason": "r" * 501}, "under 500 characters"),
        ({"reason": "\u202eStop posting links"}, "hidden text-direction or control characters"),
        ({"reason": "Spam\x1b[2J"}, "hidden text-direction or control characters"),
        ({"reason": "Spam", "until": "2001-01-01"}, "after today"),
        ({"reason": "Spam", "until": "next tuesday"}, "Not a valid date"),
    ],
)
def test_it_refuses_a_bad_freeze_and_changes_nothing(admin_client, alice, data, message):
    before = table_fingerprint()
    response = admin_client.submit(f"/admin/users/{alice.id}/freeze", data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert table_fingerprint() == before


def test_it_refuses_to_freeze_an_admin(admin_client, carol):
    other = make_user(handle="otheradmin", admin=True)
    response = admin_client.submit(f"/admin/users/{other.id}/freeze", {"reason": "Spam"})
    assert response.status_code == 400
    db.session.refresh(other)
    assert other.frozen_at is None


def test_it_unfreezes_a_member(admin_client, frank):
    assert admin_client.submit(f"/admin/users/{frank.id}/unfreeze").status_code == 303
    db.session.refresh(frank)
    assert membership.standing(frank).can_interact


def test_it_emails_the_member_it_unfreezes(admin_client, frank, outbox):
    admin_client.submit(f"/admin/users/{frank.id}/unfreeze")

    (message,) = messages_to(outbox, "frank@example.com")
    assert "Subject: Your account is no longer frozen" in message
    assert "You can comment, reply and like again." in message


def test_it_tells_an_unfrozen_member_who_never_paid_they_are_still_read_only(
    admin_client, carol, outbox
):
    never_paid = make_user(handle="nopay", display_name="No Pay")
    membership.freeze(never_paid, by=carol, reason="Spam")
    db.session.commit()

    admin_client.submit(f"/admin/users/{never_paid.id}/unfreeze")

    (message,) = messages_to(outbox, never_paid.email)
    assert "still read-only (not subscribed)" in message and "Subscribe in your settings" in message
    assert "like again" not in message


def test_it_writes_nothing_when_unfreezing_a_member_who_is_not_frozen(admin_client, alice, outbox):
    before = table_fingerprint()
    response = admin_client.submit(f"/admin/users/{alice.id}/unfreeze")
    # Back to the member's page by GET: reloading it must not post the form again.
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/users/{alice.id}"
    page = admin_client.get(response.headers["Location"]).text
    assert "is not frozen by a moderator; nothing was changed" in page
    assert table_fingerprint() == before
    assert messages_to(outbox, "alice@example.com") == []


def test_it_offers_a_new_freeze_once_a_dated_freeze_has_ended(admin_client, alice):
    until = (utcnow() + timedelta(days=2)).date().isoformat()
    admin_client.submit(f"/admin/users/{alice.id}/freeze", {"reason": "cool off", "until": until})
    db.session.refresh(alice)
    alice.frozen_until = utcnow() - timedelta(minutes=1)
    db.session.commit()

    page = admin_client.get(f"/admin/users/{alice.id}").text

    assert "can interact" in page and "Frozen since" not in page
    assert f'action="/admin/users/{alice.id}/freeze"' in page
    assert f'action="/admin/users/{alice.id}/unfreeze"' not in page
    assert "An earlier freeze ended" in page and "cool off" in page
    before = table_fingerprint()
    response = admin_client.submit(f"/admin/users/{alice.id}/unfreeze")
    assert "nothing was changed" in admin_client.get(response.headers["Location"]).text
    assert table_fingerprint() == before


@pytest.mark.parametrize(("grant", "expected"), [("1", True), ("0", False)])
def test_it_grants_and_revokes_complimentary_memberships(admin_client, erin, grant, expected):
    if not expected:
        membership.set_complimentary(erin, True, by=None)
        db.session.commit()
    admin_client.submit(f"/admin/users/{erin.id}/complimentary", {"grant": grant})
    db.session.refresh(erin)
    assert membership.standing(erin).can_interact is expected


def test_it_answers_404_for_a_member_that_does_not_exist(admin_client):
    assert admin_client.get("/admin/users/99999").status_code == 404
    assert admin_client.submit("/admin/users/99999/unfreeze").status_code == 404


def test_it_records_every_admin_action_in_the_audit_log(admin_client, alice, carol):
    admin_client.submit(f"/admin/users/{alice.id}/freeze", {"reason": "Spam"})
    admin_client.submit(f"/admin/users/{alice.id}/unfreeze")
    admin_client.submit(f"/admin/users/{alice.id}/complimentary", {"grant": "1"})
    entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.actor_id, e.target_id) for e in entries] == [
        ("user.freeze", carol.id, str(alice.id)),
        ("user.unfreeze", carol.id, str(alice.id)),
        ("user.comp_grant", carol.id, str(alice.id)),
    ]


def test_it_names_each_action_in_words_on_the_member_and_audit_pages(admin_client, alice):
    admin_client.submit(
        f"/admin/users/{alice.id}/freeze", {"reason": "Spam"}, follow_redirects=True
    )

    for url in (f"/admin/users/{alice.id}", "/admin/audit"):
        page = admin_client.get(url).text
        assert "Account frozen" in page and "user.freeze" not in page, url


def test_it_names_accounts_in_the_audit_log_and_links_only_those_that_exist(admin_client, alice):
    gone = make_user(handle="gone")
    for member in (alice, gone):
        admin_client.submit(f"/admin/users/{member.id}/complimentary", {"grant": "1"})
    gone_id = gone.id
    db.session.delete(gone)
    db.session.commit()

    page = admin_client.get("/admin/audit").text

    assert f'<a href="/admin/users/{alice.id}">@alice</a>' in page
    assert f"deleted account {gone_id}" in page
    assert f'href="/admin/users/{gone_id}"' not in page


def test_every_recorded_action_has_words_for_the_admin_pages():
    recorded = {f"article.{action}" for action in REVIEW_ACTIONS}
    for package in ("club", "articles", "billing", "worker"):
        for path in (PROJECT_ROOT / package).rglob("*.py"):
            for line in path.read_text().splitlines():
                if "audit.record(" in line:
                    recorded |= set(re.findall(r'"([a-z]+\.[a-z_]+)"', line))
    assert "user.freeze" in recorded and "article.approve" in recorded
    assert recorded - audit.ACTION_LABELS.keys() == set()


# --- Appeals ----------------------------------------------------------------------------


@pytest.fixture
def appeal(frank) -> Appeal:
    entry = Appeal(user_id=frank.id, freeze_started_at=frank.frozen_at, text="I was hacked.")
    db.session.add(entry)
    db.session.commit()
    return entry


def test_it_lists_open_appeals(admin_client, appeal):
    page = admin_client.get("/admin/appeals").get_data(as_text=True)
    assert "I was hacked." in page and "Spam in comments" in page
    assert ", with no end date: " in page


def test_an_appeal_says_when_its_freeze_ends(admin_client, appeal, frank):
    frank.frozen_until = datetime(2026, 12, 24, 18, 0, tzinfo=UTC)
    db.session.commit()
    page = admin_client.get("/admin/appeals").get_data(as_text=True)
    assert " until 24 December 2026 18:00 UTC: " in page


def test_it_unfreezes_the_member_when_an_appeal_is_accepted(admin_client, appeal, frank):
    response = admin_client.submit(f"/admin/appeals/{appeal.id}/accept", {"reply": ""})
    assert response.status_code == 303
    db.session.refresh(frank)
    db.session.refresh(appeal)
    assert appeal.status == "accepted"
    assert membership.standing(frank).can_interact


def test_it_accepts_an_appeal_against_a_freeze_that_has_since_ended(admin_client, appeal, frank):
    frank.frozen_until = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = admin_client.submit(f"/admin/appeals/{appeal.id}/accept", {"reply": ""})
    assert response.status_code == 303
    db.session.refresh(appeal)
    assert appeal.status == "accepted"
    assert membership.standing(frank).can_interact


def test_an_appeal_against_a_freeze_that_ran_out_cannot_be_rejected_as_if_it_stayed(
    admin_client, appeal, frank, outbox
):
    frank.frozen_until = utcnow() - timedelta(minutes=1)
    db.session.commit()

    listed = admin_client.get("/admin/appeals").get_data(as_text=True)
    response = admin_client.submit(
        f"/admin/appeals/{appeal.id}/reject", {"reply": "Logs show otherwise."}
    )

    assert "I was hacked." not in listed  # nothing left to decide
    assert response.status_code == 303
    db.session.refresh(appeal)
    assert appeal.status == "open"
    assert messages_to(outbox, frank.email) == []  # no "the freeze stays in place"


def test_a_refused_appeal_decision_keeps_the_reply_the_admin_typed(admin_client, appeal):
    reply = "Your messages linked to a shop. " * 70  # over the 2,000 characters allowed

    response = admin_client.submit(f"/admin/appeals/{appeal.id}/reject", {"reply": reply})

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert reply.strip()[:200] in page
    assert "2,000" in page or "2000" in page
    db.session.refresh(appeal)
    assert appeal.status == "open"


def test_it_keeps_the_freeze_and_stores_the_reply_when_an_appeal_is_rejected(
    admin_client, appeal, frank
):
    admin_client.submit(f"/admin/appeals/{appeal.id}/reject", {"reply": "Logs show otherwise."})
    db.session.refresh(appeal)
    assert (appeal.status, appeal.reply) == ("rejected", "Logs show otherwise.")
    assert not membership.standing(frank).can_interact


def test_it_emails_the_member_the_decision_and_the_reply(admin_client, appeal, frank, outbox):
    admin_client.submit(f"/admin/appeals/{appeal.id}/reject", {"reply": "Logs show otherwise."})
    (message,) = messages_to(outbox, frank.email)
    assert "rejected" in message and "Logs show otherwise." in message


def test_it_needs_a_reply_to_reject_an_appeal(admin_client, appeal):
    response = admin_client.submit(f"/admin/appeals/{appeal.id}/reject", {"reply": "  "})
    db.session.refresh(appeal)
    assert appeal.status == "open"
    # Said at the reply field, which is marked invalid, not only at the top of the page.
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    field = page.split(f'id="reply-{appeal.id}"', 1)[0].rsplit("<textarea", 1)[1]
    assert 'aria-invalid="true"' in field
    assert "Write a reply: the member sees it in their settings." in page


def test_it_settles_an_open_appeal_when_the_freeze_is_lifted_directly(admin_client, appeal, frank):
    admin_client.submit(f"/admin/users/{frank.id}/unfreeze")
    db.session.refresh(appeal)
    assert appeal.status == "accepted"
    assert "I was hacked." not in admin_client.get("/admin/appeals").get_data(as_text=True)
    decided = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "appeal.accept")
    )  # as deciding it on the Appeals page would record
    assert decided is not None and decided.target_id == str(frank.id)


def test_it_keeps_an_appeal_open_when_the_freeze_is_amended(admin_client, appeal, frank):
    response = admin_client.submit(
        f"/admin/users/{frank.id}/freeze", {"reason": "Spam in comments, and ban evasion"}
    )
    assert response.status_code == 303
    db.session.refresh(frank)
    assert frank.frozen_reason == "Spam in comments, and ban evasion"
    assert "I was hacked." in admin_client.get("/admin/appeals").get_data(as_text=True)
    assert "Appeals</a>: 1 waiting" in admin_client.get("/admin/").get_data(as_text=True)


def test_it_counts_on_the_dashboard_only_the_appeals_the_queue_lists(admin_client, appeal, frank):
    frank.frozen_until = utcnow() - timedelta(minutes=1)  # that freeze has run out
    db.session.commit()
    admin_client.submit(f"/admin/users/{frank.id}/freeze", {"reason": "Spam again"})
    assert "I was hacked." not in admin_client.get("/admin/appeals").get_data(as_text=True)
    assert "Appeals</a>: 0 waiting" in admin_client.get("/admin/").get_data(as_text=True)


def test_it_decides_an_appeal_only_once(admin_client, appeal, frank):
    admin_client.submit(f"/admin/appeals/{appeal.id}/reject", {"reply": "No."})
    admin_client.submit(f"/admin/appeals/{appeal.id}/accept", {"reply": ""})
    db.session.refresh(appeal)
    assert appeal.status == "rejected"
    db.session.refresh(frank)
    assert frank.frozen_at is not None


# --- Audit log --------------------------------------------------------------------------


def test_it_shows_the_audit_log_newest_first_a_page_at_a_time(admin_client, carol):
    for n in range(60):
        audit.record(carol, f"test.action{n:02d}")
    db.session.commit()
    first = admin_client.get("/admin/audit").get_data(as_text=True)
    assert first.index("test.action59") < first.index("test.action10")
    assert "test.action09" not in first
    oldest_shown = db.session.scalar(
        sa.select(AuditEntry.id).where(AuditEntry.action == "test.action10")
    )
    assert f"/admin/audit?before={oldest_shown}" in first
    second = admin_client.get(f"/admin/audit?before={oldest_shown}").get_data(as_text=True)
    assert "test.action09" in second and "test.action00" in second
    assert "test.action10" not in second
    assert "Older entries" not in second


def test_it_shows_the_verified_badge_next_to_members_in_admin_lists(client, carol, alice, erin):
    login(client, carol)
    page = client.get("/admin/users").get_data(as_text=True)
    alice_row = next(row for row in page.split("<tr") if "@alice" in row)
    erin_row = next(row for row in page.split("<tr") if "@erin" in row)
    assert 'aria-label="Verified member"' in alice_row
    assert 'aria-label="Verified member"' not in erin_row


def test_the_audit_log_names_a_deleted_admin_not_the_system(client, carol):
    dana = make_user(handle="dana", display_name="Dana Admin", admin=True)
    erin = make_user(handle="erin_member")
    login(client, dana)
    client.submit(f"/admin/users/{erin.id}/freeze", {"reason": "Spam"})
    client.submit("/settings/delete", {"password": PASSWORD, "confirm": "y"})
    login(client, carol)

    page = client.get("/admin/audit").get_data(as_text=True)
    history = client.get(f"/admin/users/{erin.id}").get_data(as_text=True)

    row = next(r for r in page.split("<tr>") if "Account frozen" in r)
    assert "@dana (account deleted)" in row and "system" not in row
    assert "by <bdi>@dana (account deleted)</bdi>" in history


def test_the_audit_log_keeps_no_handle_of_a_deleted_member(client, frank):
    login(client, frank)
    client.submit("/settings/appeal", {"text": "I was hacked."})
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "appeal.submit"))
    assert entry is not None and entry.actor_handle == ""  # a person; nothing personal kept


def test_the_dashboard_counts_each_waiting_queue_once(admin_client, count_queries):
    # The menu and the dashboard's lines show the same counts: one count query each, not
    # two (on a busy site each is a scan of the reports, articles or feeds).
    admin_client.get("/admin/")
    with count_queries() as counter:
        page = admin_client.get("/admin/").get_data(as_text=True)

    assert "Appeals</a>: 0 waiting for a decision" in page
    counts = [s for s in counter.statements if s.lstrip().lower().startswith("select count(")]
    assert len(counts) >= 4  # reports, appeals, articles to review, failing feeds
    assert sorted(counts) == sorted(set(counts)), "a count ran twice"


def test_the_admin_menu_shows_what_waits_on_every_admin_page(admin_client, appeal):
    page = admin_client.get("/admin/audit").get_data(as_text=True)
    menu = page.split('aria-label="Admin"', 1)[1].split("</nav>", 1)[0]
    assert (
        '>Appeals<span class="visually-hidden">: </span>'
        '<span class="nav-count" title="1 waiting for a decision">1'
        '<span class="visually-hidden"> waiting for a decision</span></span></a>'
    ) in menu
    assert "Reports<span" not in menu  # nothing waits there


def test_a_members_page_says_a_complimentary_membership_needs_no_subscription(admin_client):
    gifted = make_user(handle="gifted", complimentary=True)
    page = admin_client.get(f"/admin/users/{gifted.id}").get_data(as_text=True)
    assert subscription_row(page) == "Complimentary: nothing to pay"


def subscription_row(page: str) -> str:
    return re.search(r"<dt>Subscription</dt><dd>(.*?)</dd>", page, re.S).group(1)


@pytest.mark.parametrize(
    ("persona", "words"),
    [
        ("alice", "Active"),
        ("bob", "Payment overdue"),
        ("erin", "Not subscribed"),
    ],
)
def test_the_member_page_words_the_subscription_as_their_settings_do(
    admin_client, persona, words, request
):
    member = request.getfixturevalue(persona)
    page = admin_client.get(f"/admin/users/{member.id}").get_data(as_text=True)
    assert subscription_row(page) == words


def test_the_member_page_says_a_subscriber_also_has_a_complimentary_membership(admin_client, alice):
    alice.complimentary = True
    db.session.commit()
    page = admin_client.get(f"/admin/users/{alice.id}").get_data(as_text=True)
    assert subscription_row(page) == (
        "Active (also a complimentary membership: this subscription could be cancelled)"
    )


def test_the_member_page_words_the_appeal_state(admin_client, appeal, frank):
    page = admin_client.get(f"/admin/users/{frank.id}").get_data(as_text=True)
    assert "The member appealed: waiting for a decision." in page
    assert "(open)" not in page


def test_the_member_page_gives_the_date_beside_the_status_as_their_settings_do(admin_client, alice):
    page = admin_client.get(f"/admin/users/{alice.id}").get_data(as_text=True)
    shown = re.search(r"<dt>Subscription</dt><dd>.*?</dd>\s*<dt>([^<]+)</dt><dd>([^<]+)</dd>", page)
    assert shown is not None
    assert shown[2] == alice.subscription_period_end.strftime("%d %B %Y")
