"""Typed clients for Dify's service API: `DifyDatasetClient` (dataset key) and `DifyAppClient` (app key).

Lists are read to the end: pages of 100 (Dify's maximum), stopping when `page * limit >= total` or a page
comes back empty — never on `has_more` alone, which Dify computes as `len(data) == limit` and so gets wrong
at exact multiples of the page size. Version differences come from `DifyCompat`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

import requests

from difyops_dagster.dify.compat import DifyCompat
from difyops_dagster.dify.errors import DifyError, error_from_exception
from difyops_dagster.dify.models import (
    AppInfo,
    AppParameters,
    Dataset,
    Document,
    IndexingStatus,
    MetadataField,
    UploadResult,
    WorkflowEvent,
    WorkflowLog,
    WorkflowRun,
    WorkflowRunResult,
)
from difyops_dagster.dify.transport import DifyTransport

PAGE_SIZE = 100
MAX_PAGES = 100_000


class _Client:
    def __init__(self, transport: DifyTransport, compat: DifyCompat):
        self.transport = transport
        self.compat = compat

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.transport.base_url!r})"

    def _pages(self, path: str, params: Mapping[str, Any] | None = None, page_size: int = PAGE_SIZE) -> Iterator[dict]:
        for page in range(1, MAX_PAGES + 1):
            body = self.transport.json(
                "GET", path, safe=True, params={**(params or {}), "page": page, "limit": page_size}
            )
            items = body.get("data")
            if not isinstance(items, list):
                raise DifyError(f"GET {path}", 200, "malformed_response", "list response without a `data` array")
            yield from items
            total = body.get("total")
            if not items or (isinstance(total, int) and page * page_size >= total):
                return
            if total is None and not body.get("has_more"):
                return


class DifyDatasetClient(_Client):
    """Knowledge API: one workspace-wide dataset key."""

    def list_datasets(self) -> Iterator[Dataset]:
        return (Dataset.from_json(d) for d in self._pages("/datasets"))

    def get_dataset(self, dataset_id: str) -> Dataset:
        return Dataset.from_json(self.transport.json("GET", f"/datasets/{dataset_id}", safe=True))

    def create_dataset(
        self, name: str, *, description: str = "", indexing_technique: str = "high_quality", permission: str = "only_me"
    ) -> Dataset:
        body = {
            "name": name,
            "description": description,
            "indexing_technique": indexing_technique,
            "permission": permission,
        }
        return Dataset.from_json(self.transport.json("POST", "/datasets", safe=False, json=body))

    def iter_documents(self, dataset_id: str, *, keyword: str | None = None) -> Iterator[Document]:
        params = {"keyword": keyword} if keyword else {}
        return (Document.from_json(d) for d in self._pages(f"/datasets/{dataset_id}/documents", params))

    def get_document(self, dataset_id: str, document_id: str, metadata: str = "all") -> Document:
        path = f"/datasets/{dataset_id}/documents/{document_id}"
        return Document.from_json(self.transport.json("GET", path, safe=True, params={"metadata": metadata}))

    @staticmethod
    def _upload_result(endpoint: str, body: Any) -> UploadResult:
        if not isinstance(body, dict) or "document" not in body or "batch" not in body:
            raise DifyError(endpoint, 200, "malformed_response", "upload response without document and batch")
        return UploadResult(Document.from_json(body["document"]), str(body["batch"]))

    def create_document_by_file(
        self,
        dataset_id: str,
        filename: str,
        content: bytes,
        *,
        options: Mapping[str, Any] | None = None,
        duplicate: bool | None = None,
    ) -> UploadResult:
        """Upload a file. Dify reuses an enabled document of the same name unless `duplicate` is False."""
        data = dict(options or {})
        if duplicate is not None:
            data["duplicate"] = duplicate
        path = self.compat.create_document_path(dataset_id, "file")
        body = self.transport.json(
            "POST", path, safe=False, files={"file": (filename, content)}, data={"data": json.dumps(data)}
        )
        return self._upload_result(f"POST {path}", body)

    def create_document_by_text(
        self, dataset_id: str, name: str, text: str, *, options: Mapping[str, Any] | None = None
    ) -> UploadResult:
        path = self.compat.create_document_path(dataset_id, "text")
        body = self.transport.json("POST", path, safe=False, json={**(options or {}), "name": name, "text": text})
        return self._upload_result(f"POST {path}", body)

    def update_document_by_file(
        self,
        dataset_id: str,
        document_id: str,
        filename: str,
        content: bytes,
        *,
        options: Mapping[str, Any] | None = None,
    ) -> UploadResult:
        """Replace a document's file (it must be `available`); the name stays `filename`."""
        method, path = self.compat.update_document_route(dataset_id, document_id, "file")
        data = {"name": filename, **(options or {})}
        body = self.transport.json(
            method, path, safe=False, files={"file": (filename, content)}, data={"data": json.dumps(data)}
        )
        return self._upload_result(f"{method} {path}", body)

    def update_document_by_text(
        self, dataset_id: str, document_id: str, name: str, text: str, *, options: Mapping[str, Any] | None = None
    ) -> UploadResult:
        method, path = self.compat.update_document_route(dataset_id, document_id, "text")
        body = self.transport.json(method, path, safe=False, json={**(options or {}), "name": name, "text": text})
        return self._upload_result(f"{method} {path}", body)

    def delete_document(self, dataset_id: str, document_id: str) -> None:
        """Accepts every success shape Dify has used: 204 empty, 200 with body `204`, 200 `{"result"}`."""
        self.transport.request(
            "DELETE", f"/datasets/{dataset_id}/documents/{document_id}", safe=True, ok=(200, 204)
        ).close()

    def indexing_status(self, dataset_id: str, batch: str) -> list[IndexingStatus]:
        body = self.transport.json("GET", f"/datasets/{dataset_id}/documents/{batch}/indexing-status", safe=True)
        return [IndexingStatus.from_json(item) for item in body.get("data") or ()]

    def list_metadata_fields(self, dataset_id: str) -> list[MetadataField]:
        body = self.transport.json("GET", f"/datasets/{dataset_id}/metadata", safe=True)
        return [MetadataField.from_json(f) for f in body.get("doc_metadata") or ()]

    def create_metadata_field(self, dataset_id: str, name: str, type: str = "string") -> MetadataField:
        body = self.transport.json(
            "POST", f"/datasets/{dataset_id}/metadata", safe=False, ok=(200, 201), json={"type": type, "name": name}
        )
        return MetadataField.from_json(body)

    def ensure_metadata_fields(self, dataset_id: str, wanted: Mapping[str, str]) -> dict[str, MetadataField]:
        """The fields named in `wanted` (name -> type), creating those the dataset does not have yet."""
        existing = {f.name: f for f in self.list_metadata_fields(dataset_id)}
        for name, kind in wanted.items():
            if name not in existing:
                existing[name] = self.create_metadata_field(dataset_id, name, kind)
        return {name: existing[name] for name in wanted}

    def set_document_metadata(
        self, dataset_id: str, items: Iterable[tuple[str, Mapping[str, Any]]], fields: Mapping[str, MetadataField]
    ) -> None:
        """Write each document's *whole* metadata set (document id, name -> value).

        Versions before `partial_update` replace every value on each write, so writing the whole set is the
        only form that means the same everywhere; it also makes the call idempotent, hence safe to retry.
        """
        operations = []
        for document_id, values in items:
            operation: dict[str, Any] = {
                "document_id": document_id,
                "metadata_list": [
                    {"id": fields[name].id, "name": name, "value": value} for name, value in values.items()
                ],
            }
            if self.compat.has_partial_update:
                operation["partial_update"] = False
            operations.append(operation)
        if operations:
            self.transport.json(
                "POST", f"/datasets/{dataset_id}/documents/metadata", safe=True, json={"operation_data": operations}
            )


class DifyAppClient(_Client):
    """Workflow-app API: one key per app."""

    def info(self) -> AppInfo:
        return AppInfo.from_json(self.transport.json("GET", "/info", safe=True))

    def parameters(self) -> AppParameters:
        return AppParameters.from_json(self.transport.json("GET", "/parameters", safe=True))

    def run_workflow(
        self, inputs: Mapping[str, Any], user: str, *, read_timeout_s: float | None = None
    ) -> WorkflowRunResult:
        """Blocking run. A workflow that failed still answers 200: read `result.run.status`.

        The answer only comes when the workflow ends, so `read_timeout_s` (default: the configured read timeout)
        must cover the whole run.
        """
        body = self.transport.json(
            "POST",
            "/workflows/run",
            safe=False,
            read_timeout_s=read_timeout_s,
            json={"inputs": dict(inputs), "user": user, "response_mode": "blocking"},
        )
        try:
            return WorkflowRunResult(
                str(body["task_id"]), str(body["workflow_run_id"]), WorkflowRun.from_json(body["data"])
            )
        except (KeyError, TypeError):
            raise DifyError(
                "POST /workflows/run", 200, "malformed_response", "run response without task_id/data"
            ) from None

    def stream_workflow(self, inputs: Mapping[str, Any], user: str) -> Iterator[WorkflowEvent]:
        """Streaming run: Server-Sent Events as `WorkflowEvent`s; an `error` event raises `DifyError`.

        The SSE framing is parsed here (a dozen lines) because Dify sends one JSON object per `data:` line and
        nothing else but pings; an SSE library would add a dependency for no behaviour we need.
        """
        endpoint = "POST /workflows/run"
        response = self.transport.request(
            "POST",
            "/workflows/run",
            safe=False,
            stream=True,
            json={"inputs": dict(inputs), "user": user, "response_mode": "streaming"},
        )
        with response:
            buffer: list[str] = []
            try:
                for line in response.iter_lines(decode_unicode=True):
                    if line.startswith("data:"):
                        buffer.append(line[5:].strip())
                        continue
                    if line or not buffer:
                        continue
                    try:
                        payload = json.loads("\n".join(buffer))
                    except ValueError:
                        raise DifyError(endpoint, 200, "malformed_response", "stream event is not JSON") from None
                    buffer = []
                    if payload.get("event") == "error":
                        raise DifyError(
                            endpoint,
                            int(payload.get("status") or 500),
                            str(payload.get("code") or "error"),
                            str(payload.get("message") or ""),
                        )
                    yield WorkflowEvent(
                        str(payload.get("event")),
                        payload.get("task_id"),
                        payload.get("workflow_run_id"),
                        payload.get("data") or {},
                    )
            except requests.RequestException as exc:  # the stream broke off or stalled past the read timeout
                raise error_from_exception(endpoint, exc) from None

    def get_workflow_run(self, run_id: str) -> WorkflowRun | None:
        """The run, or None when Dify does not know it (404 on newer versions, all-null body on older 1.x)."""
        try:
            body = self.transport.json("GET", f"/workflows/run/{run_id}", safe=True)
        except DifyError as exc:
            if exc.status == 404:
                return None
            raise
        return WorkflowRun.from_json(body) if body.get("id") else None

    def stop_task(self, task_id: str, user: str) -> None:
        self.transport.json("POST", f"/workflows/tasks/{task_id}/stop", safe=True, json={"user": user})

    def iter_workflow_logs(
        self,
        *,
        keyword: str | None = None,
        status: str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        end_user_session_id: str | None = None,
        account_email: str | None = None,
    ) -> Iterator[WorkflowLog]:
        """Every log row matching the filters, newest first. `status` is succeeded, failed or stopped."""
        params: dict[str, Any] = {}
        if keyword:
            params["keyword"] = keyword
        if status:
            params["status"] = status
        if created_after is not None:
            params["created_at__after"] = created_after.isoformat()
        if created_before is not None:
            params["created_at__before"] = created_before.isoformat()
        if end_user_session_id:
            params["created_by_end_user_session_id"] = end_user_session_id
        if account_email:
            params["created_by_account"] = account_email
        return (WorkflowLog.from_json(row) for row in self._pages("/workflows/logs", params))
