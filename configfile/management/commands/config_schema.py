"""Print the JSON Schema of shipcheck.yml, or write it to docs/shipcheck.schema.json."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from configfile.schema import config_schema_text

DOCS_FILE = Path(settings.BASE_DIR) / "docs" / "shipcheck.schema.json"


class Command(BaseCommand):
    help = "Print the JSON Schema of shipcheck.yml (--write: update docs/shipcheck.schema.json)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--write",
            action="store_true",
            help=f"Write it to {DOCS_FILE.relative_to(settings.BASE_DIR)}.",
        )

    def handle(self, *args, write: bool = False, **options):
        text = config_schema_text()
        if write:
            DOCS_FILE.write_text(text, encoding="utf-8")
            self.stdout.write(f"Wrote {DOCS_FILE.relative_to(settings.BASE_DIR)}.")
        else:
            self.stdout.write(text, ending="")
