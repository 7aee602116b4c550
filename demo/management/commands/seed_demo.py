"""Load the demo data: people, projects, releases, then each app's part of the story."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from audit.selectors import audit_chain_verify
from demo import story
from demo.people import DEMO_PASSWORD, login_table


class Command(BaseCommand):
    help = (
        "Create the demo project 'Storefront' with people in every role and releases in every state. "
        "Safe to run again: existing demo data is left as it is."
    )

    def handle(self, *args, **options):
        # The chapters in the order things happened (demo/story.py), so the trail reads in order.
        story.tell(self.stdout)
        count, broken = audit_chain_verify()
        if broken:
            raise CommandError(f"The audit chain does not verify after seeding: {broken}.")
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready; audit chain intact ({count} events).")
        )
        self.stdout.write("")
        self.stdout.write(format_logins())


def format_logins() -> str:
    lines = [f"Demo logins (password '{DEMO_PASSWORD}' for everyone):"]
    lines += [f"  {username:<8} {about}" for username, about in login_table()]
    return "\n".join(lines)
