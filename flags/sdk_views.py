"""What applications call: OFREP (OpenFeature Remote Evaluation Protocol) and Unleash's client API.

Authenticated by an environment's SDK key (``Authorization: Bearer <key>``,
``Authorization: <key>`` as Unleash SDKs send it, or ``X-API-Key``); no
session, no CSRF (a key is not a cookie). Once the key's owner and the
environment's flag set are cached, an evaluation runs no SQL query.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from flags.bucketing import FlagRule, evaluate
from flags.choices import Stickiness
from flags.selectors import FlagSet, KeyOwner, flag_set_for, sdk_key_owner

MAX_BODY = 64 * 1024


def _raw_key(request) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "").strip()
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return header or request.META.get("HTTP_X_API_KEY", "").strip()


def _owner(request) -> KeyOwner | None:
    raw = _raw_key(request)
    return sdk_key_owner(raw) if raw else None


def _unauthorized() -> JsonResponse:
    response = JsonResponse(
        {"errorCode": "UNAUTHORIZED", "errorDetails": "Send an SDK key of this environment."},
        status=401,
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


# --- OFREP ------------------------------------------------------------------------------------


class BadContext(Exception):
    def __init__(self, code: str, details: str):
        super().__init__(details)
        self.code, self.details = code, details


def _context(request) -> dict[str, Any]:
    if len(request.body) > MAX_BODY:
        raise BadContext("INVALID_CONTEXT", "The request body is too large.")
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise BadContext("PARSE_ERROR", "The request body is not JSON.") from None
    if not isinstance(body, dict):
        raise BadContext("INVALID_CONTEXT", "The body must be an object with a 'context'.")
    context = body.get("context", {})
    if not isinstance(context, dict):
        raise BadContext("INVALID_CONTEXT", "'context' must be an object.")
    for name in ("targetingKey", "userId", "sessionId"):
        if name in context and not isinstance(context[name], str):
            raise BadContext("INVALID_CONTEXT", f"'{name}' must be a string.")
    return context


def _identity(rule: FlagRule, context: dict[str, Any]) -> tuple[str | None, str | None]:
    user_id = context.get("userId") or context.get("targetingKey") or None
    if rule.stickiness == Stickiness.SESSION_ID:
        return context.get("sessionId") or None, user_id
    return user_id, user_id


def _evaluate(rule: FlagRule, context: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    identifier, user_id = _identity(rule, context)
    if rule.enabled and identifier is None and user_id is None:
        return 400, {
            "key": rule.key,
            "errorCode": "TARGETING_KEY_MISSING",
            "errorDetails": f"'{rule.key}' rolls out by {rule.stickiness}: send a targetingKey"
            + (" or sessionId." if rule.stickiness == Stickiness.SESSION_ID else "."),
        }
    outcome = evaluate(rule, identifier, user_id)
    return 200, {
        "key": rule.key,
        "value": outcome.value,
        "reason": outcome.reason,
        "variant": "on" if outcome.value else "off",
        "metadata": {"rollout": rule.rollout},
    }


@csrf_exempt
@require_POST
def ofrep_flag(request, key: str):
    owner = _owner(request)
    if owner is None:
        return _unauthorized()
    try:
        context = _context(request)
    except BadContext as bad:
        return JsonResponse(
            {"key": key, "errorCode": bad.code, "errorDetails": bad.details}, status=400
        )
    rule = flag_set_for(owner.environment_id, owner.environment_name).rules.get(key)
    if rule is None:
        return JsonResponse(
            {
                "key": key,
                "errorCode": "FLAG_NOT_FOUND",
                "errorDetails": f"No flag '{key[:100]}' in {owner.environment_name}.",
            },
            status=404,
        )
    status, body = _evaluate(rule, context)
    return JsonResponse(body, status=status)


@csrf_exempt
@require_POST
def ofrep_bulk(request):
    owner = _owner(request)
    if owner is None:
        return _unauthorized()
    try:
        context = _context(request)
    except BadContext as bad:
        return JsonResponse({"errorCode": bad.code, "errorDetails": bad.details}, status=400)
    flag_set = flag_set_for(owner.environment_id, owner.environment_name)
    # The answer depends on the flag set and on the context: both make the ETag.
    etag = _bulk_etag(flag_set, context)
    if etag in [t.strip() for t in request.META.get("HTTP_IF_NONE_MATCH", "").split(",")]:
        response = HttpResponse(status=304)
        response["ETag"] = etag
        return response
    flags = [_evaluate(rule, context)[1] for rule in flag_set.rules.values()]
    response = JsonResponse({"flags": flags})
    response["ETag"] = etag
    return response


def _bulk_etag(flag_set: FlagSet, context: dict[str, Any]) -> str:
    import hashlib

    digest = hashlib.sha256(
        (flag_set.etag + json.dumps(context, sort_keys=True, default=str)).encode()
    ).hexdigest()[:32]
    return f'"{digest}"'


# --- Unleash client API ------------------------------------------------------------------------


def _unleash_feature(rule: FlagRule) -> dict[str, Any]:
    strategies: list[dict[str, Any]] = []
    if rule.beta_testers:
        strategies.append(
            {"name": "userWithId", "parameters": {"userIds": ",".join(sorted(rule.beta_testers))}}
        )
    strategies.append(
        {
            "name": "flexibleRollout",
            "parameters": {
                "rollout": str(rule.rollout),
                "stickiness": rule.stickiness,
                "groupId": rule.group_id,
            },
            "constraints": [],
        }
    )
    return {
        "name": rule.key,
        "type": "release",
        "enabled": rule.enabled,
        "stale": False,
        "project": "default",
        "impressionData": False,
        "strategies": strategies,
        "variants": [],
    }


@csrf_exempt
@require_GET
def unleash_features(request):
    owner = _owner(request)
    if owner is None:
        return _unauthorized()
    flag_set = flag_set_for(owner.environment_id, owner.environment_name)
    if flag_set.etag in [t.strip() for t in request.META.get("HTTP_IF_NONE_MATCH", "").split(",")]:
        response = HttpResponse(status=304)
        response["ETag"] = flag_set.etag
        return response
    response = JsonResponse(
        {
            "version": 2,
            "features": [_unleash_feature(rule) for rule in flag_set.rules.values()],
            "query": {"environment": owner.environment_name},
        }
    )
    response["ETag"] = flag_set.etag
    return response


@csrf_exempt
@require_POST
def unleash_accept(request):
    """``/api/client/register`` and ``/api/client/metrics``: accepted and not stored."""
    if _owner(request) is None:
        return _unauthorized()
    return HttpResponse(status=202)
