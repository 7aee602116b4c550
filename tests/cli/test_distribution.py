"""The ``shipcheck`` command as its own distribution, offered by the server at ``/cli/``.

The install line of docs/ci.md (``pip install https://<server>/cli/<wheel>``)
is run into a clean virtual environment against a live server, offline: pip
gets ``--no-deps --no-index`` and the one dependency, httpx2 (and its own), is
lent from this environment through a directory of links, so what runs is the
wheel's code and nothing of the server.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import io
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from core.cli_dist import DIST_NAME, build_wheel_bytes, cli_version, wheel_filename

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "ci.md"
# httpx2 and what it imports at run time.
LENT = (
    "httpx2",
    "httpcore2",
    "h11",
    "anyio",
    "idna",
    "truststore",
    "certifi",
    "sniffio",
    "typing_extensions",
)


def test_wheel__holds_only_the_command_and_needs_only_httpx():
    name, data = build_wheel_bytes()
    assert name == f"shipcheck_pipeline-{cli_version()}-py3-none-any.whl"
    with zipfile.ZipFile(io.BytesIO(data)) as wheel:
        names = wheel.namelist()
        info = f"shipcheck_pipeline-{cli_version()}.dist-info"
        assert {n.split("/")[0] for n in names} == {"shipcheck_cli", info}
        sources = {p.name for p in (ROOT / "shipcheck_cli").glob("*.py")}
        assert {n.split("/", 1)[1] for n in names if n.startswith("shipcheck_cli/")} == sources
        metadata = wheel.read(f"{info}/METADATA").decode()
        assert f"Name: {DIST_NAME}" in metadata
        assert re.findall(r"^Requires-Dist: (.*)$", metadata, re.MULTILINE) == [
            "httpx2>=2.16.2,<2.17"
        ]
        assert (
            "shipcheck = shipcheck_cli.main:main" in wheel.read(f"{info}/entry_points.txt").decode()
        )
        # RECORD lists every other file with its true hash and size.
        for line in wheel.read(f"{info}/RECORD").decode().splitlines():
            path, digest, size = line.split(",")
            if path.endswith("RECORD"):
                continue
            content = wheel.read(path)
            expected = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=")
            assert digest == "sha256=" + expected.decode() and int(size) == len(content)
    assert build_wheel_bytes()[1] == data  # the same source gives the same bytes


def test_cli_page__offers_the_wheel_to_anyone(client):
    response = client.get("/cli/")
    assert response.status_code == 200
    body = response.content.decode()
    assert f"pip install http://testserver/cli/{wheel_filename()}" in body
    assert "pip install shipcheck</code> from the public package index" in body
    download = client.get(f"/cli/{wheel_filename()}")
    assert download.status_code == 200
    assert download.content == build_wheel_bytes()[1]
    assert download["X-Content-SHA256"] == hashlib.sha256(download.content).hexdigest()
    assert client.get("/cli/shipcheck_pipeline-9.9.9-py3-none-any.whl").status_code == 404
    assert client.post("/cli/").status_code == 405


def test_docs__install_line_is_the_servers(client):
    text = DOCS.read_text(encoding="utf-8")
    assert "pip install shipcheck\n" not in text and "pip install shipcheck " not in text
    line = f"pip install https://shipcheck.example.com/cli/{wheel_filename()}"
    assert line in text  # the version the docs name is the one the server builds
    assert text.count(f'pip install "$SHIPCHECK_URL/cli/{wheel_filename()}"') == 3


def _lend_dependencies(venv: Path) -> None:
    """A directory of links to httpx2 and its dependencies, on the venv's path."""
    lent = venv / "lent"
    lent.mkdir()
    for name in LENT:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        source = Path(module.__file__)
        target = source.parent if source.name == "__init__.py" else source
        (lent / target.name).symlink_to(target)
        # Its metadata too: httpx2 reads its own version through importlib.metadata.
        for info in target.parent.glob(f"{name.replace('_', '[-_]')}-*.dist-info"):
            if not (lent / info.name).exists():
                (lent / info.name).symlink_to(info)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "lent.pth").write_text(str(lent) + "\n")


@pytest.mark.django_db(transaction=True)
def test_install_line__works_in_a_clean_venv(live_server, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # Away from the checkout (no shipcheck_cli/ in the working directory or on PYTHONPATH).
    clean = {"cwd": tmp_path, "env": {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}}
    _lend_dependencies(venv)
    url = f"{live_server.url}/cli/{wheel_filename()}"
    done = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--no-deps", "--no-index", url],
        capture_output=True,
        text=True,
        check=False,
        **clean,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    version = subprocess.run(
        [str(venv / "bin" / "shipcheck"), "--cli-version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert version.returncode == 0, version.stderr
    assert cli_version() in version.stdout + version.stderr
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import shipcheck_cli, django"],
        capture_output=True,
        text=True,
        check=False,
        **clean,
    )
    assert "No module named 'django'" in where.stderr  # none of the server came along
    located = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import shipcheck_cli; print(shipcheck_cli.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        **clean,
    )
    assert located.stdout.strip().startswith(str(venv))


def test_cli_build_backend__builds_the_same_wheel(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-index",
            "-w",
            str(tmp_path),
            "./cli",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / wheel_filename()).read_bytes() == build_wheel_bytes()[1]
