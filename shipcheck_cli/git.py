"""Read commits from the local repository in the format the API expects."""

from __future__ import annotations

import shutil
import subprocess

from shipcheck_cli.client import CliError

# Must match integrations/gitlog.py on the server (documented in docs/ci.md).
GIT_LOG_FORMAT = "%x1e%H%x1f%an <%ae>%x1f%aI%x1f%B"
RECORD_SEPARATOR = "\x1e"


class GitError(CliError):
    exit_code = 5


def _git(repo: str, *args: str) -> str:
    git = shutil.which("git")
    if git is None:
        raise GitError("git is not installed or not on PATH.")
    try:
        completed = subprocess.run(  # noqa: S603 - fixed program, arguments are not interpreted by a shell
            [git, "-C", repo, *args],
            capture_output=True,
            check=False,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"Could not run git: {exc}") from None
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(
            f"git {args[0]} failed: {message[-1] if message else 'exit ' + str(completed.returncode)}"
        )
    return completed.stdout.decode("utf-8", "replace")


def _verify(repo: str, ref: str) -> None:
    if ref.startswith("-"):
        raise GitError(f"'{ref}' is not a git revision.")
    try:
        _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except GitError:
        raise GitError(f"'{ref}' is not a tag, branch or commit in {repo}.") from None


def git_log(*, repo: str, to_ref: str, from_ref: str | None = None) -> str:
    """Raw ``git log`` output for from_ref..to_ref (everything up to to_ref without from_ref)."""
    _verify(repo, to_ref)
    if from_ref:
        _verify(repo, from_ref)
    revision = f"{from_ref}..{to_ref}" if from_ref else to_ref
    return _git(repo, "log", f"--format={GIT_LOG_FORMAT}", revision, "--")


def split_records(text: str, size: int) -> list[str]:
    """Split git log output into chunks of at most ``size`` commits (for bounded request bodies)."""
    records = [r for r in text.split(RECORD_SEPARATOR) if r.strip()]
    return [
        "".join(RECORD_SEPARATOR + r for r in records[i : i + size])
        for i in range(0, len(records), size)
    ]
