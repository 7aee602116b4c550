import time

from django.core.management.base import BaseCommand, CommandError

from audit.selectors import audit_chain_check
from audit.verify_parallel import MAX_EXPLICIT_WORKERS


class Command(BaseCommand):
    help = (
        "Walk the audit chain (every event, every project's chain) and hold it to the latest signed "
        "checkpoints; report the first broken sequence number (exit 1 if any)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all-checkpoints",
            action="store_true",
            help="hold the chain to every checkpoint ever taken, not only the latest ones",
        )
        parser.add_argument(
            "--published",
            metavar="FILE",
            help="also hold the chain to the checkpoints published in FILE (default: "
            "SHIPCHECK_AUDIT_CHECKPOINT_DIR/audit-checkpoints.jsonl when that is set)",
        )
        parser.add_argument(
            "--workers",
            type=int,
            help="processes walking the chain side by side (PostgreSQL only; default: one per core "
            "for a chain of 200,000 events or more, else one)",
        )

    def handle(self, *args, **options):
        workers = options["workers"]
        if workers is not None and not 1 <= workers <= MAX_EXPLICIT_WORKERS:
            raise CommandError(
                f"--workers takes a number of processes from 1 to {MAX_EXPLICIT_WORKERS}."
            )
        started = time.perf_counter()
        report = audit_chain_check(
            all_checkpoints=options["all_checkpoints"],
            workers=workers,
            published=options["published"],
        )
        elapsed = time.perf_counter() - started
        for warning in report.warnings:
            self.stderr.write(self.style.WARNING(f"Warning: {warning}"))
        if report.bad_signatures:
            raise CommandError(
                "Checkpoints that cannot be trusted: " + "; ".join(report.bad_signatures)
            )
        if report.broken:
            raise CommandError(f"{report.broken}. {report.count} events verified before it.")
        rate = report.count / elapsed if elapsed else 0
        held = len(report.checkpoints)
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain intact: {report.count} events verified in {elapsed:.2f}s ({rate:,.0f} events/s); "
                f"held to {held} signed checkpoint{'s' if held != 1 else ''}."
            )
        )
