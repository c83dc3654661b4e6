"""Text forms shared by every layer: relative ages beside timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scalearc_lint.text import relative_age, with_ages

AS_OF = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("before", "words"),
    [
        (timedelta(seconds=0), "now"),
        (timedelta(seconds=59), "now"),
        (timedelta(minutes=1), "1 minute ago"),
        (timedelta(minutes=119), "119 minutes ago"),
        (timedelta(hours=2), "2 hours ago"),
        (timedelta(hours=47, minutes=59), "47 hours ago"),
        (timedelta(days=2), "2 days ago"),
        (timedelta(days=5, hours=23), "5 days ago"),
        (timedelta(days=59), "59 days ago"),
        (timedelta(days=60), "2 months ago"),
        (timedelta(days=729), "24 months ago"),
        (timedelta(days=730), "2 years ago"),
        (timedelta(days=-1), "in 24 hours"),
        (timedelta(days=-36, hours=-18), "in 36 days"),
    ],
)
def test_relative_age_at_the_as_of_time(before: timedelta, words: str) -> None:
    assert relative_age(AS_OF - before, AS_OF) == words


def test_relative_age_depends_on_the_as_of_time_only() -> None:
    moment = AS_OF - timedelta(days=5)
    assert relative_age(moment, AS_OF) == relative_age(moment, AS_OF)
    assert relative_age(moment, AS_OF + timedelta(days=1)) == "6 days ago"


def test_with_ages_follows_every_zoned_timestamp() -> None:
    text = (
        "moved at 2026-11-21T02:00:00+00:00 and 2026-11-24T01:00:00Z, "
        "again 2026-11-22T20:00:00+02:00"
    )
    assert with_ages(text, AS_OF) == (
        "moved at 2026-11-21T02:00:00+00:00 (3 days ago) and 2026-11-24T01:00:00Z "
        "(60 minutes ago), again 2026-11-22T20:00:00+02:00 (32 hours ago)"
    )


@pytest.mark.parametrize(
    "text",
    [
        "snapshot 'before-upgrade 2026-11-01' (5.0 days old)",  # a date alone
        "at 2026-11-21T02:00:00 local",  # no zone: not a moment
        "build-2026-11-21T02:00:00+00:00x",  # inside a longer token
        "no timestamp at all",
    ],
)
def test_with_ages_leaves_anything_else_alone(text: str) -> None:
    assert with_ages(text, AS_OF) == text
