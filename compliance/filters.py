"""Read the audit filters from a query string, refusing malformed ones with a clear message.

The browser, the exports, the API and the release-history report share this
parser, so the same query string means the same events everywhere. It narrows
the selection to the projects the reader may see; the selection itself
(``AuditFilters``) belongs to the trail (audit.filters).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from audit.filters import AuditFilters
from core.exceptions import ValidationFailed
from projects.choices import TokenScope
from projects.models import Membership, Project
from projects.principals import is_token
from projects.selectors import project_list
from releases.models import Release

# Query parameters the filters understand (also what the API documents).
FILTER_PARAMS = ("project", "release", "person", "action", "from", "to")
ACTION_PATTERN = re.compile(r"^[a-z0-9_.\-]{1,80}\*?$")
MAX_TEXT = 200


def _text(params, name: str) -> str:
    value = params.get(name, "")
    if not isinstance(value, str):
        value = str(value)
    value = value.strip()
    if "\x00" in value:
        raise ValidationFailed(
            f"The {name} filter contains a NUL character.", details={name: "invalid"}
        )
    if len(value) > MAX_TEXT:
        raise ValidationFailed(
            f"The {name} filter is longer than {MAX_TEXT} characters.", details={name: "too long"}
        )
    return value


def parse_moment(value: str, name: str, *, end: bool = False) -> datetime:
    """A date (YYYY-MM-DD) or an ISO date-time; a date as ``to`` means the end of that day."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day + timedelta(days=1) if end else day, time.min)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T", 1))
    except (ValueError, OverflowError):
        raise ValidationFailed(
            f"'{value[:40]}' is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM for '{name}'.",
            details={name: "invalid date"},
        ) from None
    if not 1970 <= moment.year <= 9998:
        raise ValidationFailed(
            f"The '{name}' date must lie between 1970 and 9998.", details={name: "out of range"}
        )
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_current_timezone())
    return moment


def visible_project_ids(user) -> list[int]:
    """Projects whose trail ``user`` may read (a token needs the read scope)."""
    if is_token(user) and not user.has_scope(TokenScope.READ):
        return []
    return list(project_list(user=user).values_list("pk", flat=True))


def audit_filters_parse(user, params) -> AuditFilters:
    """Turn query parameters into ``AuditFilters`` for ``user`` or raise ValidationFailed.

    A project or release the user cannot see is answered exactly like one that
    does not exist, so filters never reveal another project's data.
    """
    raw = {name: _text(params, name) for name in FILTER_PARAMS}
    everything = bool(getattr(user, "is_superuser", False)) and not is_token(user)
    visible = (
        list(Project.objects.values_list("pk", flat=True))
        if everything
        else visible_project_ids(user)
    )
    filters = AuditFilters(project_ids=visible, everything=everything, raw=raw)

    if raw["project"]:
        if _is_id(raw["project"]):
            project = Project.objects.filter(pk=int(raw["project"])).first()
        else:
            project = Project.objects.filter(slug=raw["project"]).first()
        if project is None or (project.pk not in visible and not everything):
            raise ValidationFailed(
                f"No project '{raw['project'][:60]}' among yours.", details={"project": "unknown"}
            )
        filters.project = project
        filters.project_ids = [project.pk]
        raw["project"] = project.slug

    if raw["release"]:
        releases = Release.objects.all()
        if not everything:
            releases = releases.filter(project_id__in=filters.project_ids)
        if filters.project is not None:
            releases = releases.filter(project_id=filters.project.pk)
        if raw["release"].isdigit():
            release = (
                releases.filter(pk=int(raw["release"])).first() if _is_id(raw["release"]) else None
            )
        elif filters.project is not None:
            release = releases.filter(version=raw["release"]).first()
        else:
            raise ValidationFailed(
                "Choose a project to find a release by its version, or give the release's id.",
                details={"release": "ambiguous"},
            )
        if release is None:
            raise ValidationFailed(
                f"No release '{raw['release'][:60]}' among your projects.",
                details={"release": "unknown"},
            )
        filters.release_id = release.pk
        filters.release_label = release.version

    if raw["person"]:
        filters.actor = _parse_person(raw["person"], filters, everything)

    if raw["action"]:
        action = raw["action"].lower()
        if not ACTION_PATTERN.match(action):
            raise ValidationFailed(
                "An action looks like 'release.created'; end it with '.' or '*' to match a family "
                "('approval.').",
                details={"action": "invalid"},
            )
        filters.action_prefix = action.endswith((".", "*"))
        filters.action = action.rstrip("*")

    if raw["from"]:
        filters.date_from = parse_moment(raw["from"], "from")
    if raw["to"]:
        filters.date_to = parse_moment(raw["to"], "to", end=True)
    if filters.date_from and filters.date_to and filters.date_from >= filters.date_to:
        raise ValidationFailed(
            "The date range ends before it starts: swap 'from' and 'to'.",
            details={"to": "before from"},
        )
    return filters


def _is_id(value: str) -> bool:
    """Digits that fit a database id (a longer number would overflow bigint: it names nothing)."""
    return value.isdigit() and len(value) <= 18


def _parse_person(
    value: str, filters: AuditFilters, everything: bool
) -> tuple[str, int | None, str]:
    if value == "shipcheck":
        return ("system", None, "shipcheck")
    if value.startswith("token:"):
        return ("token", None, value)
    users = get_user_model().objects.filter(username=value)
    if not everything:
        members = Membership.objects.filter(project_id__in=filters.project_ids).values("user_id")
        users = users.filter(pk__in=members)
    person = users.first()
    if person is None:
        raise ValidationFailed(
            f"No person '{value[:60]}' in your projects.", details={"person": "unknown"}
        )
    return ("user", person.pk, person.get_username())
