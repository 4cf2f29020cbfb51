"""`StandinAdmin`: the Python client of the stand-in's /_standin routes, for tests, benchmarks and the demo."""

from __future__ import annotations

from typing import Any

import requests


class StandinAdmin:
    def __init__(self, url: str, timeout: float = 60.0):
        self.url = url.rstrip("/") + "/_standin"
        self.timeout = timeout
        self.session = requests.Session()

    def _call(self, method: str, path: str, body: dict | None = None) -> Any:
        response = self.session.request(method, self.url + path, json=body, timeout=self.timeout)
        response.raise_for_status()
        return response.json()

    def health(self) -> dict:
        return self._call("GET", "/health")

    def reset(self) -> None:
        """Forget every dataset, app, run, log, fault, latency and logged request."""
        self._call("POST", "/reset")
        self.set_indexing(seconds=0.0, error_names=None)

    def create_dataset(self, name: str, **fields: Any) -> dict:
        return self._call("POST", "/datasets", {"name": name, **fields})

    def add_document(self, dataset_id: str, name: str, text: str = "", **fields: Any) -> dict:
        """Seed a document directly (fields: indexing_status, enabled, metadata, created_at, error)."""
        return self._call("POST", f"/datasets/{dataset_id}/documents", {"name": name, "text": text, **fields})

    def add_documents_bulk(
        self, dataset_id: str, count: int = 0, prefix: str = "doc-", documents: list[dict] | None = None
    ) -> int:
        """Seed many completed documents: `documents` [{name, metadata}], or `count` plain ones."""
        body = {"count": count, "prefix": prefix, "documents": documents or []}
        return self._call("POST", f"/datasets/{dataset_id}/documents/bulk", body)["count"]

    def set_indexing(self, seconds: float | None = None, error_names: str | None = "") -> None:
        """How long indexing takes, and a regex of document names whose indexing ends in `error`."""
        body: dict[str, Any] = {}
        if seconds is not None:
            body["seconds"] = seconds
        if error_names != "":
            body["error_names"] = error_names
        self._call("POST", "/indexing", body)

    def set_upload_limit(self, size_bytes: int) -> None:
        self._call("POST", "/upload-limit", {"bytes": size_bytes})

    def set_faults(self, rules: list[dict]) -> None:
        """Fault rules: path (regex), method, status, retry_after, malformed, drop, latency_ms, times, rate."""
        self._call("POST", "/faults", {"rules": rules})

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def set_latency(self, ms: float) -> None:
        self._call("POST", "/latency", {"ms": ms})

    def pause(self, seconds: float) -> None:
        self._call("POST", "/pause", {"seconds": seconds})

    def state(self) -> dict:
        return self._call("GET", "/state")

    def documents(self, dataset_id: str) -> list[dict]:
        """The documents of one dataset as the state dump has them (with `metadata` as a name -> value dict)."""
        for dataset in self.state()["datasets"]:
            if dataset["id"] == dataset_id:
                return dataset["documents"]
        raise KeyError(dataset_id)

    def request_log(self) -> list[dict]:
        return self._call("GET", "/requests")["requests"]

    def clear_request_log(self) -> None:
        self._call("DELETE", "/requests")

    # --- workflow apps, logs and the console (workflow_admin.py) ---

    def create_app(
        self,
        name: str,
        api_key: str,
        *,
        workflow: dict | None = None,
        user_input_form: list | None = None,
        **fields: Any,
    ) -> dict:
        """A workflow app answering to `api_key` (`app-…`): `workflow` configures the tiny workflow (README),
        `user_input_form` its inputs; fields: `id`, `description`, `max_active` (concurrency limit -> 429).
        Returns `{id, name, api_key, workflow_id}`."""
        body = {"name": name, "api_key": api_key, "workflow": workflow or {}, **fields}
        if user_input_form is not None:
            body["user_input_form"] = user_input_form
        return self._call("POST", "/apps", body)

    def seed_logs(self, app_id: str, rows: list[dict] | None = None, *, generate: dict | None = None) -> int:
        """Add finished runs with their log rows: explicit `rows` and/or a `generate` spec (README); the count."""
        return self._call("POST", f"/apps/{app_id}/logs", {"rows": rows or [], "generate": generate})["count"]

    def set_console_account(self, email: str, password: str) -> None:
        self._call("POST", "/console-account", {"email": email, "password": password})

    def expire_console_sessions(self, *, refresh: bool = False) -> None:
        """Every console access token stops working; refresh tokens still renew them unless `refresh`."""
        self._call("POST", "/console-sessions/expire", {"refresh": refresh})
