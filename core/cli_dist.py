"""The ``shipcheck`` command as its own small wheel, built from ``shipcheck_cli/``.

One builder for two uses: the server offers the wheel at ``/cli/`` (built from
its own copy of ``shipcheck_cli/`` at the first request, so a pipeline always
gets the command that matches the server it talks to), and ``cli/`` holds a
PEP 517 backend around the same function (``pip wheel ./cli``), for
publishing the distribution to a package index.

The distribution is ``shipcheck-pipeline`` (the name ``shipcheck`` on the
public index belongs to an unrelated project); it installs the
``shipcheck_cli`` package and the ``shipcheck`` script and needs only
``httpx2``. Pure Python, no Django: nothing here imports the server.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import zipfile
from pathlib import Path

DIST_NAME = "shipcheck-pipeline"
WHEEL_NAME = DIST_NAME.replace("-", "_")
REQUIRES = ("httpx2>=2.16.2,<2.17",)
REQUIRES_PYTHON = ">=3.11"
SUMMARY = "The shipcheck command: report releases, deployments and tests from CI, and ask the gate."
PACKAGE_DIR = Path(__file__).resolve().parents[1] / "shipcheck_cli"
# Fixed timestamps: the same source always gives the same bytes (and the same sha256).
_EPOCH = (2020, 1, 1, 0, 0, 0)


def cli_version(package_dir: Path = PACKAGE_DIR) -> str:
    text = (package_dir / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', text, re.MULTILINE)
    if not match:
        raise ValueError("shipcheck_cli/__init__.py has no __version__")
    return match.group(1)


def wheel_filename(version: str | None = None) -> str:
    return f"{WHEEL_NAME}-{version or cli_version()}-py3-none-any.whl"


def _metadata(version: str) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {DIST_NAME}",
        f"Version: {version}",
        f"Summary: {SUMMARY}",
        "License: Apache-2.0",
        f"Requires-Python: {REQUIRES_PYTHON}",
        *[f"Requires-Dist: {requirement}" for requirement in REQUIRES],
    ]
    return "\n".join(lines) + "\n"


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_wheel_bytes(package_dir: Path = PACKAGE_DIR) -> tuple[str, bytes]:
    """(file name, wheel bytes) for the ``shipcheck_cli`` package in ``package_dir``."""
    version = cli_version(package_dir)
    info = f"{WHEEL_NAME}-{version}.dist-info"
    files: list[tuple[str, bytes]] = [
        (f"shipcheck_cli/{path.name}", path.read_bytes())
        for path in sorted(package_dir.glob("*.py"))
    ]
    files += [
        (f"{info}/METADATA", _metadata(version).encode()),
        (
            f"{info}/WHEEL",
            b"Wheel-Version: 1.0\nGenerator: shipcheck core.cli_dist\n"
            b"Root-Is-Purelib: true\nTag: py3-none-any\n",
        ),
        (
            f"{info}/entry_points.txt",
            b"[console_scripts]\nshipcheck = shipcheck_cli.main:main\n",
        ),
    ]
    record = "".join(f"{name},{_digest(data)},{len(data)}\n" for name, data in files)
    record += f"{info}/RECORD,,\n"
    files.append((f"{info}/RECORD", record.encode()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in files:
            entry = zipfile.ZipInfo(name, date_time=_EPOCH)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(entry, data)
    return wheel_filename(version), buffer.getvalue()


_built: dict[str, tuple[str, bytes]] = {}


def served_wheel() -> tuple[str, bytes]:
    """The wheel this server offers, built once per process from its own source."""
    if "wheel" not in _built:
        _built["wheel"] = build_wheel_bytes()
    return _built["wheel"]
