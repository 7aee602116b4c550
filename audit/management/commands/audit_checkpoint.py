import json

from django.core.management.base import BaseCommand

from audit.checkpoints import audit_checkpoint_take


class Command(BaseCommand):
    help = "Sign the current heads of the audit chain (and of every project that moved) as a checkpoint."

    def handle(self, *args, **options):
        checkpoints = audit_checkpoint_take()
        if not checkpoints:
            self.stdout.write("Nothing new since the last checkpoint.")
            return
        for checkpoint in checkpoints:
            self.stdout.write(json.dumps(checkpoint.statement(), sort_keys=True))
        self.stdout.write(self.style.SUCCESS(f"{len(checkpoints)} checkpoint statement(s) signed."))
