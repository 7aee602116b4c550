"""Measure the embedded broker under concurrent writers: six producer processes, one consumer.

    .venv/bin/python bench/broker_hammer.py filesystem://   # kombu's stock transport
    .venv/bin/python bench/broker_hammer.py embedded://     # core/broker.py

Each producer puts 3,000 messages of 2 KB on one queue while the consumer takes them as fast
as it can. It prints how many arrived and how many reads did not decode (the kombu #1551 race:
a half-written file read by the consumer). Not part of `make bench` (no ``main()``): it is a
measurement of the transport, run by hand. Measured on this project's 2-core machine:
stock ``filesystem://`` 296 undecodable reads (and the lost messages with them), ``embedded://``
18,000 of 18,000 and none.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from kombu import Connection

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import core.broker  # noqa: E402,F401 - registers embedded://

PRODUCERS, EACH = 6, 3000


def _options(folder: str) -> dict:
    return {
        "data_folder_in": f"{folder}/queue",
        "data_folder_out": f"{folder}/queue",
        "processed_folder": f"{folder}/processed",
        "control_folder": f"{folder}/control",
        "store_processed": False,
    }


def _produce(url: str, folder: str, count: int) -> None:
    with Connection(url, transport_options=_options(folder)) as connection:
        queue = connection.SimpleQueue("hammer")
        for i in range(count):
            queue.put({"i": i, "pad": "x" * 2000})


def _consume(url: str, folder: str, total: int, out, seconds: float = 120) -> None:
    errors = received = 0
    with Connection(url, transport_options=_options(folder)) as connection:
        channel = connection.default_channel
        deadline = time.time() + seconds
        while received < total and time.time() < deadline:
            try:
                channel._get("hammer")
                received += 1
            except json.JSONDecodeError:
                errors += 1
            except Exception as exc:  # noqa: BLE001 - Empty, or a broken read: count the latter
                if type(exc).__name__ != "Empty":
                    errors += 1
    out.put((received, errors))


def measure(
    url: str, producers: int = PRODUCERS, each: int = EACH, seconds: float = 120
) -> tuple[int, int]:
    """(messages received whole, reads that failed) for ``producers`` x ``each`` messages."""
    folder = tempfile.mkdtemp(prefix="broker-hammer-")
    try:
        for part in ("queue", "processed", "control"):
            os.makedirs(f"{folder}/{part}")
        out = multiprocessing.Queue()
        consumer = multiprocessing.Process(
            target=_consume, args=(url, folder, producers * each, out, seconds)
        )
        consumer.start()
        producers = [
            multiprocessing.Process(target=_produce, args=(url, folder, each))
            for _ in range(producers)
        ]
        for producer in producers:
            producer.start()
        for producer in producers:
            producer.join()
        consumer.join()
        return out.get()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    for url in sys.argv[1:] or ["filesystem://", "embedded://"]:
        started = time.time()
        received, errors = measure(url)
        print(
            f"{url:<15} sent {PRODUCERS * EACH}, received {received}, "
            f"undecodable or failed reads {errors}, {time.time() - started:.1f} s"
        )
