"""The embedded broker: kombu's filesystem transport, safe with several processes.

``make run`` needs no broker server: messages are files in ``var/broker/queue``. kombu's own
filesystem transport has a race when several processes use it (kombu issue #1551): a writer
creates the message file and only then writes it, while the worker may already have moved and
read it, empty or half written. The worker then dies on ``JSONDecodeError: Expecting value``.
Measured here with six producer processes and one consumer: 296 undecodable reads in 6,000
(``bench/broker_hammer.py``; docs/operations.md).

This transport (URL ``embedded://``, what settings.py uses when REDIS_URL is unset) changes
exactly that:

* a message is written to a dot-file that no reader looks at, closed, then renamed to its
  final name: a rename is atomic, so a reader sees a complete message or none;
* a reader claims a message by renaming it into the processed folder, on the same file
  system, before reading it: exactly one reader wins each file, no copy across devices;
* a file that still does not decode (left by an older version, a full disk) is set aside as
  ``*.bad`` with a loud log line instead of killing the worker;
* the fanout exchange tables (remote control) are rewritten the same way, under one lock file.
"""

from __future__ import annotations

import fcntl
import logging
import os
import uuid
from collections import deque
from contextlib import contextmanager, suppress
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem, virtual
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)

ALIAS = "embedded"


def _write_atomically(path: str, data: bytes) -> None:
    folder, name = os.path.split(path)
    temporary = os.path.join(folder, f".{name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]  # as kombu's filesystem.Channel, whose stub ignores it too
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        path = os.path.join(self.data_folder_out, name)
        try:
            _write_atomically(path, str_to_bytes(dumps(payload)))
        except OSError as exc:
            raise ChannelError(f"Cannot add file {path!r} to directory") from exc

    def _listing(self, queue) -> deque:
        """Names of ``queue``'s messages, oldest first, listed once and used until exhausted."""
        pending = self.__dict__.setdefault("_shipcheck_pending", {})
        names = pending.get(queue)
        if not names:
            wanted = f"{queue}.msg"
            names = pending[queue] = deque(
                name
                for name in sorted(os.listdir(self.data_folder_in))
                if not name.startswith(".") and name.partition(".")[2] == wanted
            )
        return names

    def _get(self, queue: str) -> dict[str, Any]:  # type: ignore[override]  # as kombu's filesystem.Channel, whose stub ignores it too
        names = self._listing(queue)
        while names:
            name = names.popleft()
            source = os.path.join(self.data_folder_in, name)
            claimed = os.path.join(self.processed_folder, name)
            try:
                os.rename(source, claimed)  # atomic: exactly one reader wins this message
            except OSError:
                continue  # another reader took it first
            try:
                with open(claimed, "rb") as handle:
                    payload = handle.read()
            except OSError as exc:
                raise ChannelError(f"Cannot read file {claimed!r} from queue.") from exc
            try:
                message = loads(bytes_to_str(payload))
            except (ValueError, UnicodeDecodeError):
                os.replace(claimed, claimed + ".bad")
                logger.error(
                    "EMBEDDED BROKER: message file %s does not decode (%d bytes); set aside as %s.bad",
                    name,
                    len(payload),
                    claimed,
                )
                continue
            if not self.store_processed:
                with suppress(OSError):
                    os.unlink(claimed)
            return message
        raise virtual.Empty()

    def _purge(self, queue):
        self.__dict__.setdefault("_shipcheck_pending", {}).pop(queue, None)
        return super()._purge(queue)

    @contextmanager
    def _exchange_lock(self):
        lock_path = self.control_folder / ".exchanges.lock"
        with open(lock_path, "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _read_table(self, exchange) -> list:
        try:
            # kombu's own helper (filesystem.Channel), private and so missing from kombu-stubs.
            raw = self._exchange_file(exchange).read_bytes()  # type: ignore[attr-defined]
        except FileNotFoundError:
            return []
        try:
            return [filesystem.exchange_queue_t(*q) for q in loads(bytes_to_str(raw))]
        except (ValueError, TypeError):
            logger.error(
                "EMBEDDED BROKER: exchange table %s does not decode; starting anew", exchange
            )
            return []

    def get_table(self, exchange):
        return self._read_table(exchange)

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        with self._exchange_lock():
            table = self._read_table(exchange)
            if entry not in table:
                table.append(entry)
                path = str(self._exchange_file(exchange))  # type: ignore[attr-defined]  # private, not in kombu-stubs
                _write_atomically(path, str_to_bytes(dumps(table)))

    def _delete(self, queue, exchange, routing_key, pattern, *args, **kwargs):
        virtual.Channel._delete(self, queue, exchange, routing_key, pattern, *args, **kwargs)
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        with self._exchange_lock():
            table = self._read_table(exchange)
            if entry in table:
                table.remove(entry)
                path = str(self._exchange_file(exchange))  # type: ignore[attr-defined]  # private, not in kombu-stubs
                _write_atomically(path, str_to_bytes(dumps(table)))


class Transport(filesystem.Transport):
    Channel = Channel
    global_state = virtual.BrokerState()
    driver_type = "filesystem"
    driver_name = ALIAS


def register() -> None:
    """Make ``embedded://`` a broker URL kombu understands (called from config/celery.py)."""
    TRANSPORT_ALIASES.setdefault(ALIAS, "core.broker:Transport")


register()

__all__ = ["ALIAS", "Transport", "register"]
