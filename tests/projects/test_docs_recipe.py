"""docs/administration.md promises a curl recipe that signs in and creates a project."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from projects.models import Project

pytestmark = pytest.mark.django_db(transaction=True)

DOC = Path(__file__).resolve().parents[2] / "docs" / "administration.md"


def _recipe() -> str:
    text = DOC.read_text()
    section = text[text.index("A script signs in once") :]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def test_docs__curl_recipe_creates_a_project_with_four_environments(live_server, tmp_path):
    if shutil.which("curl") is None:
        # The recipe is for people with curl; in CI its absence fails, never skips.
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("curl is missing: the docs' curl recipe cannot be checked.")
        pytest.skip("curl is not installed")
    get_user_model().objects.create_user("ops", password="long enough 1", is_staff=True)
    script = _recipe().replace("BASE=http://127.0.0.1:8000", f"BASE={live_server.url}")
    result = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=tmp_path,
        env={"PASSWORD": "long enough 1", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert '"slug":"ledger"' in result.stdout.replace(" ", "")
    project = Project.objects.get(slug="ledger")
    assert list(project.environments.order_by("order").values_list("name", flat=True)) == [
        "dev",
        "qa",
        "staging",
        "production",
    ]
