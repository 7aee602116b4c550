import time

from django.core.management.base import BaseCommand, CommandError

from audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Walk the audit chain and report the first broken sequence number (exit 1 if any)."

    def handle(self, *args, **options):
        started = time.perf_counter()
        count, broken = audit_chain_verify()
        elapsed = time.perf_counter() - started
        if broken:
            raise CommandError(f"{broken}. {count} events verified before it.")
        rate = count / elapsed if elapsed else 0
        self.stdout.write(self.style.SUCCESS(
            f"Audit chain intact: {count} events verified in {elapsed:.2f}s ({rate:,.0f} events/s)."
        ))
