"""The one git log format: records, fields, and what is refused."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from integrations.gitlog import MAX_COMMITS, InvalidGitLog, gitlog_parse

SHA_A = "9fceb02d0ae598e95dc970b74767f19372d61af8"
SHA_B = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"


def record(sha, author, date, message):
    return f"\x1e{sha}\x1f{author}\x1f{date}\x1f{message}\n"


def test_parse__two_commits__keeps_order_and_multiline_messages():
    text = record(
        SHA_A,
        "Eli <eli@example.com>",
        "2026-03-01T16:04:11+01:00",
        "Store card tokens\n\nPAY-142: body line\n\nmore",
    ) + record(SHA_B.upper(), "Rita <rita@example.com>", "2026-02-28T09:00:00Z", "Subject only")
    commits = gitlog_parse(text)
    assert [c["sha"] for c in commits] == [SHA_A, SHA_B]
    assert commits[0]["message"] == "Store card tokens\n\nPAY-142: body line\n\nmore"
    assert commits[0]["author"] == "Eli <eli@example.com>"
    assert commits[0]["committed_at"] == datetime(
        2026, 3, 1, 16, 4, 11, tzinfo=timezone(timedelta(hours=1))
    )


def test_parse__empty_range__gives_no_commits():
    assert gitlog_parse("") == []
    assert gitlog_parse("\n") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "commit 9fceb02\nAuthor: Eli\n\n    message\n",
            "not output of the expected git log format",
        ),
        (record("xyz", "Eli", "2026-03-01T16:04:11+01:00", "m"), "not a commit hash"),
        (record(SHA_A, "Eli", "yesterday", "m"), "not an ISO 8601 date"),
        (record(SHA_A, "Eli", "2026-03-01T16:04:11", "m"), "no time zone"),
        (f"\x1e{SHA_A}\x1fEli\x1f2026-03-01T16:04:11+01:00", "four fields"),
        ("\x1e" + SHA_A + "\x00", "NUL"),
    ],
)
def test_parse__malformed__is_refused_with_the_record_named(text, message):
    with pytest.raises(InvalidGitLog, match=message):
        gitlog_parse(text)


def test_parse__more_commits_than_a_release_holds__is_refused():
    text = record(SHA_A, "a", "2026-03-01T16:04:11+01:00", "m") * (MAX_COMMITS + 1)
    with pytest.raises(InvalidGitLog, match="check the tag range"):
        gitlog_parse(text)
