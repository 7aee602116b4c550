"""An open-loop HTTP load generator on asyncio streams.

Requests leave on a fixed schedule whether or not earlier ones were answered, so a
slow server cannot hide its slowness by slowing the client down (the "coordinated
omission" of closed-loop tools). Each request opens its own connection, as a CI
job or a browser tab opening a page would with gunicorn's sync workers, and its
latency runs from the moment it was *scheduled* to leave until the last byte of
the answer arrived.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Target:
    """One endpoint of the mix; each request takes the next of its variants (path, headers)."""

    name: str
    variants: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    group: str = "api"  # "api", "page" or "floor"
    ok_statuses: tuple[int, ...] = ()  # beyond 2xx/3xx


@dataclass
class Result:
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


async def _request(
    host: str, port: int, path: str, headers, timeout: float, ok_statuses=()
) -> str | None:
    """Send one GET and read the whole answer; return None on 2xx/3xx, else what went wrong."""
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers]
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def exchange() -> str | None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(raw)
            await writer.drain()
            status_line = await reader.readline()
            while await reader.read(65536):
                pass
        finally:
            writer.close()
        parts = status_line.split()
        if len(parts) < 2:
            return "bad answer"
        status = int(parts[1])
        return None if status < 400 or status in ok_statuses else f"HTTP {status}"

    try:
        return await asyncio.wait_for(exchange(), timeout)
    except TimeoutError:
        return "timeout"
    except OSError as exc:
        return type(exc).__name__


async def _run(host, port, schedule, results, timeout):
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2
    tasks = []

    turns: dict[str, int] = {}

    async def one(at: float, target: Target, path: str, headers):
        outcome = await _request(host, port, path, headers, timeout, target.ok_statuses)
        elapsed = (loop.time() - at) * 1000
        result = results[target.name]
        if outcome is None:
            result.latencies_ms.append(elapsed)
        else:
            result.error(outcome)

    for offset, target in schedule:
        at = start + offset
        delay = at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        turn = turns.get(target.name, 0)
        turns[target.name] = turn + 1
        path, headers = target.variants[turn % len(target.variants)]
        tasks.append(asyncio.create_task(one(at, target, path, headers)))
    await asyncio.gather(*tasks)


def schedule_for(mix: list[tuple[Target, float]], seconds: float) -> list[tuple[float, Target]]:
    """Evenly spaced departures for each target at its rate (requests per second), merged."""
    departures = []
    for index, (target, rate) in enumerate(mix):
        if rate <= 0:
            continue
        step = 1.0 / rate
        # Stagger the streams so they do not all leave at the same instant.
        offset = step * index / max(len(mix), 1)
        count = int(seconds * rate)
        departures += [(offset + n * step, target) for n in range(count)]
    departures.sort(key=lambda pair: pair[0])
    return departures


def drive(
    host: str, port: int, mix: list[tuple[Target, float]], seconds: float, timeout: float = 10.0
) -> tuple[dict[str, Result], float]:
    """Run the mix open-loop for ``seconds``; return each target's result and the wall time."""
    results = {target.name: Result() for target, _ in mix}
    started = time.perf_counter()
    asyncio.run(_run(host, port, schedule_for(mix, seconds), results, timeout))
    return results, time.perf_counter() - started


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]
