"""Read JUnit XML test reports, safely.

Reports come from pipelines we do not control, so the parser refuses any
document type declaration outright: that closes entity expansion ("billion
laughs"), external entities and external DTD fetches in one rule. JUnit
reports never need a DTD.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from core.exceptions import ValidationFailed

# Enough failing names to act on; a report with thousands of failures says it all in its totals.
MAX_FAILING_NAMES = 200
MAX_NAME_LENGTH = 300


class InvalidReport(ValidationFailed):
    code = "invalid_junit"


@dataclass
class JUnitSummary:
    name: str = ""
    total: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    duration_seconds: float = 0.0
    failing_tests: list[str] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return max(self.total - self.failures - self.errors - self.skipped, 0)


def _count(element: Element, attribute: str) -> int:
    raw = element.get(attribute)
    if raw is None or raw.strip() == "":
        return 0
    try:
        value = int(raw.strip())
    except ValueError:
        raise InvalidReport(
            f"The {attribute} attribute of <{element.tag}> must be a whole number, not '{raw[:40]}'."
        ) from None
    if value < 0:
        raise InvalidReport(f"The {attribute} attribute of <{element.tag}> cannot be negative.")
    return value


def _seconds(element: Element) -> float:
    raw = element.get("time")
    if raw is None or raw.strip() == "":
        return 0.0
    try:
        # Some tools write thousands separators ("1,234.5"); drop them.
        value = float(raw.strip().replace(",", ""))
    except ValueError:
        raise InvalidReport(
            f"The time attribute of <{element.tag}> must be a number of seconds, not '{raw[:40]}'."
        ) from None
    if not math.isfinite(value) or value < 0:
        raise InvalidReport(
            f"The time attribute of <{element.tag}> must be a positive number of seconds."
        )
    return value


def _case_name(case: Element) -> str:
    name = (case.get("name") or "").strip() or "(unnamed test)"
    classname = (case.get("classname") or "").strip()
    full = f"{classname}.{name}" if classname else name
    return full[:MAX_NAME_LENGTH]


def junit_parse(document: str | bytes) -> JUnitSummary:
    """Summarise a JUnit XML report (``<testsuites>`` or a single ``<testsuite>``).

    Totals come from the ``<testcase>`` elements when there are any (tools
    disagree on what the suite attributes count); a report without test cases
    falls back to the suite attributes. Raises ``InvalidReport`` with a message
    a person can act on.
    """
    if isinstance(document, str):
        document = document.encode("utf-8")
    if not document.strip():
        raise InvalidReport("The JUnit report is empty.")
    try:
        root = fromstring(document, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise InvalidReport(
            "The JUnit report declares a DTD or entities; Shipcheck refuses those for safety. "
            "Remove the <!DOCTYPE ...> declaration."
        ) from None
    except ParseError as exc:
        raise InvalidReport(f"The JUnit report is not well-formed XML ({exc}).") from None
    except (ValueError, RecursionError):
        raise InvalidReport("The JUnit report could not be read as XML.") from None

    if root.tag not in ("testsuites", "testsuite"):
        raise InvalidReport(
            f"A JUnit report starts with <testsuites> or <testsuite>, not <{str(root.tag)[:40]}>."
        )

    summary = JUnitSummary(name=(root.get("name") or "").strip()[:200])
    # Direct children only: a suite nested in another is counted through its parent.
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    cases = list(root.iter("testcase"))
    if cases:
        for case in cases:
            summary.total += 1
            summary.duration_seconds += _seconds(case)
            outcome = None
            for child in case:
                if child.tag == "failure":
                    outcome = outcome or "failure"
                elif child.tag == "error":
                    outcome = outcome or "error"
                elif child.tag == "skipped":
                    outcome = outcome or "skipped"
            if outcome == "failure":
                summary.failures += 1
            elif outcome == "error":
                summary.errors += 1
            elif outcome == "skipped":
                summary.skipped += 1
            if outcome in ("failure", "error") and len(summary.failing_tests) < MAX_FAILING_NAMES:
                summary.failing_tests.append(_case_name(case))
    else:
        totals_from = [root] if root.tag == "testsuites" and root.get("tests") else suites
        for element in totals_from:
            summary.total += _count(element, "tests")
            summary.failures += _count(element, "failures")
            summary.errors += _count(element, "errors")
            summary.skipped += _count(element, "skipped") + _count(element, "disabled")
        if summary.failures + summary.errors + summary.skipped > summary.total:
            raise InvalidReport("The report counts more failures, errors and skips than tests.")
    # The suite's own time includes set-up and tear-down; prefer it when given.
    if root.get("time"):
        summary.duration_seconds = _seconds(root)
    elif root.tag == "testsuites" and any(s.get("time") for s in suites):
        summary.duration_seconds = sum(_seconds(s) for s in suites)
    summary.duration_seconds = round(summary.duration_seconds, 3)
    if not summary.name and len(suites) == 1:
        summary.name = (suites[0].get("name") or "").strip()[:200]
    return summary
