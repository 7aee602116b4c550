"""Flag systems a rollout plan drives: read the rollout, set it, disable the flag.

``UnleashAdapter`` talks to Unleash's Admin API through monitoring's safe
fetcher (no private or metadata addresses unless the deployment allows them):
the rollout is the ``rollout`` parameter of the flag's ``flexibleRollout``
strategy in the configured environment, changed with a JSON Patch; disabling
turns the flag off in that environment. Every failure (unreachable, 401, a
flag or strategy that does not exist, an odd answer) raises ``AdapterError``
with a sentence the plan records.
"""

from __future__ import annotations

import json
from typing import Any, Protocol
from urllib.parse import quote

from monitoring import fetch as fetching

TIMEOUT_SECONDS = 10.0


class AdapterError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class FlagAdapter(Protocol):
    def read_rollout(self, flag_key: str) -> int: ...

    def set_rollout(self, flag_key: str, percent: int) -> None: ...

    def disable(self, flag_key: str) -> None: ...


class UnleashAdapter:
    def __init__(self, *, base_url: str, token: str, project: str, environment: str):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.project = project
        self.environment = environment

    def _strategies_url(self, flag_key: str) -> str:
        return (
            f"{self.base_url}/api/admin/projects/{quote(self.project, safe='')}/features/"
            f"{quote(flag_key, safe='')}/environments/{quote(self.environment, safe='')}"
        )

    def _call(self, url: str, *, method: str = "GET", body: Any = None, patch: bool = False) -> Any:
        headers = {"Authorization": self.token, "Accept": "application/json"}
        content = None
        if body is not None:
            # Unleash takes its JSON Patch bodies as plain application/json.
            headers["Content-Type"] = "application/json"
            content = json.dumps(body).encode()
        result = fetching.fetch(
            url, method=method, headers=headers, content=content, timeout=TIMEOUT_SECONDS
        )
        if result.status_code is None:
            raise AdapterError(f"Unleash could not be reached: {result.error or 'no answer'}.")
        if result.status_code in (401, 403):
            raise AdapterError(
                f"Unleash refused the token (HTTP {result.status_code}): check the Admin API token."
            )
        if result.status_code == 404:
            raise AdapterError(
                "Unleash knows no such flag or environment "
                f"(project '{self.project}', environment '{self.environment}')."
            )
        if not 200 <= result.status_code < 300:
            raise AdapterError(
                f"Unleash answered HTTP {result.status_code} to {method} "
                f"{url.removeprefix(self.base_url)}: {result.body[:200].decode('utf-8', 'replace')}"
            )
        if not result.body:
            return None
        try:
            return json.loads(result.body)
        except ValueError:
            raise AdapterError("Unleash answered something that is not JSON.") from None

    def _strategy(self, flag_key: str) -> dict[str, Any]:
        data = self._call(self._strategies_url(flag_key) + "/strategies")
        strategies = data if isinstance(data, list) else (data or {}).get("strategies", [])
        for strategy in strategies:
            if isinstance(strategy, dict) and strategy.get("name") == "flexibleRollout":
                return strategy
        raise AdapterError(
            f"The flag '{flag_key}' has no gradual rollout (flexibleRollout) strategy in "
            f"Unleash's '{self.environment}' environment."
        )

    def read_rollout(self, flag_key: str) -> int:
        raw = (self._strategy(flag_key).get("parameters") or {}).get("rollout")
        try:
            value = int(str(raw))
        except ValueError:
            raise AdapterError(f"Unleash reports a rollout of {raw!r}, not a percentage.") from None
        if not 0 <= value <= 100:
            raise AdapterError(f"Unleash reports a rollout of {value} %.")
        return value

    def set_rollout(self, flag_key: str, percent: int) -> None:
        strategy = self._strategy(flag_key)
        url = self._strategies_url(flag_key) + f"/strategies/{quote(str(strategy['id']), safe='')}"
        patch = [{"op": "replace", "path": "/parameters/rollout", "value": str(percent)}]
        self._call(url, method="PATCH", body=patch, patch=True)
        if percent > 0:
            self._call(self._strategies_url(flag_key) + "/on", method="POST", body={})

    def disable(self, flag_key: str) -> None:
        self._call(self._strategies_url(flag_key) + "/off", method="POST", body={})


def adapter_for(system: Any) -> FlagAdapter:
    """The adapter of a ``FlagSystem`` row."""
    return UnleashAdapter(
        base_url=system.base_url,
        token=system.token,
        project=system.unleash_project,
        environment=system.unleash_environment,
    )
