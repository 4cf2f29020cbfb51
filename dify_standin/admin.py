"""`StandinAdmin`: the Python client of the stand-in's /_standin routes, for tests, benchmarks and the demo."""

from __future__ import annotations

from typing import Any

import requests


class StandinAdmin:
    """Seeds, configures and inspects a running stand-in. Every call raises `requests.HTTPError` on a 4xx/5xx
    (the admin routes answer 400 with the reason for a bad argument)."""

    def __init__(self, url: str, timeout: float = 60.0):
        self.url = url.rstrip("/") + "/_standin"
        self.timeout = timeout
        self.session = requests.Session()

    def _call(self, method: str, path: str, body: dict | None = None, params: dict | None = None) -> Any:
        response = self.session.request(method, self.url + path, json=body, params=params, timeout=self.timeout)
        if response.status_code >= 400:
            message = f"{response.status_code} {method} {path}: {response.text[:500]}"
            raise requests.HTTPError(message, response=response)
        return response.json()

    # --- knowledge side (admin_api.py) ---

    def health(self) -> dict:
        return self._call("GET", "/health")

    def reset(self) -> None:
        """Forget every dataset, app, run, log, fault, latency and logged request; the indexing time, upload and
        body limits go back to the command line's."""
        self._call("POST", "/reset")

    def create_dataset(self, name: str, **fields: Any) -> dict:
        """A dataset as Dify renders it. Fields: `id`, `description`, `indexing_technique`, `process_rule`,
        `doc_form` (`text_model`, `hierarchical_model` = parent-child, `qa_model`: the form of a dataset made in
        Dify's UI, fixed as if by its first document, so from 1.9.0 an upload without `doc_form` is refused),
        `chunk_structure` (a knowledge-pipeline dataset's form, >= 1.9.0: an upload without `doc_form` gets it),
        `enable_api` (False: 403), `app_count` (> 0: delete is 409 dataset_in_use), `built_in_field_enabled`,
        `metadata_fields` ({name: type}), `created_at`, `data_source_type` (`upload_file`: as a dataset whose
        documents were all deleted; a first document sets it anyway)."""
        return self._call("POST", "/datasets", {"name": name, **fields})

    def add_document(
        self,
        dataset_id: str,
        name: str,
        text: str = "",
        *,
        indexing_status: str = "completed",
        enabled: bool = True,
        metadata: dict[str, Any] | None = None,
        created_at: float | str | None = None,
        **fields: Any,
    ) -> dict:
        """Seed a document directly (as Dify lists it, plus `batch`). `indexing_status` pins it (waiting …
        indexing, paused, error; default completed); `metadata` {name: value} creates missing string fields and
        binds them; `created_at` (Unix seconds or ISO-8601) places it in the list order. Fields: `id`, `error`,
        `archived`, `doc_form` (default: the dataset's), `created_from` (`api` or `web`), `created_from_text`
        (made by create-by-text: a `.txt` upload file)."""
        body = {"name": name, "text": text, "indexing_status": indexing_status, "enabled": enabled, **fields}
        if metadata is not None:
            body["metadata"] = metadata
        if created_at is not None:
            body["created_at"] = created_at
        return self._call("POST", f"/datasets/{dataset_id}/documents", body)

    def add_documents_bulk(
        self, dataset_id: str, count: int = 0, prefix: str = "doc-", documents: list[dict] | None = None
    ) -> int:
        """Seed many completed documents: `documents` [{name, metadata, …}], or `count` named
        `<prefix><n:06d>.md`."""
        body = {"count": count, "prefix": prefix, "documents": documents or []}
        return self._call("POST", f"/datasets/{dataset_id}/documents/bulk", body)["count"]

    def set_indexing(self, seconds: float | None = None, error_names: str | None = None) -> None:
        """How long an upload takes to index (waiting -> … -> completed), and a regex of document names whose
        indexing ends in `error` ("" clears it). None leaves a setting as it is."""
        body: dict[str, Any] = {}
        if seconds is not None:
            body["seconds"] = seconds
        if error_names is not None:
            body["error_names"] = error_names
        self._call("POST", "/indexing", body)

    def set_upload_limit(self, size_bytes: int) -> None:
        """Dify's UPLOAD_FILE_SIZE_LIMIT (15 MB by default)."""
        self._call("POST", "/upload-limit", {"bytes": size_bytes})

    def set_body_limit(self, size_bytes: int) -> None:
        """nginx's client_max_body_size (100 MB by default): a bigger request body gets nginx's HTML 413."""
        self._call("POST", "/body-limit", {"bytes": size_bytes})

    def set_metadata_hold(self, seconds: float) -> None:
        """Each document-metadata write holds its per-document lock this long (to provoke Dify's 400)."""
        self._call("POST", "/metadata-hold", {"seconds": seconds})

    def set_faults(self, rules: list[dict], seed: int = 1) -> None:
        """Fault rules, first firing wins: `path` (regex searched in the path), `method`, `status`,
        `retry_after`, `message`, `code`, `malformed`, `drop`, `latency_ms`, `times`, `rate` (seeded)."""
        self._call("POST", "/faults", {"rules": rules, "seed": seed})

    def faults(self) -> list[dict]:
        """The current rules with how often each has fired."""
        return self._call("GET", "/faults")["rules"]

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def set_latency(self, ms: float) -> None:
        self._call("POST", "/latency", {"ms": ms})

    def pause(self, seconds: float) -> None:
        """Every API request arriving in the next `seconds` waits until they are over."""
        self._call("POST", "/pause", {"seconds": seconds})

    def state(self, *, text: bool = False) -> dict:
        """`datasets` (each with `documents` in creation order: Dify's JSON plus `metadata` as stored, `batch`,
        `content_size`, and `text` if asked), `counts`, `settings`, and the workflow side's `apps`, `runs`,
        `log_counts`."""
        return self._call("GET", "/state", params={"text": "1"} if text else None)

    def documents(self, dataset_id: str) -> list[dict]:
        """The documents of one dataset as the state dump has them (with `metadata` as a name -> value dict)."""
        for dataset in self.state()["datasets"]:
            if dataset["id"] == dataset_id:
                return dataset["documents"]
        raise KeyError(dataset_id)

    def request_log(self) -> list[dict]:
        """Every /v1 and /console request: `method`, `path`, `route` (the URL rule), `status` (0 when the
        connection was dropped), `time` (arrival, Unix seconds), `fault` (the injected fault kind or None)."""
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

    # --- console apps (console_apps_admin.py) ---

    def create_console_app(self, name: str, mode: str, **fields: Any) -> dict:
        """A console app of `mode` (workflow, advanced-chat, chat, completion, agent-chat). Fields: `id`,
        `description`, `dataset_ids` (the datasets of its default knowledge node or context), `graph`,
        `features`, `environment_variables`, `conversation_variables`, `model_config`, `published` (default
        True: workflow modes get a published copy of the draft), `draft` (False: a workflow app with no draft
        yet). Returns `{id, name, mode, hash, workflow_id}`."""
        return self._call("POST", "/console-apps", {"name": name, "mode": mode, **fields})

    def console_app(self, app_id: str) -> dict:
        """The app as stored: `draft` (unmasked, with `hash`), `published` copies, `workflow_id`,
        `model_config` (current) and `model_config_count`."""
        return self._call("GET", f"/console-apps/{app_id}")
