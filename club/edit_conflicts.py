"""Edit forms that notice a save made while they were open, and keep it.

An edit form carries, in a hidden field, the values it showed when it was drawn. When the
record has changed since, the form goes back to its author with their own changes kept
and, in every field they left as it was, what was saved meanwhile: Save again then
replaces only what they changed. Keeping their whole form instead would quietly undo the
other save in every field they never touched.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from flask_wtf import FlaskForm


def drawn_record(values: Mapping[str, Any]) -> str:
    """The hidden field's value for a form showing ``values`` (strings, numbers, booleans)."""
    return base64.urlsafe_b64encode(json.dumps(dict(values)).encode()).decode()


def read_drawn(record: str | None) -> dict[str, Any] | None:
    """The values a form showed when drawn; None when it sent no readable record (a form
    drawn before this existed, or a script), which then has nothing to compare against."""
    try:
        values = json.loads(base64.urlsafe_b64decode((record or "").encode()))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return values if isinstance(values, dict) else None


def saved_meanwhile(
    form: FlaskForm, drawn: Mapping[str, Any], saved: Mapping[str, Any]
) -> list[str]:
    """The fields saved since ``form`` was drawn with a value other than the form's (the
    same change made twice is no conflict)."""
    return sent_over_saved({name: form[name].data for name in saved}, drawn, saved)


def sent_over_saved(
    sent: Mapping[str, Any], drawn: Mapping[str, Any], saved: Mapping[str, Any]
) -> list[str]:
    """``saved_meanwhile`` for values already read off the form: for a domain function
    that compares them only once it holds the record's lock."""
    return [
        name
        for name, value in saved.items()
        if not _same(value, drawn.get(name)) and not _same(sent.get(name), value)
    ]


def merge_saved_meanwhile(
    form: FlaskForm, drawn: Mapping[str, Any], saved: Mapping[str, Any]
) -> list[str]:
    """Show what was saved meanwhile in each field of ``form`` its author left as drawn;
    return the fields both changed, where the form keeps its author's value."""
    both = []
    for name, value in saved.items():
        if _same(form[name].data, drawn.get(name)):
            form[name].data = value
        elif not _same(value, drawn.get(name)) and not _same(form[name].data, value):
            both.append(name)
    return both


def _same(one: Any, other: Any) -> bool:
    """Equal as the person editing sees it: browsers send a text area's line breaks as
    CRLF, and an empty field as "" where the record holds None."""
    return _seen(one) == _seen(other)


def _seen(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").strip()
    return value
