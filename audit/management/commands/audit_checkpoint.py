import json

from django.core.management.base import BaseCommand, CommandError

from audit.chain import public_key_id
from audit.checkpoints import AuditTampered, audit_checkpoint_take, public_key


class Command(BaseCommand):
    help = (
        "Verify the events since the last checkpoint, then sign the current heads of the audit "
        "chain (and of every project that moved) as a checkpoint and publish it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--public-key",
            action="store_true",
            help="print the Ed25519 public key auditors verify checkpoints with, and stop",
        )

    def handle(self, *args, **options):
        if options["public_key"]:
            raw = public_key()
            self.stdout.write(f"{raw.hex()}  (public key id {public_key_id(raw)})")
            return
        try:
            checkpoints = audit_checkpoint_take()
        except AuditTampered as exc:
            raise CommandError(str(exc)) from exc
        if not checkpoints:
            self.stdout.write("Nothing new since the last checkpoint.")
            return
        for checkpoint in checkpoints:
            self.stdout.write(json.dumps(checkpoint.statement(), sort_keys=True))
        self.stdout.write(self.style.SUCCESS(f"{len(checkpoints)} checkpoint statement(s) signed."))
