"""JUnit XML parsing: totals from test cases, and hostile documents refused."""

from __future__ import annotations

import pytest

from integrations.junit import MAX_FAILING_NAMES, InvalidReport, junit_parse
from tests.integrations.conftest import JUNIT_FAILING, JUNIT_OK


def test_parse__testsuites_report__counts_cases_and_uses_suite_time():
    summary = junit_parse(JUNIT_OK)
    assert (summary.total, summary.failures, summary.errors, summary.skipped) == (3, 0, 0, 1)
    assert summary.passed == 2
    assert summary.duration_seconds == 2.5
    assert summary.failing_tests == []
    assert summary.name == "unit"


def test_parse__single_testsuite__names_failures_and_errors():
    summary = junit_parse(JUNIT_FAILING.encode())
    assert (summary.total, summary.failures, summary.errors, summary.skipped) == (4, 2, 1, 0)
    assert summary.failing_tests == [
        "api.Checkout.test_refund",
        "api.Checkout.test_void",
        "test_orphan",
    ]
    assert summary.duration_seconds == 3.25
    assert summary.name == "api"


def test_parse__nested_suites_without_root_time__sums_top_level_suite_times():
    xml = """<testsuites>
      <testsuite name="a" time="1.5"><testsuite name="a.inner" time="1.5"><testcase name="x"/></testsuite></testsuite>
      <testsuite name="b" time="2"><testcase name="y"/></testsuite>
    </testsuites>"""
    summary = junit_parse(xml)
    assert summary.total == 2
    assert summary.duration_seconds == 3.5


def test_parse__summary_only_report__falls_back_to_attributes():
    summary = junit_parse(
        '<testsuite name="s" tests="10" failures="2" errors="1" skipped="3" time="4"/>'
    )
    assert (summary.total, summary.failures, summary.errors, summary.skipped) == (10, 2, 1, 3)


def test_parse__many_failures__keeps_a_bounded_list_of_names():
    cases = "".join(
        f'<testcase name="t{i}"><failure/></testcase>' for i in range(MAX_FAILING_NAMES + 50)
    )
    summary = junit_parse(f"<testsuite>{cases}</testsuite>")
    assert summary.failures == MAX_FAILING_NAMES + 50
    assert len(summary.failing_tests) == MAX_FAILING_NAMES


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<testsuite name="&lol9;"><testcase name="x"/></testsuite>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE testsuite [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<testsuite name="&secret;"><testcase name="x"/></testsuite>"""

EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE testsuite SYSTEM "http://127.0.0.1:9/junit.dtd">
<testsuite><testcase name="x"/></testsuite>"""


@pytest.mark.parametrize(
    "document",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD],
    ids=["billion-laughs", "external-entity", "external-dtd"],
)
def test_parse__doctype_or_entities__is_refused(document):
    with pytest.raises(InvalidReport, match="DTD or entities"):
        junit_parse(document)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("<testsuite><testcase name='x'>", "not well-formed"),
        ("not xml at all", "not well-formed"),
        ("<html><body/></html>", "starts with <testsuites> or <testsuite>"),
        ('<testsuite tests="many"/>', "whole number"),
        ('<testsuite tests="-1"/>', "cannot be negative"),
        ('<testsuite tests="1" failures="5"/>', "more failures"),
        ('<testsuite><testcase name="x" time="soon"/></testsuite>', "number of seconds"),
        ('<testsuite><testcase name="x" time="nan"/></testsuite>', "positive number"),
        ('<testsuite><testcase name="x" time="-3"/></testsuite>', "positive number"),
    ],
)
def test_parse__bad_report__is_refused_with_a_message(document, message):
    with pytest.raises(InvalidReport, match=message):
        junit_parse(document)


def test_parse__deeply_nested_elements__does_not_crash():
    depth = 50_000
    document = "<testsuite>" + "<x>" * depth + "</x>" * depth + "<testcase name='t'/></testsuite>"
    summary = junit_parse(document)
    assert summary.total == 1
