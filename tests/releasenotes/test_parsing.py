"""The pure parser and grouper: headers, footers, trailers, reverts, tickets, Markdown."""

from releasenotes.parsing import (
    BREAKING,
    DEPRECATIONS,
    FIXED,
    IMPROVED,
    NEW,
    OTHER,
    PERFORMANCE,
    SECURITY,
    commit_parse,
    entries_changelog,
    entries_markdown,
    notes_build,
)


def groups(entries):
    return {e.shas[0] if e.shas else e.tickets[0].key: e.group for e in entries}


def test_header__type_scope_and_bang():
    c = commit_parse("a" * 40, "feat(api)!: drop the v1 endpoints")
    assert (c.type, c.scope, c.description, c.breaking) == (
        "feat",
        "api",
        "drop the v1 endpoints",
        True,
    )


def test_header__not_conventional_keeps_the_whole_line():
    c = commit_parse("b" * 40, "Update the README\n\nSome body.")
    assert c.type == "" and c.description == "Update the README" and not c.breaking


def test_breaking_footer__both_spellings_and_continuation_lines():
    one = commit_parse(
        "1" * 40,
        "fix: x\n\nBody.\n\nBREAKING CHANGE: call /v2/carts\n  with a customer id\nRefs: PAY-1",
    )
    two = commit_parse("2" * 40, "refactor: y\n\nBREAKING-CHANGE: rename the setting")
    assert one.breaking and one.breaking_note == "call /v2/carts\nwith a customer id"
    assert two.breaking and two.breaking_note == "rename the setting"


def test_footer_words_in_the_body_are_not_footers():
    c = commit_parse(
        "3" * 40,
        "fix: z\n\nBREAKING CHANGE: inside the body\nmore body text\n\nSigned-off-by: A <a@b.c>",
    )
    assert not c.breaking


def test_grouping__each_type_trailer_and_fallback():
    commits = [
        ("01" * 20, "feat: search"),
        ("02" * 20, "fix: crash"),
        ("03" * 20, "perf: faster facets"),
        ("04" * 20, "refactor: tidy the cart"),
        ("05" * 20, "security: escape names"),
        ("06" * 20, "deprecate: the old export"),
        ("07" * 20, "docs: explain"),
        ("08" * 20, "Plain message"),
        ("09" * 20, "chore: bump\n\nChangelog: security"),
        ("0a" * 20, "feat: x\n\nChangelog: fixed"),
        ("0b" * 20, "fix: y\n\nChangelog: removed"),
        ("0c" * 20, "fix: z\n\nChangelog: nonsense"),
        ("0d" * 20, "feat!: breaking beats the trailer\n\nChangelog: added"),
    ]
    got = groups(notes_build(commits))
    assert got == {
        "01" * 20: NEW,
        "02" * 20: FIXED,
        "03" * 20: PERFORMANCE,
        "04" * 20: IMPROVED,
        "05" * 20: SECURITY,
        "06" * 20: DEPRECATIONS,
        "07" * 20: OTHER,
        "08" * 20: OTHER,
        "09" * 20: SECURITY,
        "0a" * 20: FIXED,
        "0b" * 20: BREAKING,
        "0c" * 20: FIXED,
        "0d" * 20: BREAKING,
    }


def test_reverts__paired_in_range_are_both_dropped():
    feat = "aa" * 20
    revert = "bb" * 20
    commits = [  # newest first, as git logs
        (revert, f'Revert "feat: search"\n\nThis reverts commit {feat}.'),
        ("cc" * 20, "fix: crash"),
        (feat, "feat: search"),
    ]
    entries = notes_build(commits)
    assert [e.shas[0] for e in entries] == ["cc" * 20]


def test_reverts__short_sha_and_conventional_revert():
    feat = "ab12cd34" + "0" * 32
    commits = [
        ("ef" * 20, "revert: search\n\nThis reverts commit ab12cd34."),
        (feat, "feat: search"),
    ]
    assert notes_build(commits) == []


def test_reverts__of_something_outside_the_range_stays():
    entries = notes_build([("ef" * 20, f'Revert "feat: old"\n\nThis reverts commit {"9" * 40}.')])
    assert [(e.group, e.description) for e in entries] == [(OTHER, 'Revert "feat: old"')]


def test_reverts__a_revert_of_a_revert_brings_the_original_back():
    c, r1, r2 = "c1" * 20, "d1" * 20, "e1" * 20
    commits = [
        (r2, f'Revert "Revert "feat: a""\n\nThis reverts commit {r1}.'),
        (r1, f'Revert "feat: a"\n\nThis reverts commit {c}.'),
        (c, "feat: a"),
    ]
    assert [e.shas[0] for e in notes_build(commits)] == [c]


def test_tickets__linked_from_commits_and_by_the_tracker_template():
    tickets = [
        {"key": "PAY-1", "title": "Search", "url": ""},
        {"key": "PAY-2", "title": "Own link", "url": "https://issues.example.org/2"},
        {"key": "PAY-3", "title": "Nobody mentions me", "url": ""},
    ]
    commits = [("f1" * 20, "feat: search (PAY-1)\n\nRefs: PAY-2")]
    entries = notes_build(commits, tickets, "https://tracker.example.com/browse/{key}")
    first = entries[0]
    assert first.group == NEW
    assert [(t.key, t.url) for t in first.tickets] == [
        ("PAY-1", "https://tracker.example.com/browse/PAY-1"),
        ("PAY-2", "https://issues.example.org/2"),
    ]
    lone = [e for e in entries if not e.shas]
    assert [(e.group, e.description, e.tickets[0].url) for e in lone] == [
        (OTHER, "Nobody mentions me", "https://tracker.example.com/browse/PAY-3")
    ]


def test_tickets__no_commit_mentions_them__grouped_by_their_tracker_type():
    tickets = [
        {"key": "SF-1", "title": "Double charge", "type": "Bug"},
        {"key": "SF-2", "title": "Gift cards", "type": "Story"},
        {"key": "SF-3", "title": "Faster search", "type": "Improvement"},
        {"key": "SF-4", "title": "CVE fix", "type": "Security"},
        {"key": "SF-5", "title": "Old API", "type": "Deprecation"},
        {"key": "SF-6", "title": "Odd one", "type": "Spike"},
        {"key": "SF-7", "title": "No type"},
    ]
    entries = notes_build([], tickets)
    assert groups(entries) == {
        "SF-1": FIXED,
        "SF-2": NEW,
        "SF-3": IMPROVED,
        "SF-4": SECURITY,
        "SF-5": DEPRECATIONS,
        "SF-6": OTHER,
        "SF-7": OTHER,
    }
    changelog = entries_changelog(entries)
    assert "### Fixed\n\n- Double charge" in changelog
    assert "### Added\n\n- Gift cards" in changelog


def test_markdown__groups_in_order_upgrade_steps_and_escaping():
    commits = [
        ("a1" * 20, "fix(cart): <b>bold</b> [x](javascript:alert(1))"),
        ("a2" * 20, "feat(api)!: drop v1\n\nBREAKING CHANGE: call /v2/ instead"),
    ]
    text = entries_markdown(notes_build(commits))
    assert (
        text.index("## Breaking changes")
        < text.index("## Fixed")
        < text.index("## Upgrade instructions")
    )
    assert "- **api: Drop v1**: call /v2/ instead" in text
    assert "<b>" not in text and "\\<b\\>" in text and "\\[x\\]" in text


def test_markdown__empty_release_says_so():
    assert "No changes recorded" in entries_markdown([])


def test_changelog_sections_use_keep_a_changelog_names():
    entries = notes_build(
        [
            ("b1" * 20, "feat: a"),
            ("b2" * 20, "fix: b"),
            ("b3" * 20, "x\n\nChangelog: removed"),
            ("b4" * 20, "feat!: c"),
        ]
    )
    text = entries_changelog(entries)
    assert text.index("### Added") < text.index("### Removed") < text.index("### Fixed")
    assert "- **Breaking:** C" in text


def test_garbage_never_raises():
    for message in [
        "",
        "\x00",
        ":",
        "feat",
        "feat(: x",
        "(a): b",
        "BREAKING CHANGE: only",
        "x" * 30000,
    ]:
        notes_build([("00" * 20, message)])
