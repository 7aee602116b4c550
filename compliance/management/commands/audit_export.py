import sys
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from audit.exports import ExportPlan, csv_stream, jsonl_stream
from compliance.filters import FILTER_PARAMS, audit_filters_parse
from core.exceptions import DomainError


class Command(BaseCommand):
    help = (
        "Write the audit trail as JSON Lines (default) or CSV, as the export pages do. Without --as the "
        "whole chain is exported (operators only); with --as USER, what that person may export."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
        parser.add_argument("--output", "-o", help="file to write (default: standard output)")
        parser.add_argument("--as", dest="username", help="export what this person may see")
        for name in FILTER_PARAMS:
            parser.add_argument(f"--{name}", dest=f"filter_{name}", default="")

    def handle(self, *args, **options):
        user: object  # a User, or for operators a stand-in superuser
        if options["username"]:
            user = get_user_model().objects.filter(username=options["username"]).first()
            if user is None:
                raise CommandError(f"No user named {options['username']!r}.")
        else:
            user = SimpleNamespace(is_superuser=True, is_authenticated=True, pk=None)
        params = {name: options[f"filter_{name}"] for name in FILTER_PARAMS}
        try:
            filters = audit_filters_parse(user, params)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        plan = ExportPlan(filters)
        stream = jsonl_stream(plan) if options["format"] == "jsonl" else csv_stream(plan)
        out = open(options["output"], "wb") if options["output"] else sys.stdout.buffer  # noqa: SIM115
        try:
            for chunk in stream:
                out.write(chunk)
        finally:
            if options["output"]:
                out.close()
            else:
                out.flush()
