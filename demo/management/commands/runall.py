"""Run the web server, a Celery worker and the Celery scheduler together.

One command for a development machine: each child runs in its own process
group, its output is forwarded line by line with a prefix, and Ctrl-C (or
SIGTERM) stops all of them. A child that dies is started again after a
growing pause (1, 2, 4 ... 30 s; back to 1 s once it has run for a minute),
with a loud line in the output, while the others keep running.

It lives in ``demo`` because it is the quick start's runner: it also starts
the demo metrics server (``demo/metrics_server.py``) and greets with the demo
logins that exist. On an instance without demo data it runs just the same.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.people import DEMO_PASSWORD, login_table

# How long children get to exit after SIGTERM before they are killed.
STOP_GRACE_SECONDS = 10
# How long to wait for the web server to accept connections before giving up on the banner.
WEB_START_TIMEOUT_SECONDS = 60
# Pauses before restarting a child that exited, one per crash in a row; the last one repeats.
RESTART_BACKOFF_SECONDS = (1, 2, 4, 8, 16, 30)
# A child that ran this long before exiting counts as a first crash again.
STABLE_AFTER_SECONDS = 60

COLOURS = {"web": "\033[36m", "worker": "\033[33m", "beat": "\033[35m", "metrics": "\033[32m"}
RESET = "\033[0m"


class Command(BaseCommand):
    help = "Start the web server, a Celery worker and Celery beat; stop them all on Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("SHIPCHECK_HOST", "127.0.0.1"))
        parser.add_argument(
            "--port", type=int, default=None, help="Web port (default: SHIPCHECK_PORT or 8000)."
        )
        parser.add_argument(
            "--concurrency", type=int, default=8, help="Worker threads (default 8)."
        )

    def handle(self, *args, host: str, port: int | None, concurrency: int, **options):
        port = port or _port_from_env()
        if not 0 < port < 65536:
            raise CommandError(f"Port {port} is out of range.")
        if _port_taken(host, port):
            raise CommandError(
                f"{host}:{port} is already in use. Stop the other server or set SHIPCHECK_PORT."
            )
        python = sys.executable
        env = child_environment(host, port)
        commands = {
            "web": [python, "manage.py", "runserver", f"{host}:{port}", "--noreload"],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=threads",
                f"--concurrency={concurrency}",
                # Both queues: the default one (e-mail) and the monitoring polls.
                f"--queues={settings.SHIPCHECK_WORKER_QUEUES}",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--hostname=shipcheck@%h",
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "--loglevel=INFO",
                f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}",
            ],
        }
        # The demo's health and metrics endpoints (demo/metrics_server.py), unless
        # turned off or something already listens on its port.
        from core.env import env_int

        metrics_port = env_int("SHIPCHECK_DEMO_METRICS_PORT", 8001, minimum=1)
        metrics_on = os.environ.get("SHIPCHECK_DEMO_METRICS", "on") != "off"
        if metrics_on and not _port_taken("127.0.0.1", metrics_port):
            commands["metrics"] = [
                python,
                "-m",
                "demo.metrics_server",
                "--port",
                str(metrics_port),
            ]
        runner = _Runner(self.stdout, colour=self.stdout.isatty())
        previous = {
            sig: signal.signal(sig, runner.request_stop) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            for name, command in commands.items():
                runner.start(name, command, env=env, cwd=str(settings.BASE_DIR))
            if _wait_for_port(host, port, runner):
                self._banner(host, port)
                _send_first_heartbeat()
            exit_code = runner.wait()
        finally:
            runner.stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if exit_code:
            raise CommandError(f"Stopped because {runner.failed} exited with status {exit_code}.")

    def _banner(self, host: str, port: int) -> None:
        lines = [
            "",
            "=" * 64,
            f"  Shipcheck is running at http://{host}:{port}/",
            f"  API docs: http://{host}:{port}/api/docs/   Readiness: http://{host}:{port}/readyz",
        ]
        logins = _demo_logins()
        if logins:
            lines.append(f"  Demo logins (password '{DEMO_PASSWORD}'):")
            lines += [f"    {username:<8} {about}" for username, about in logins]
        lines += [
            "  Press Ctrl-C to stop the web server, the worker and the scheduler.",
            "=" * 64,
            "",
        ]
        self.stdout.write("\n".join(lines))


class _Runner:
    """Children in their own process groups, with prefixed output, restarts and a shared stop."""

    def __init__(self, stdout, *, colour: bool):
        self.stdout = stdout
        self.colour = colour
        self.children: dict[str, subprocess.Popen] = {}
        self.specs: dict[str, tuple[list[str], dict, str]] = {}
        self.started_at: dict[str, float] = {}
        self.crashes: dict[str, int] = {}
        self.restart_at: dict[str, float] = {}
        self.stopping = threading.Event()
        self.failed: str | None = None
        self.lock = threading.Lock()

    def start(self, name: str, command: list[str], *, env: dict, cwd: str) -> None:
        self.specs[name] = (command, env, cwd)
        process = subprocess.Popen(  # noqa: S603 - fixed argument lists, no shell
            command,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            text=True,
            bufsize=1,
            errors="replace",
        )
        self.children[name] = process
        self.started_at[name] = time.monotonic()
        threading.Thread(target=self._forward, args=(name, process), daemon=True).start()

    def _forward(self, name: str, process: subprocess.Popen) -> None:
        prefix = f"{name:>6} | "
        if self.colour:
            prefix = f"{COLOURS.get(name, '')}{prefix}{RESET}"
        if process.stdout is None:  # always a pipe: ``start`` asks for one
            return
        for line in process.stdout:
            self.say(prefix + line.rstrip("\n"))

    def say(self, line: str) -> None:
        with self.lock:
            self.stdout.write(line)
            self.stdout.flush()

    def request_stop(self, signum, frame) -> None:
        self.stopping.set()

    def wait(self) -> int:
        """Block until a stop is requested (then 0), restarting children that exit meanwhile."""
        while not self.stopping.is_set():
            now = time.monotonic()
            for name, process in list(self.children.items()):
                if name in self.restart_at:
                    if now >= self.restart_at[name]:
                        del self.restart_at[name]
                        command, env, cwd = self.specs[name]
                        self.say(
                            f"!!! runall: starting {name} again (restart {self.crashes[name]})"
                        )
                        self.start(name, command, env=env, cwd=cwd)
                    continue
                code = process.poll()
                if code is None:
                    continue
                ran_for = now - self.started_at.get(name, now)
                crashes = 1 if ran_for >= STABLE_AFTER_SECONDS else self.crashes.get(name, 0) + 1
                self.crashes[name] = crashes
                pause = RESTART_BACKOFF_SECONDS[min(crashes, len(RESTART_BACKOFF_SECONDS)) - 1]
                self.restart_at[name] = now + pause
                self.failed = name
                self.say(
                    f"!!! runall: {name} EXITED with status {code} after {ran_for:.0f} s "
                    f"(crash {crashes} in a row); restarting it in {pause} s. "
                    "The other processes keep running."
                )
            self.stopping.wait(0.5)
        return 0

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.children.values())

    def stop_all(self) -> None:
        for process in self.children.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in self.children.values():
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()
        self.say("Stopped the web server, the worker and the scheduler.")


def child_environment(host: str, port: int, base: dict | None = None) -> dict:
    """The environment of runall's children.

    Tasks scheduled from the web process must reach the real worker (no eager mode), and links
    in e-mails point at the address runall serves on, unless SHIPCHECK_BASE_URL says otherwise.
    """
    env = dict(os.environ if base is None else base)
    env.update(PYTHONUNBUFFERED="1", CELERY_TASK_ALWAYS_EAGER="false")
    if not env.get("SHIPCHECK_BASE_URL", "").strip():
        shown = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host  # noqa: S104
        if ":" in shown and not shown.startswith("["):
            shown = f"[{shown}]"
        env["SHIPCHECK_BASE_URL"] = f"http://{shown}:{port}"
    return env


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def _port_from_env() -> int:
    from core.env import env_int

    return env_int("SHIPCHECK_PORT", 8000, minimum=1)


def _port_taken(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _wait_for_port(host: str, port: int, runner: _Runner) -> bool:
    deadline = time.monotonic() + WEB_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline and not runner.stopping.is_set() and runner.alive():
        if _port_taken(host, port):
            return True
        time.sleep(0.2)
    return False


def _send_first_heartbeat() -> None:
    """Queue a heartbeat now so /readyz reports the worker without waiting for beat's first tick."""
    try:
        from core.tasks import heartbeat

        heartbeat.delay(time.time())
    except Exception as exc:  # noqa: BLE001 - the banner matters more; beat sends the next one
        sys.stderr.write(f"Could not queue the first heartbeat: {exc}\n")


def _demo_logins() -> list[tuple[str, str]]:
    """The demo people that exist in this database, for the banner."""
    try:
        from django.contrib.auth import get_user_model

        existing = set(get_user_model().objects.values_list("username", flat=True)[:1000])
    except Exception:  # noqa: BLE001 - no database yet: no table
        return []
    return [(username, about) for username, about in login_table() if username in existing]
