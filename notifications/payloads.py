"""What each kind of channel receives: Slack Block Kit, a Teams Adaptive Card, signed JSON.

Pure functions of a delivery's stored message, so every attempt of one row sends the
same bytes apart from the Standard Webhooks timestamp.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

# Slack's documented limits for Block Kit messages (api.slack.com/reference/block-kit/blocks).
SLACK_HEADER_MAX = 150
SLACK_SECTION_MAX = 3000
SLACK_BLOCKS_MAX = 50
# Slack shortens a message's ``text`` beyond 40,000 characters; we stop well before.
SLACK_TEXT_MAX = 4000
ELLIPSIS = "…"


def cut(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, ending in "…" when it had to be shortened."""
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


@dataclass(frozen=True)
class Message:
    """A delivery's message as the payload builders read it."""

    uid: str
    event_key: str
    event_label: str
    project: str
    subject: str
    body: str
    url: str  # absolute, or ""
    release: str  # version, or ""
    data: dict[str, Any]
    created_at: str  # ISO 8601


def _chunks(text: str, size: int) -> list[str]:
    """Split ``text`` into pieces of at most ``size`` characters, at line breaks where possible."""
    pieces: list[str] = []
    rest = text.strip()
    while rest:
        if len(rest) <= size:
            pieces.append(rest)
            break
        cut_at = rest.rfind("\n", 0, size)
        if cut_at < size // 2:
            cut_at = size
        pieces.append(rest[:cut_at].rstrip())
        rest = rest[cut_at:].lstrip("\n")
    return pieces


def slack_payload(message: Message) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": cut(message.subject, SLACK_HEADER_MAX)},
        }
    ]
    footer = {
        "type": "context",
        "elements": [
            {
                "type": "mrkdwn",
                "text": cut(
                    f"{message.project}"
                    + (f" · {message.release}" if message.release else "")
                    + (f" · <{message.url}|Open in Shipcheck>" if message.url else ""),
                    SLACK_SECTION_MAX,
                ),
            }
        ],
    }
    room = SLACK_BLOCKS_MAX - 2  # the header and the footer
    sections = _chunks(message.body, SLACK_SECTION_MAX)
    if len(sections) > room:
        sections = sections[:room]
        sections[-1] = cut(sections[-1] + "\n" + ELLIPSIS, SLACK_SECTION_MAX)
    for piece in sections:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": piece}})
    blocks.append(footer)
    text = message.subject + (f"\n{message.body}" if message.body else "")
    return {"text": cut(text, SLACK_TEXT_MAX), "blocks": blocks}


def teams_payload(message: Message) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": message.subject,
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        },
    ]
    if message.body:
        body.append({"type": "TextBlock", "text": message.body, "wrap": True})
    facts = [{"title": "Project", "value": message.project}]
    if message.release:
        facts.append({"title": "Release", "value": message.release})
    facts.append({"title": "Event", "value": message.event_label})
    body.append({"type": "FactSet", "facts": facts})
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if message.url:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": "Open in Shipcheck", "url": message.url}
        ]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def webhook_payload(message: Message) -> dict[str, Any]:
    return {
        "id": message.uid,
        "type": message.event_key,
        "timestamp": message.created_at,
        "data": {
            "project": message.project,
            "release": message.release or None,
            "subject": message.subject,
            "body": message.body,
            "url": message.url or None,
            **{k: v for k, v in message.data.items() if k not in ("subject", "body")},
        },
    }


def body_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()


# --- Signatures ------------------------------------------------------------------------------


def new_secret() -> str:
    """A signing secret in the Standard Webhooks form: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def github_signature(secret: str, body: bytes) -> str:
    """``X-Hub-Signature-256``: HMAC-SHA256 of the body under the secret as written, in hex."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def standard_key(secret: str) -> bytes:
    """The Standard Webhooks key: the base64 after ``whsec_``; any other secret as its bytes."""
    if secret.startswith("whsec_"):
        encoded = secret[len("whsec_") :]
        return base64.b64decode(encoded + "=" * (-len(encoded) % 4))
    return secret.encode()


def standard_signature(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """``webhook-signature``: ``v1,`` and the base64 HMAC-SHA256 of ``id.timestamp.body``."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(standard_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_headers(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
    }
    if secret:
        headers["X-Hub-Signature-256"] = github_signature(secret, body)
        headers["webhook-signature"] = standard_signature(
            secret, msg_id=msg_id, timestamp=timestamp, body=body
        )
    return headers
