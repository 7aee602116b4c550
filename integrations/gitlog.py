"""Read the output of one exact ``git log`` format into commits.

The format separates commits with the ASCII record separator (0x1E) and
fields with the unit separator (0x1F). Neither appears in commit messages
in practice, so messages may hold any text, blank lines included:

    git log --format='%x1e%H%x1f%an <%ae>%x1f%aI%x1f%B' v1.2.0..v1.3.0

Fields: full hash, "author name <email>", author date in strict ISO 8601,
raw message (subject and body).
"""

from __future__ import annotations

import re
from datetime import datetime

from core.exceptions import ValidationFailed

GIT_LOG_FORMAT = "%x1e%H%x1f%an <%ae>%x1f%aI%x1f%B"
RECORD_SEPARATOR = "\x1e"
FIELD_SEPARATOR = "\x1f"
# A long release is a few thousand commits; more than this is a wrong range (e.g. a missing tag).
MAX_COMMITS = 5000
MAX_AUTHOR_LENGTH = 200
MAX_MESSAGE_LENGTH = 20_000

_SHA_RE = re.compile(r"^[0-9a-fA-F]{7,64}$")


class InvalidGitLog(ValidationFailed):
    code = "invalid_git_log"


def gitlog_parse(text: str) -> list[dict]:
    """Return ``[{"sha", "author", "committed_at", "message"}, ...]`` in the order given.

    Raises ``InvalidGitLog`` naming the first bad record.
    """
    if "\x00" in text:
        raise InvalidGitLog("The git log output contains a NUL character.")
    records = [r for r in text.split(RECORD_SEPARATOR) if r.strip()]
    if text.strip() and RECORD_SEPARATOR not in text:
        raise InvalidGitLog(
            "This is not output of the expected git log format. Run: "
            f"git log --format='{GIT_LOG_FORMAT}' FROM..TO"
        )
    if len(records) > MAX_COMMITS:
        raise InvalidGitLog(
            f"{len(records)} commits is more than one release can hold ({MAX_COMMITS}); check the tag range."
        )
    commits = []
    for number, record in enumerate(records, start=1):
        fields = record.lstrip("\n").split(FIELD_SEPARATOR, 3)
        if len(fields) != 4:
            raise InvalidGitLog(
                f"Commit record {number} does not have the four fields "
                "hash, author, date and message."
            )
        sha, author, date, message = (f.strip() for f in fields)
        if not _SHA_RE.match(sha):
            raise InvalidGitLog(f"Commit record {number}: '{sha[:70]}' is not a commit hash.")
        try:
            committed_at = datetime.fromisoformat(date)
        except ValueError:
            raise InvalidGitLog(
                f"Commit record {number} ({sha[:12]}): '{date[:40]}' is not an ISO 8601 date (use %aI)."
            ) from None
        if committed_at.tzinfo is None:
            raise InvalidGitLog(
                f"Commit record {number} ({sha[:12]}): the date has no time zone (use %aI)."
            )
        commits.append(
            {
                "sha": sha.lower(),
                "author": author[:MAX_AUTHOR_LENGTH],
                "committed_at": committed_at,
                "message": message[:MAX_MESSAGE_LENGTH],
            }
        )
    return commits
