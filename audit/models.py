from django.db import models


class ActorKind(models.TextChoices):
    USER = "user", "Person"
    TOKEN = "token", "API token"
    SYSTEM = "system", "Shipcheck"


class AuditEvent(models.Model):
    """One state change. Append-only: database triggers refuse UPDATE and DELETE.

    Foreign keys are plain integers on purpose: the trail must outlive the
    objects it talks about, and cascades would try to rewrite it.
    """

    seq = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField(db_index=True)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=300, blank=True)
    project_id = models.BigIntegerField(null=True, blank=True)
    release_id = models.BigIntegerField(null=True, blank=True)
    from_state = models.CharField(max_length=64, blank=True)
    to_state = models.CharField(max_length=64, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    # The project's own chain (audit/chain.py): position among the project's
    # events and a link to the one before, so a one-project export is provable.
    project_seq = models.BigIntegerField(null=True, blank=True)
    project_prev_hash = models.CharField(max_length=64, blank=True)
    project_hash = models.CharField(max_length=64, blank=True)
    # HMAC-SHA256 of "<hash>:<project_hash>" under a key derived from the
    # application's signing key (audit/chain.py, Event MACs): the database
    # does not hold the key, so a row written around the application is named.
    mac = models.CharField(max_length=64, blank=True, db_default="")
    # ``data`` as canonical JSON, the exact text the hash covers, written with the
    # event: the verifier hashes it directly instead of re-spelling ``data``, and
    # checks in SQL that ``data`` still equals it (audit.selectors.data_mismatch).
    data_text = models.TextField(blank=True, default="", db_default="")

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["project_id", "project_seq"], name="audit_project_position"
            ),
        ]
        indexes = [
            models.Index(fields=["project_id", "seq"], name="audit_project_seq"),
            models.Index(fields=["release_id", "seq"], name="audit_release_seq"),
            models.Index(fields=["actor_kind", "actor_id", "seq"], name="audit_actor_seq"),
            models.Index(fields=["action", "seq"], name="audit_action_seq"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    def hashed_fields(self) -> dict:
        from audit.chain import HASHED_FIELDS

        fields = {name: getattr(self, name) for name in HASHED_FIELDS}
        fields["created_at"] = format_timestamp(self.created_at)
        return fields


def format_timestamp(value) -> str:
    """UTC, microseconds, fixed width: the form the hash is computed over."""
    from datetime import UTC

    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class AuditCheckpoint(models.Model):
    """A signed statement of a chain head: "the chain reached this event at this time".

    ``project_id`` None: the whole chain (``seq``/``hash`` of its last event).
    Otherwise one project's chain (``project_seq``/``hash`` = the project link
    hash of its last event). ``hash`` is printed as ``head_hash`` (and, for
    older readers, ``hash``). Signed twice: HMAC-SHA256 (``signature``, key
    ``SHIPCHECK_AUDIT_SIGNING_KEY``) and Ed25519 (``ed25519_signature``, the
    private key in the environment, verifiable with the public key by anyone).
    Neither key is in the database. Append-only like events; also published
    outside the database (audit/checkpoints.py).
    """

    created_at = models.DateTimeField()
    project_id = models.BigIntegerField(null=True, blank=True)
    seq = models.BigIntegerField()
    project_seq = models.BigIntegerField(null=True, blank=True)
    hash = models.CharField(max_length=64)
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=64)
    public_key_id = models.CharField(max_length=16, blank=True)
    ed25519_signature = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["-seq", "-id"]
        indexes = [models.Index(fields=["project_id", "seq"], name="audit_checkpoint_scope")]

    def __str__(self) -> str:
        return f"checkpoint {self.scope} @ {self.seq}"

    @property
    def scope(self) -> str:
        return "all" if self.project_id is None else f"project:{self.project_id}"

    def statement(self) -> dict:
        """The signed statement, as exports print it and verifiers check it (docs/audit.md)."""
        return {
            "format": 2 if self.ed25519_signature else 1,
            "scope": self.scope,
            "seq": self.seq,
            "project_seq": self.project_seq,
            "head_hash": self.hash,
            "hash": self.hash,
            "created_at": format_timestamp(self.created_at),
            "key_id": self.key_id,
            "signature": self.signature,
            "public_key_id": self.public_key_id or None,
            "ed25519_signature": self.ed25519_signature or None,
        }
