"""docs/audit.md's worked example, recomputed from the document's own text.

Only the standard library and ``cryptography``: what an auditor writing a
verifier from the page would use. Then Shipcheck's own offline verifier must
accept the example export, and the application's functions must agree.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

DOC = Path(__file__).resolve().parents[2] / "docs" / "audit.md"
HASHED = [
    "seq",
    "created_at",
    "actor_kind",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "project_id",
    "release_id",
    "from_state",
    "to_state",
    "reason",
    "data",
    "prev_hash",
]
GENESIS = "0" * 64


def _blocks() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    found = dict(re.findall(r"```\w+ example=([\w-]+)\n(.*?)\n```", text, re.DOTALL))
    assert {"key", "keys", "event-1", "event-3", "checkpoint", "export"} <= set(found)
    return found


def _values(block: str) -> dict[str, str]:
    return dict(
        line.split(": ", 1) if ": " in line else (line.rstrip(":"), "")
        for line in block.splitlines()
    )


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _hmac(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


@pytest.fixture(scope="module")
def doc():
    return _blocks()


def test_worked_example__keys_follow_from_the_signing_key(doc):
    key = doc["key"].strip().encode()
    keys = _values(doc["keys"])
    mac_key = hmac.new(key, b"shipcheck-audit-event-mac", hashlib.sha256).digest()
    assert keys["event MAC key"] == mac_key.hex()
    assert keys["key_id"] == hashlib.sha256(b"shipcheck-audit-key-id:" + key).hexdigest()[:16]
    seed = hmac.new(key, b"shipcheck-audit-ed25519-seed", hashlib.sha256).digest()
    assert keys["Ed25519 seed"] == seed.hex()
    public = (
        Ed25519PrivateKey.from_private_bytes(seed)
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )
    assert keys["Ed25519 public key"] == public.hex()
    assert (
        keys["public_key_id"]
        == hashlib.sha256(b"shipcheck-audit-public-key-id:" + public).hexdigest()[:16]
    )


def test_worked_example__every_event_value_recomputes(doc):
    mac_key = bytes.fromhex(_values(doc["keys"])["event MAC key"])
    prev, project_heads = GENESIS, {}
    for n in (1, 2, 3):
        event = json.loads(doc[f"event-{n}"])
        values = _values(doc[f"event-{n}-values"])
        canonical = _canonical({name: event[name] for name in HASHED})
        assert canonical == doc[f"event-{n}-canonical"]
        assert event["prev_hash"] == prev
        assert _sha(canonical) == values["hash"] == event["hash"]
        if event["project_id"] is None:
            assert event["project_seq"] is None and event["project_hash"] == ""
        else:
            position, link = project_heads.get(event["project_id"], (0, GENESIS))
            assert event["project_seq"] == position + 1
            assert event["project_prev_hash"] == link
            link_input = f"{link}:{position + 1}:{event['hash']}"
            assert values["project link input"] == link_input
            assert _sha(link_input) == values["project_hash"] == event["project_hash"]
            project_heads[event["project_id"]] = (position + 1, event["project_hash"])
        mac_input = f"{event['hash']}:{event['project_hash']}"
        assert values["mac input"] == mac_input
        assert hmac.new(mac_key, mac_input.encode(), hashlib.sha256).hexdigest() == values["mac"]
        assert values["mac"] == event["mac"]
        prev = event["hash"]


def test_worked_example__checkpoint_signatures_recompute(doc):
    key = doc["key"].strip().encode()
    keys = _values(doc["keys"])
    statement = json.loads(doc["checkpoint"])
    values = _values(doc["checkpoint-values"])
    last = json.loads(doc["event-3"])
    assert statement["head_hash"] == statement["hash"] == last["hash"]
    hmac_input = _canonical(
        {k: statement[k] for k in ("scope", "seq", "hash", "project_seq", "created_at", "key_id")}
    )
    assert hmac_input == values["HMAC input"]
    assert _hmac(key, hmac_input) == statement["signature"]
    ed_input = _canonical(
        {
            k: statement[k]
            for k in (
                "format",
                "scope",
                "seq",
                "project_seq",
                "head_hash",
                "created_at",
                "public_key_id",
            )
        }
    )
    assert ed_input == values["Ed25519 input"]
    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(keys["Ed25519 public key"]))
    public.verify(bytes.fromhex(statement["ed25519_signature"]), ed_input.encode())  # raises if bad
    assert statement["public_key_id"] == keys["public_key_id"]


def test_worked_example__export_header_and_seal_recompute(doc):
    key = doc["key"].strip().encode()
    lines = doc["export"].split("\n")
    assert len(lines) == 5
    header, *events, end = lines
    assert [json.loads(line) for line in events] == [
        json.loads(doc[f"event-{n}"]) for n in (1, 2, 3)
    ]
    assert json.loads(header)["checkpoints"] == [json.loads(doc["checkpoint"])]
    values = _values(doc["export-values"])
    assert hashlib.sha256(header.encode("utf-8")).hexdigest() == values["header_sha256"]
    seal = json.loads(end)["seal"]
    assert seal["header_sha256"] == values["header_sha256"]
    seal_input = _canonical({k: v for k, v in seal.items() if k != "signature"})
    assert seal_input == values["seal input"]
    assert _hmac(key, seal_input) == seal["signature"]


def test_worked_example__shipcheck_verifiers_agree(doc, tmp_path):
    from audit.chain import compute_hash, event_mac, event_mac_key
    from audit.offline_verify import EXIT_OK, verify_file

    key = doc["key"].strip().encode()
    for n in (1, 2, 3):
        event = json.loads(doc[f"event-{n}"])
        assert compute_hash(event) == event["hash"]
        assert event_mac(event_mac_key(key), event["hash"], event["project_hash"]) == event["mac"]
    path = tmp_path / "example.jsonl"
    path.write_text(doc["export"] + "\n", encoding="utf-8")
    public = bytes.fromhex(_values(doc["keys"])["Ed25519 public key"])
    result = verify_file(str(path), key, public_key=public)
    assert result.status == EXIT_OK, result.as_dict()
    assert result.rows == 3
    # One changed character anywhere in an event is a break at its seq.
    tampered = doc["export"].replace('"reason":"nightly \\"check\\""', '"reason":"nightly"')
    assert tampered != doc["export"]
    path.write_text(tampered + "\n", encoding="utf-8")
    broken = verify_file(str(path), key, public_key=public)
    assert broken.broken is not None and broken.broken.seq == 2
