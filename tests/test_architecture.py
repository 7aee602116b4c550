"""The import contracts of pyproject.toml ([tool.importlinter], docs/architecture.md).

`make lint` runs them on the tree; these tests make sure they cover every app
and that they really break when an app imports upwards or sideways.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _importlinter() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def _layers() -> list[set[str]]:
    (contract,) = [c for c in _importlinter()["contracts"] if c["id"] == "layers"]
    return [
        {name.strip() for name in layer.replace(":", "|").split("|")}
        for layer in contract["layers"]
    ]


def _our_apps() -> set[str]:
    return {
        config.name.split(".")[0]
        for config in apps.get_app_configs()
        if Path(config.path).resolve().parent == ROOT
    }


def test_every_app_of_ours_has_a_place_in_the_layers():
    placed = set().union(*_layers())
    missing = _our_apps() - placed
    assert not missing, f"give these apps a layer in pyproject.toml [tool.importlinter]: {missing}"
    assert _our_apps() <= set(_importlinter()["root_packages"])


def _tree_copy(tmp_path: Path) -> Path:
    """The Python packages of the checkout (no .venv, tests, node_modules), copied."""
    copy = tmp_path / "tree"
    copy.mkdir()
    shutil.copy(ROOT / "pyproject.toml", copy)
    for package in _importlinter()["root_packages"]:
        shutil.copytree(
            ROOT / package,
            copy / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.html", "*.css", "*.js", "*.ttf"),
        )
    return copy


def _lint(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # the trail may not read releases (the reports that do live in compliance/)
        ("audit/chain.py", "import releases.models", "audit is not allowed to import releases"),
        # a feature app may not reach into another one
        (
            "monitoring/gates.py",
            "import approvals.models",
            "monitoring is not allowed to import approvals",
        ),
        # nothing below the top may import the reports
        ("releases/models.py", "import compliance", "releases is not allowed to import compliance"),
    ],
)
def test_the_contracts_break_on_an_upward_or_sideways_import(tmp_path, module, line, broken):
    tree = _tree_copy(tmp_path)
    clean = _lint(tree)
    assert clean.returncode == 0, clean.stdout
    with (tree / module).open("a") as handle:
        handle.write(f"\n{line}  # a deliberate violation\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert broken in result.stdout


# A module this long holds more than one concern; the few that are longer say why
# in their docstring, in a paragraph that starts with "Size:".
MODULE_LINES_MAX = 550


def test_no_app_module_is_longer_than_about_500_lines_without_saying_why():
    too_long = []
    for package in _importlinter()["root_packages"]:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            text = path.read_text()
            if text.count("\n") <= MODULE_LINES_MAX:
                continue
            docstring = ast.get_docstring(ast.parse(text)) or ""
            if "Size:" not in docstring:
                too_long.append(f"{path.relative_to(ROOT)} ({text.count(chr(10))} lines)")
    assert not too_long, "split these modules, or say why they are long: " + ", ".join(too_long)


def _import_cycles(package: str) -> list[tuple[str, str]]:
    """Pairs of modules of one app that import each other (also inside functions)."""
    imports: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        found = imports.setdefault(module, set())
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
    return sorted(
        (a, b)
        for a, targets in imports.items()
        for b in targets
        if a < b
        and b in imports
        and a in imports[b]
        and not b.startswith(a + ".")
        and not a.startswith(b + ".")
    )


@pytest.mark.parametrize("package", sorted(_importlinter()["root_packages"]))
def test_no_two_modules_of_an_app_import_each_other(package):
    assert _import_cycles(package) == []
