"""Display names: any script, but nothing hidden, no check marks, no staff title or the
site's name, and no word whose look-alike letter makes it pass for another name (#2; C35)."""

from __future__ import annotations

import html

import pytest

from club.extensions import db
from tests.club.test_settings import profile_data
from tests.conftest import login


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("\u200b", "visible characters only"),  # a zero-width space: a name nobody sees
        ("\u202eevil", "visible characters only"),  # reverses the comment header after it
        ("Carol\u0007", "visible characters only"),  # a control character
        ("Carol Admin \u2714", "check marks"),
        ("Real Member \u2705", "check marks"),
        ("Deleted Member", "staff title"),
        ("deleted  member", "staff title"),  # HTML shows two spaces as one
        ("deleted\u00a0member", "staff title"),
        ("Admin", "staff title"),  # comment headers show the name alone
        ("Admin\u200d", "staff title"),  # a joiner (kept for scripts that need it) shows nothing
        ("Mod\u200derator", "staff title"),
        ("Deleted\u200c Member", "staff title"),
        ("Admin\u034f", "staff title"),  # the combining grapheme joiner
        ("Admin\ufe0f", "staff title"),  # a variation selector
        ("Admin\u3164", "staff title"),  # a Hangul filler
        ("Admin\u2800", "staff title"),  # a blank Braille cell
        ("Mod\u034ferator", "staff title"),
        ("MODERATOR", "staff title"),
        ("\u1d00\u1d05\u1d0d\u026a\u0274", "staff title"),  # "Admin" in small capitals
        ("\ua731\u1d1b\u1d00\ua730\ua730", "staff title"),  # "Staff" in small capitals
        ("ADM\ua7aeN", "staff title"),  # a capital small capital I, which casefolds to one
        ("Billionaire Club", "staff title"),
        (
            "\u041coderator",
            "in one alphabet",
        ),  # a Cyrillic capital em: reads "Moderator"
        ("\u0410dmin", "in one alphabet"),
        ("Billionaire \u0421lub", "in one alphabet"),
        (
            "Alic\u0435 Active",
            "in one alphabet",
        ),  # another member's name, with a Cyrillic ie
        ("\u03bflga", "in one alphabet"),  # a Greek omicron
        ("M\u0585derator", "in one alphabet"),  # an Armenian o
        ("\u13aalice Active", "in one alphabet"),  # a Cherokee A
        (
            "M\u200d\u043e\u200dderator",
            "in one alphabet",
        ),  # joiners around the look-alike
        ("Alic\u17b4\u0435 Active", "visible characters only"),  # a Khmer vowel: no glyph
        ("Mod\u17b5erator", "visible characters only"),
        ("Alic\u0332\u0435 Active", "in one alphabet"),  # a mark no letter composes with
        ("M\u30edderator", "in one alphabet"),  # a katakana ro: CJK mixes kana, not Latin
        ("...", "at least one letter"),
        ("\u3164", "at least one letter"),  # a Hangul filler: a letter that shows nothing
        ("\u2800\u2800", "at least one letter"),  # blank Braille cells
        ("\u221a Verified", "check marks"),
        ("Bob \U0001fbb1", "check marks"),
        (
            "a" + "\u0301" * 59,
            "at most 4 accents on one letter",
        ),  # stacked accents draw over other lines
    ],
)
def test_it_refuses_display_names_that_hide_or_fake_something(client, alice, name, error):
    login(client, alice)
    response = client.submit("/settings/profile", profile_data(display_name=name))
    assert response.status_code == 400
    assert error in response.get_data(as_text=True)
    db.session.refresh(alice)
    assert alice.display_name == "Alice Active"


def test_it_keeps_a_name_given_before_the_rules_editable(client, alice):
    alice.display_name = "Moderator"  # set by an operator, or before titles were refused
    db.session.commit()
    login(client, alice)
    response = client.submit("/settings/profile", profile_data(display_name="Moderator", bio="Hi"))
    assert response.status_code == 303
    db.session.refresh(alice)
    assert (alice.display_name, alice.bio) == ("Moderator", "Hi")


@pytest.mark.parametrize(
    "name",
    [
        "Nguy\u1ec5n Th\u1ecb",
        "\u0915\u094d\u0937\u093f\u0924\u093f",
        "Admin Ana",
        "علي",
        "Ivan \u0418\u0432\u0430\u043d\u043e\u0432",  # two alphabets, a word each
        "Anna Smith-\u0418\u0432\u0430\u043d\u043e\u0432\u0430",
        "Maria/\u039c\u03b1\u03c1\u03af\u03b1",
        "\u00b5Lab Kate",  # the micro sign
        "Hawai\u02bbi Kai",  # the Hawaiian okina, a modifier letter
        "\u0393\u03b9\u03ce\u03c1\u03b3\u03bf\u03c2 Papadopoulos",
        # Japanese, Chinese and Korean write one word in several scripts by design.
        "\u7530\u4e2d\u3055\u304f\u3089",  # kanji and hiragana
        "\u9234\u6728\u30e6\u30a6\u30ad",  # kanji and katakana
        "\u738b\u3105",  # Han and Bopomofo
        "\uae40\u7530",  # Hangul and Han
        "\u101c\u103b\u103e\u102d\u102f\u1037",  # Burmese: a sign with its own width, 4 over
    ],
)
def test_it_accepts_names_in_any_script_and_titles_within_a_name(client, alice, name):
    login(client, alice)
    assert client.submit("/settings/profile", profile_data(display_name=name)).status_code == 303
    db.session.refresh(alice)
    assert alice.display_name == name


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Ju\u0308rgen", "J\u00fcrgen"),  # decomposed accents are stored composed
        ("\u0645\u0631\u06cc\u0645\u200c\u0647\u0627", None),  # Persian, with a ZWNJ
        ("\U0001f469\u200d\U0001f4bb Ada", None),  # an emoji sequence with a ZWJ
    ],
)
def test_it_keeps_real_names_in_any_script(client, alice, typed, stored):
    login(client, alice)
    response = client.submit("/settings/profile", profile_data(display_name=typed))
    assert response.status_code == 303
    db.session.refresh(alice)
    assert alice.display_name == (stored or typed)


def test_it_names_the_look_alike_letter_in_a_display_name(client, alice):
    login(client, alice)
    response = client.submit("/settings/profile", profile_data(display_name="Alic\u0435 Active"))
    assert (
        "“\u0435” in “Alic\u0435” is a Cyrillic letter among Latin ones: a word mixing "
        "alphabets can pass for another name. Write each word in one alphabet."
    ) in html.unescape(response.get_data(as_text=True))
