"""Topics under /admin/topics: the list with counts, rename, merge and delete.

A topic's former address redirects for good to the topic it became; every action is
audited and open to admins only.
"""

from __future__ import annotations

import itertools
import re
import threading

import pytest
import sqlalchemy as sa

from articles import curation
from articles import topics as topic_admin
from articles.models import Article, Feed, Topic, TopicRedirect, article_topics
from club.community.models import TopicFollow
from club.extensions import db
from club.models import AuditEntry
from tests.articles.conftest import action_names
from tests.conftest import (
    is_postgres,
    login,
    make_article,
    make_feed,
    make_user,
    settle,
    table_fingerprint,
)


def make_topic(name: str) -> Topic:
    topic = curation.topic_for(name)
    db.session.commit()
    return topic


def follow(user, topic: Topic) -> None:
    db.session.add(TopicFollow(user_id=user.id, topic_id=topic.id))
    db.session.commit()


def topic_names_of(article_id: int) -> list[str]:
    """The article's topics, one entry per article-topic row (a duplicate would show)."""
    query = (
        sa.select(Topic.name)
        .join(article_topics, article_topics.c.topic_id == Topic.id)
        .where(article_topics.c.article_id == article_id)
        .order_by(Topic.name)
    )
    return list(db.session.scalars(query))


def followed_by(user) -> list[str]:
    query = (
        sa.select(Topic.name)
        .join(TopicFollow, TopicFollow.topic_id == Topic.id)
        .where(TopicFollow.user_id == user.id)
        .order_by(Topic.name)
    )
    return list(db.session.scalars(query))


def topic_exists(topic_id: int) -> bool:
    return db.session.scalar(sa.select(Topic.id).where(Topic.id == topic_id)) is not None


def audited(action: str) -> list[str]:
    query = sa.select(AuditEntry.detail).where(AuditEntry.action == action)
    return list(db.session.scalars(query.order_by(AuditEntry.id)))


# --- Admins only -------------------------------------------------------------------------


@pytest.fixture
def diet(app) -> Topic:
    return make_topic("Diet")


@pytest.mark.parametrize("page", ["/", "/{id}/edit", "/{id}/merge", "/{id}/delete"])
def test_it_refuses_the_topic_pages_to_members(client, alice, diet, page):
    login(client, alice)
    assert client.get("/admin/topics" + page.format(id=diet.id)).status_code == 403


@pytest.mark.parametrize(
    ("action", "form"),
    [("edit", {"name": "Food"}), ("merge", {"into": "{other}"}), ("delete", {})],
)
def test_it_refuses_the_topic_actions_to_members(client, alice, diet, action, form):
    other = make_topic("Sleep")
    form = {k: v.format(other=other.id) for k, v in form.items()}
    before = table_fingerprint()
    login(client, alice)
    assert client.submit(f"/admin/topics/{diet.id}/{action}", form).status_code == 403
    assert table_fingerprint() == before


@pytest.mark.parametrize(
    ("action", "form"),
    [("edit", {"name": "Food"}), ("merge", {"into": "{other}"}), ("delete", {})],
)
def test_it_refuses_a_topic_action_without_its_csrf_token(admin_client, diet, action, form):
    other = make_topic("Sleep")
    form = {k: v.format(other=other.id) for k, v in form.items()}
    before = table_fingerprint()
    response = admin_client.client.post(f"/admin/topics/{diet.id}/{action}", data=form)
    assert response.status_code == 400
    assert table_fingerprint() == before


# --- The list ----------------------------------------------------------------------------


def test_the_admin_navigation_links_the_topics_page(admin_client):
    page = admin_client.get("/admin/feeds/").text
    assert 'href="/admin/topics/"' in page


def test_it_lists_topics_with_their_published_articles_feeds_and_followers(
    admin_client, alice, erin, diet
):
    sleep = make_topic("Sleep")
    make_topic("Walking")
    feed = make_feed(topic=diet)
    make_feed(topic=diet)
    for status in ("published", "published", "pending"):
        make_article(feed, status=status, topics=[diet])
    make_article(status="published", topics=[diet, sleep])
    follow(alice, diet)
    follow(erin, sleep)

    page = admin_client.get("/admin/topics/")

    assert page.status_code == 200
    table = page.text[page.text.index("<table") :]
    assert re.findall(r"<strong>(\w+)</strong>", table) == ["Diet", "Sleep", "Walking"]
    counts = re.findall(r"<td>(\d+)</td>\s*<td>(\d+)</td>\s*<td>(\d+)</td>", table)
    assert counts == [("3", "2", "1"), ("1", "0", "1"), ("0", "0", "0")]
    assert f'href="/admin/topics/{diet.id}/merge"' in page.text


NUMBERS = itertools.count(1)


def add_listed_topics(count: int) -> None:
    user = make_user()
    for _ in range(count):
        topic = make_topic(f"Topic {next(NUMBERS)}")
        make_article(make_feed(topic=topic), topics=[topic])
        follow(user, topic)


def test_it_lists_1_or_20_topics_in_the_same_number_of_queries(admin_client, count_queries):
    def measure(total: int, already: int) -> int:
        add_listed_topics(total - already)
        with count_queries() as counter:
            assert admin_client.get("/admin/topics/").status_code == 200
        return counter.count

    assert measure(1, 0) == measure(20, 1)


# --- Rename ------------------------------------------------------------------------------


def test_it_renames_a_topic_and_redirects_its_old_address_for_good(admin_client, diet):
    article = make_article(topics=[diet])

    response = admin_client.submit(f"/admin/topics/{diet.id}/edit", {"name": " Food  & Drink "})

    assert response.status_code == 302
    assert topic_names_of(article.id) == ["Food & Drink"]
    moved = admin_client.get("/topics/diet")
    assert moved.status_code == 301
    assert moved.headers["Location"] == "/topics/food-drink"
    page = admin_client.get("/topics/food-drink")
    assert page.status_code == 200 and article.title in page.text
    assert audited("topic.rename") == [
        "name: 'Diet' → 'Food & Drink'; address: /topics/diet → /topics/food-drink "
        "(the old one redirects)"
    ]
    log = admin_client.get("/admin/audit").text
    assert "Topic renamed" in log and f'href="/admin/topics/{diet.id}/edit"' in log


def test_the_old_address_keeps_the_pages_place_and_nothing_else(admin_client, diet):
    admin_client.submit(f"/admin/topics/{diet.id}/edit", {"name": "Food"})
    moved = admin_client.get("/topics/diet?before=abc&_external=1&_scheme=javascript")
    assert moved.status_code == 301
    assert moved.headers["Location"] == "/topics/food?before=abc"


def test_a_topic_renamed_twice_answers_at_every_former_address(admin_client, diet):
    admin_client.submit(f"/admin/topics/{diet.id}/edit", {"name": "Food"})
    admin_client.submit(f"/admin/topics/{diet.id}/edit", {"name": "Nutrition"})
    for old in ("diet", "food"):
        assert admin_client.get(f"/topics/{old}").headers["Location"] == "/topics/nutrition"


def test_a_topic_renamed_back_lives_at_its_first_address_again(admin_client, diet):
    admin_client.submit(f"/admin/topics/{diet.id}/edit", {"name": "Food"})
    admin_client.submit(f"/admin/topics/{diet.id}/edit", {"name": "diet"})
    assert admin_client.get("/topics/diet").status_code == 200
    assert admin_client.get("/topics/food").headers["Location"] == "/topics/diet"
    assert db.session.get(Topic, diet.id).name == "diet"


def test_a_reader_who_saw_a_former_address_is_not_looped_when_it_is_renamed_back(
    app, admin_client, diet
):
    """A browser keeps a 301 with no caching rules for good: after Diet → Food → Diet it
    would send /topics/diet on to /topics/food from memory, and the site sends /topics/food
    back to /topics/diet: "too many redirects". The redirect must be asked for each time."""
    reader = app.test_client()
    admin_client.submit(f"/admin/topics/{diet.id}/edit", {"name": "Food"})
    first = reader.get("/topics/diet")
    assert (first.status_code, first.headers["Location"]) == (301, "/topics/food")
    assert "no-cache" in first.headers.get("Cache-Control", "")

    admin_client.submit(f"/admin/topics/{diet.id}/edit", {"name": "Diet"})

    assert reader.get("/topics/diet").status_code == 200
    assert reader.get("/topics/food").headers["Location"] == "/topics/diet"


def test_a_new_topic_at_a_former_address_takes_it_over(admin_client, diet):
    assert admin_client.submit(f"/admin/topics/{diet.id}/edit", {"name": "Food"}).status_code == 302
    assert make_topic("Diet").id != diet.id
    page = admin_client.get("/topics/diet")
    assert page.status_code == 200 and "<h1>Diet</h1>" in page.text


def test_a_change_of_case_keeps_the_address(admin_client, diet):
    response = admin_client.submit(f"/admin/topics/{diet.id}/edit", {"name": "DIET"})
    assert response.status_code == 302
    assert db.session.get(Topic, diet.id).name == "DIET"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TopicRedirect)) == 0
    assert audited("topic.rename") == ["name: 'Diet' → 'DIET'"]


def test_it_refuses_a_name_another_topic_has_and_suggests_merging(admin_client, diet):
    sleep = make_topic("Sleep")
    before = table_fingerprint()

    response = admin_client.submit(f"/admin/topics/{diet.id}/edit", {"name": "sleep!"})

    assert response.status_code == 400
    # Said once, under the field; the note above offers the merge.
    assert response.text.count("already a topic") == 1
    assert "already has this name" not in response.text
    assert "“Sleep” is already a topic: choose another name." in response.text
    assert 'value="sleep!"' in response.text  # as typed
    assert f'href="/admin/topics/{diet.id}/merge?into={sleep.id}"' in response.text
    assert table_fingerprint() == before


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("!!!", "“!!!” is not a topic name: use letters or digits."),
        ("   ", "This field is required."),
        (",", "Name one topic only: a topic name cannot hold a comma."),
        ("Back pain, Sleep", "Name one topic only: a topic name cannot hold a comma."),
        ("x" * 81, f"“{'x' * 30}…” is too long for a topic name: use at most 80 characters."),
    ],
)
def test_it_refuses_a_name_a_topic_could_not_have(admin_client, diet, name, error):
    before = table_fingerprint()
    response = admin_client.submit(f"/admin/topics/{diet.id}/edit", {"name": name})
    assert response.status_code == 400
    assert error in response.text
    assert f'value="{name}"' in response.text
    assert table_fingerprint() == before


def test_it_notices_a_rename_made_after_the_form_was_drawn(admin_client, diet):
    form = {"name": "Food", "drawn": "Diet"}
    admin_client.submit(f"/admin/topics/{diet.id}/edit", {"name": "Nutrition"})

    response = admin_client.submit(f"/admin/topics/{diet.id}/edit", form)

    assert response.status_code == 409
    assert "it is called “Nutrition” now" in response.text
    assert 'value="Food"' in response.text
    assert db.session.get(Topic, diet.id).name == "Nutrition"


def test_a_double_clicked_save_is_not_reported_as_another_admins_rename(admin_client, diet):
    """Both requests carry the name the form was drawn with; the second finds the topic
    already called what the admin typed, which is no one else's rename."""
    form = {"name": "Food", "drawn": "Diet"}
    assert admin_client.submit(f"/admin/topics/{diet.id}/edit", form).status_code == 302

    again = admin_client.submit(f"/admin/topics/{diet.id}/edit", form, follow_redirects=True)

    assert again.status_code == 200
    assert "Someone renamed this topic" not in again.text
    assert db.session.get(Topic, diet.id).name == "Food"
    assert len(audited("topic.rename")) == 1


# --- Merge -------------------------------------------------------------------------------


@pytest.fixture
def overlapping(app, alice, erin, diet):
    """Diet and Nutrition, sharing an article and a follower; a feed files under Diet."""
    nutrition = make_topic("Nutrition")
    feed = make_feed(topic=diet)
    only_diet = make_article(feed, topics=[diet])
    both = make_article(feed, topics=[diet, nutrition], status="pending")
    only_nutrition = make_article(topics=[nutrition])
    follow(alice, diet)
    follow(erin, diet)
    follow(erin, nutrition)
    return nutrition, feed, (only_diet, both, only_nutrition)


def test_it_says_what_a_merge_will_move_before_merging(admin_client, diet, overlapping):
    nutrition = overlapping[0]
    before = table_fingerprint()

    page = admin_client.get(f"/admin/topics/{diet.id}/merge?into={nutrition.id}")

    assert page.status_code == 200
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page.text))
    assert "2 articles (1 published) move to “Nutrition”; 1 of them already is in it" in text
    assert "1 feed files new articles under “Nutrition”" in text
    assert "2 members following “Diet” follow “Nutrition”; 1 already does" in text
    assert "/topics/diet redirects to /topics/nutrition" in text
    assert table_fingerprint() == before


def test_it_merges_a_topic_into_another(admin_client, alice, erin, diet, overlapping):
    nutrition, feed, (only_diet, both, only_nutrition) = overlapping
    diet_id = diet.id

    response = admin_client.submit(f"/admin/topics/{diet_id}/merge", {"into": nutrition.id})

    assert response.status_code == 302
    assert not topic_exists(diet_id)
    for article in (only_diet, both, only_nutrition):
        assert topic_names_of(article.id) == ["Nutrition"]
    assert db.session.get(Feed, feed.id).topic_id == nutrition.id
    assert followed_by(alice) == followed_by(erin) == ["Nutrition"]
    moved = admin_client.get("/topics/diet")
    assert (moved.status_code, moved.headers["Location"]) == (301, "/topics/nutrition")
    assert audited("topic.merge") == [
        "“Diet” (/topics/diet) into “Nutrition” (/topics/nutrition): "
        "moved 2 articles, 1 feed and 2 followers"
    ]


def test_a_merged_topic_takes_its_former_addresses_along(admin_client, diet):
    sleep = make_topic("Sleep")
    admin_client.submit(f"/admin/topics/{diet.id}/edit", {"name": "Food"})
    admin_client.submit(f"/admin/topics/{diet.id}/merge", {"into": sleep.id})
    for old in ("diet", "food"):
        assert admin_client.get(f"/topics/{old}").headers["Location"] == "/topics/sleep"


def test_it_refuses_to_merge_a_topic_into_itself_or_one_gone(admin_client, diet):
    make_topic("Sleep")
    gone = make_topic("Gone")
    gone_id = gone.id
    db.session.delete(gone)
    db.session.commit()
    before = table_fingerprint()
    for into in (diet.id, gone_id):
        response = admin_client.submit(f"/admin/topics/{diet.id}/merge", {"into": into})
        assert response.status_code == 400
        assert "Not a valid choice" in response.text
    assert table_fingerprint() == before


def test_the_rename_form_leads_to_a_merge_that_works(admin_client, diet):
    sleep, diet_id = make_topic("Sleep"), diet.id
    page = admin_client.submit(f"/admin/topics/{diet_id}/edit", {"name": "Sleep"}).text
    link = re.search(r'href="(/admin/topics/\d+/merge\?into=\d+)"', page)[1].replace("&amp;", "&")
    assert "Merge into “Sleep”" in admin_client.get(link).text
    admin_client.submit(link.split("?")[0], {"into": sleep.id})
    assert not topic_exists(diet_id)


# --- Delete ------------------------------------------------------------------------------


def test_it_says_a_topic_is_empty_before_deleting_it(admin_client, diet):
    page = admin_client.get(f"/admin/topics/{diet.id}/delete")
    assert "It is empty: no articles, feeds or followers have it." in page.text


def test_it_says_what_loses_a_topic_before_deleting_it(admin_client, diet, overlapping):
    page = admin_client.get(f"/admin/topics/{diet.id}/delete")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page.text))
    assert "2 articles (1 published) stay on the site without it" in text
    assert "1 feed will file new articles under no topic" in text
    assert "2 members stop following it" in text


def test_it_deletes_a_topic_its_articles_feeds_and_followers_lose(
    admin_client, alice, erin, diet, overlapping
):
    _, feed, (only_diet, both, _) = overlapping
    diet_id = diet.id
    admin_client.submit(f"/admin/topics/{diet_id}/edit", {"name": "Food"})

    response = admin_client.submit(f"/admin/topics/{diet_id}/delete")

    assert response.status_code == 302
    assert not topic_exists(diet_id)
    assert db.session.get(Article, only_diet.id).status == "published"
    assert topic_names_of(only_diet.id) == []
    assert topic_names_of(both.id) == ["Nutrition"]
    assert db.session.get(Feed, feed.id).topic_id is None
    assert followed_by(alice) == [] and followed_by(erin) == ["Nutrition"]
    for address in ("/topics/food", "/topics/diet"):
        assert admin_client.get(address).status_code == 404
    assert audited("topic.delete") == [
        "“Food” (/topics/food): taken off 2 articles, 1 feed and 2 followers"
    ]


def test_it_deletes_an_empty_topic(admin_client, diet):
    diet_id = diet.id
    admin_client.submit(f"/admin/topics/{diet_id}/delete")
    assert not topic_exists(diet_id)
    assert audited("topic.delete") == ["“Diet” (/topics/diet): it was empty"]


@pytest.mark.parametrize("action", ["merge", "delete"])
def test_a_second_click_on_merge_or_delete_says_it_is_done_not_not_found(
    admin_client, diet, action
):
    """A double click sends the form twice: the second finds the topic gone."""
    into = make_topic("Nutrition")
    url, data = f"/admin/topics/{diet.id}/{action}", {"into": into.id}
    assert admin_client.submit(url, data).status_code == 302

    again = admin_client.submit(url, data, follow_redirects=True)

    assert again.status_code == 200
    assert "was merged or deleted meanwhile; nothing was done" in again.text
    assert len(audited(f"topic.{action}")) == 1


# --- Two admins at once (PostgreSQL) -----------------------------------------------------


def post_as_admin(app, admin, url: str, data: dict) -> tuple[threading.Thread, dict]:
    client = app.test_client()
    login(client, admin)
    data = data | {"csrf_token": client.csrf_token()}
    outcome: dict = {}

    def send() -> None:
        response = client.post(url, data=data, follow_redirects=True)
        outcome["text"] = response.get_data(as_text=True)

    thread = threading.Thread(target=send)
    thread.start()
    return thread, outcome


@pytest.mark.pg
@pytest.mark.skipif(not is_postgres(), reason="needs PostgreSQL: SQLite runs one writer")
def test_two_admins_merging_one_topic_two_ways_at_once(app, carol, monkeypatch, diet, overlapping):
    """The second merge waits for the first, then finds the topic gone: nothing is split
    between the two targets, and no article or follow is left on a deleted topic."""
    nutrition, feed, articles = overlapping
    sleep, diet_id = make_topic("Sleep"), diet.id
    other_admin = make_user(admin=True)
    reached, go = threading.Event(), threading.Event()
    lock = topic_admin.lock_topics

    def paused(*ids):
        locked = lock(*ids)
        if not reached.is_set():
            reached.set()
            assert go.wait(20), "never released"
        return locked

    monkeypatch.setattr(topic_admin, "lock_topics", paused)
    url = f"/admin/topics/{diet_id}/merge"
    first, merged = post_as_admin(app, carol, url, {"into": nutrition.id})
    assert reached.wait(20)
    second, refused = post_as_admin(app, other_admin, url, {"into": sleep.id})
    settle(second)
    go.set()
    first.join(30)
    second.join(30)

    assert "Merged “Diet”" in merged["text"]
    assert "was merged or deleted meanwhile; nothing was done" in refused["text"]
    db.session.expire_all()
    assert not topic_exists(diet_id)
    assert [topic_names_of(a.id) for a in articles] == [["Nutrition"]] * 3
    assert db.session.get(Feed, feed.id).topic_id == nutrition.id
    assert audited("topic.merge") == [
        "“Diet” (/topics/diet) into “Nutrition” (/topics/nutrition): "
        "moved 2 articles, 1 feed and 2 followers"
    ]


def test_each_topic_action_is_named_with_its_topic(admin_client, diet):
    make_topic("Sleep")
    names = action_names(admin_client.get("/admin/topics/").get_data(as_text=True))
    assert sorted(names) == sorted(
        f"{verb} {topic}" for verb in ("Rename", "Merge", "Delete") for topic in ("Diet", "Sleep")
    )


def test_a_topics_former_address_redirects_to_it_for_good(client):
    sleep = curation.topic_for("Sleep and rest")
    db.session.add(TopicRedirect(slug="sleep", topic_id=sleep.id))
    db.session.commit()
    moved = client.get("/topics/sleep?before=abc")
    assert moved.status_code == 301
    assert moved.headers["Location"] == "/topics/sleep-and-rest?before=abc"


def test_a_live_topic_keeps_its_address_over_a_former_one(client):
    sleep, other = curation.topic_for("Sleep"), curation.topic_for("Rest")
    db.session.add(TopicRedirect(slug="sleep", topic_id=other.id))
    db.session.commit()
    assert client.get(f"/topics/{sleep.slug}").status_code == 200


def test_a_topic_in_hindi_keeps_its_vowel_signs_in_its_address(client):
    health = curation.topic_for("हिन्दी स्वास्थ्य")
    other = curation.topic_for("हन्द स्वस्थ")  # the same letters without their vowel signs
    db.session.commit()

    assert health.slug == "हिन्दी-स्वास्थ्य"
    assert other.id != health.id
    make_article(title="Walking", topics=[health])
    page = client.get(f"/topics/{health.slug}")
    assert page.status_code == 200 and "<h1>हिन्दी स्वास्थ्य</h1>" in page.text


def test_a_name_typed_with_a_combining_accent_is_the_same_topic(client):
    composed = curation.topic_for("Café")
    decomposed = curation.topic_for("Cafe\u0301")
    db.session.commit()
    assert decomposed.id == composed.id
    assert (composed.name, composed.slug) == ("Café", "café")
