"""Load the demo data: people, projects, releases, then every app's own demo records."""

from __future__ import annotations

import importlib
import importlib.util

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from audit.selectors import audit_chain_verify
from releases import demo


class Command(BaseCommand):
    help = (
        "Create the demo project 'Storefront' with people in every role and releases in every state. "
        "Safe to run again: existing demo data is left as it is."
    )

    def handle(self, *args, **options):
        ctx = demo.foundation(self.stdout)
        modules = []
        for app_config in apps.get_app_configs():
            module_name = f"{app_config.name}.demo"
            if importlib.util.find_spec(module_name) is not None:
                modules.append(importlib.import_module(module_name))
        # Two passes, so the trail tells the story in order: everything up to production
        # (``seed``), then production and what follows it (``seed_late``); see releases/demo.py.
        for phase in ("seed", "seed_late"):
            for module in modules:
                step = getattr(module, phase, None)
                if callable(step):
                    step(ctx)
        count, broken = audit_chain_verify()
        if broken:
            raise CommandError(f"The audit chain does not verify after seeding: {broken}.")
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready; audit chain intact ({count} events).")
        )
        self.stdout.write("")
        self.stdout.write(format_logins())


def format_logins() -> str:
    lines = [f"Demo logins (password '{demo.DEMO_PASSWORD}' for everyone):"]
    lines += [f"  {username:<8} {about}" for username, about in demo.login_table()]
    return "\n".join(lines)
