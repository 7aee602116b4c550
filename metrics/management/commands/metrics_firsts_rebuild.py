"""Recompute the stored first production deployment of every commit (docs/metrics.md)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from metrics.firsts import firsts_rebuild
from projects.models import Project


class Command(BaseCommand):
    help = (
        "Recompute metrics' table of each commit's first successful production deployment "
        "(what lead time for changes reads) from the deployments and commits, for every "
        "project or the ones named. Safe to run at any time, as often as you like."
    )

    def add_arguments(self, parser):
        parser.add_argument("--project", action="append", default=[], help="a project slug")

    def handle(self, *args, **options):
        ids = None
        if options["project"]:
            found = dict(
                Project.objects.filter(slug__in=options["project"]).values_list("slug", "pk")
            )
            missing = sorted(set(options["project"]) - set(found))
            if missing:
                raise CommandError(f"No such project: {', '.join(missing)}.")
            ids = list(found.values())
        with transaction.atomic():
            rows = firsts_rebuild(ids)
        self.stdout.write(f"{rows} commits at their first production deployment.")
