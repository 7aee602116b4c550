"""Install or update the checklist templates shipped with Shipcheck (safe to run any time)."""

from django.core.management.base import BaseCommand

from checklists.template_content import shipped_templates_install


class Command(BaseCommand):
    help = (
        "Install the shipped checklist templates (release procedure, hotfix, environment readiness), "
        "publishing a new version of any whose content changed. Running it again changes nothing."
    )

    def handle(self, *args, **options):
        published = shipped_templates_install()
        self.stdout.write(
            self.style.SUCCESS(
                f"Shipped checklist templates up to date ({published} new versions)."
            )
        )
