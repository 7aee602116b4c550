"""Helpers for CLI tests: a scripted HTTP server, a real git repository."""

from __future__ import annotations

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class ScriptedServer:
    """A real local HTTP server that answers from a script and records each request."""

    def __init__(self):
        self.script: list[tuple[int, dict | str, dict]] = []
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": body,
                    }
                )
                status, payload, headers = server.script.pop(0) if server.script else (404, {}, {})
                if isinstance(payload, str):
                    data, content_type = payload.encode(), "text/html"
                else:
                    data, content_type = json.dumps(payload).encode(), "application/json"
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def answer(self, status: int, payload: dict | str, **headers) -> None:
        self.script.append((status, payload, headers))

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    scripted = ScriptedServer()
    yield scripted
    scripted.close()


def git(repo, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def git_env(tmp_path, monkeypatch):
    """Keep the developer's own git configuration out of the tests."""
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Eli Engineer",
        "GIT_AUTHOR_EMAIL": "eli@example.com",
        "GIT_COMMITTER_NAME": "Eli Engineer",
        "GIT_COMMITTER_EMAIL": "eli@example.com",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def repo(tmp_path, git_env):
    """A repository with v1.2.0 (one commit) and v1.3.0 (three more, one with a multi-line message)."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    messages = [
        "Initial payments service",
        "Store card tokens\n\nPAY-142: keep only the token.",
        "Card expiry reminder (PAY-150)",
        "Fix rounding in refunds",
    ]
    for number, message in enumerate(messages):
        (path / "app.txt").write_text(f"change {number}\n")
        git(path, "add", "app.txt")
        git(path, "commit", "-q", "-m", message)
        if number == 0:
            git(path, "tag", "v1.2.0")
    git(path, "tag", "v1.3.0")
    return path
