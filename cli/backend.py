"""A PEP 517 build backend for the ``shipcheck-pipeline`` distribution (the CLI only).

``pip wheel ./cli`` (or ``python -m build --wheel cli``) builds the same wheel
the server offers at ``/cli/``, from ``../shipcheck_cli``; no build
dependencies. See core/cli_dist.py.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

_BUILDER = Path(__file__).resolve().parents[1] / "core" / "cli_dist.py"


def _builder():
    spec = importlib.util.spec_from_file_location("shipcheck_cli_dist", _BUILDER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name, data = _builder().build_wheel_bytes()
    (Path(wheel_directory) / name).write_bytes(data)
    return name
