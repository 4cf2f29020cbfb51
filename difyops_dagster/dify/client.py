"""Typed clients for Dify's service API: `DifyDatasetClient` (dataset key) and `DifyAppClient` (app key).

Lists are read to the end: pages of 100 (Dify's maximum), stopping when the rows received reach `total`
(`page * limit >= total`) or a page comes back empty — never on `has_more` alone, which Dify computes as
`len(data) == limit` and so gets wrong at exact multiples of the page size (and past 100). Lists are newest
first, so a row added while we page pushes older rows down one place: a row already yielded is not yielded
again.

Version differences come from `DifyCompat`; which calls may be retried is said per call (`safe=`, see
transport.py). A success body of an unexpected shape raises `DifyError` with code `malformed_response`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import requests

from difyops_dagster.dify.compat import DifyCompat
from difyops_dagster.dify.errors import DifyError, error_from_exception, malformed
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
MAX_PAGES = 100_000  # Dify's own page bound for logs (1-99999); a server ignoring `page` cannot loop us forever

T = TypeVar("T")


def _parse(endpoint: str, parse: Callable[[Any], T], data: Any) -> T:
    """Run a model's tolerant parser; a body missing even the required fields is a `malformed_response`."""
    try:
        return parse(data)
    except (KeyError, TypeError, ValueError, AttributeError, StopIteration) as exc:
        raise malformed(endpoint, 200, f"unexpected response shape ({type(exc).__name__} {exc})") from None


class _Client:
    def __init__(self, transport: DifyTransport, compat: DifyCompat):
        self.transport = transport
        self.compat = compat

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.transport.base_url!r})"

    def _pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[dict]:
        endpoint = f"GET {path}"
        seen: set[str] = set()
        received = 0
        for page in range(1, MAX_PAGES + 1):
            body = self.transport.json(
                "GET", path, safe=True, params={**(params or {}), "page": page, "limit": PAGE_SIZE}
            )
            items = body.get("data")
            if not isinstance(items, list):
                raise malformed(endpoint, 200, "list response without a `data` array")
            received += len(items)
            for item in items:
                key = item.get("id") if isinstance(item, dict) else None
                if key is not None:
                    if key in seen:
                        continue
                    seen.add(key)
                yield item
            total = body.get("total")
            # received == page * limit while the server honours the limit (Dify does, up to 100); counting rows
            # also stays right behind a server or proxy that caps pages lower
            if not items or (isinstance(total, int) and received >= total):
                return
            if total is None and not body.get("has_more"):
                return

    def _iter(self, path: str, parse: Callable[[Any], T], params: Mapping[str, Any] | None = None) -> Iterator[T]:
        endpoint = f"GET {path}"
        return (_parse(endpoint, parse, item) for item in self._pages(path, params))


class DifyDatasetClient(_Client):
    """Knowledge API: one workspace-wide dataset key."""

    def list_datasets(self) -> Iterator[Dataset]:
        return self._iter("/datasets", Dataset.from_json)

    def get_dataset(self, dataset_id: str) -> Dataset:
        path = f"/datasets/{dataset_id}"
        return _parse(f"GET {path}", Dataset.from_json, self.transport.json("GET", path, safe=True))

    def create_dataset(
        self, name: str, *, description: str = "", indexing_technique: str = "high_quality", permission: str = "only_me"
    ) -> Dataset:
        body = {
            "name": name,
            "description": description,
            "indexing_technique": indexing_technique,
            "permission": permission,
        }
        return _parse(
            "POST /datasets", Dataset.from_json, self.transport.json("POST", "/datasets", safe=False, json=body)
        )

    def iter_documents(self, dataset_id: str, *, keyword: str | None = None) -> Iterator[Document]:
        """Every document, newest first; `keyword` is Dify's case-sensitive `LIKE %kw%` on the name.

        From Dify 1.1 each carries its metadata values (`Document.metadata`), so one listing is enough to
        compare a dataset against its source.
        """
        params = {"keyword": keyword} if keyword else {}
        return self._iter(f"/datasets/{dataset_id}/documents", Document.from_json, params)

    def get_document(self, dataset_id: str, document_id: str, metadata: str = "all") -> Document:
        path = f"/datasets/{dataset_id}/documents/{document_id}"
        body = self.transport.json("GET", path, safe=True, params={"metadata": metadata})
        return _parse(f"GET {path}", Document.from_json, body)

    @staticmethod
    def _upload_result(endpoint: str, body: Any) -> UploadResult:
        if "document" not in body or not body.get("batch"):
            raise malformed(endpoint, 200, "upload response without document and batch")
        return UploadResult(_parse(endpoint, Document.from_json, body["document"]), str(body["batch"]))

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
        """Delete (Dify cleans up asynchronously). Every version's success shape is accepted (compat.py)."""
        path = f"/datasets/{dataset_id}/documents/{document_id}"
        with self.transport.request("DELETE", path, safe=True, ok=(200, 204)) as response:
            if not self.compat.delete_succeeded(response.status_code, response.text):
                raise malformed(f"DELETE {path}", response.status_code, "delete answered with an unknown body")

    def set_document_status(self, dataset_id: str, action: str, document_ids: Iterable[str]) -> None:
        """`enable`, `disable`, `archive` or `un_archive`. Dify skips a document already in that state and refuses
        one it is still (re-)indexing with 400 `invalid_action` ("... is being indexed, please try again later");
        repeating the call changes nothing more, so it is safe to retry."""
        path = f"/datasets/{dataset_id}/documents/status/{action}"
        self.transport.json("PATCH", path, safe=True, json={"document_ids": list(document_ids)})

    def indexing_status(self, dataset_id: str, batch: str) -> list[IndexingStatus]:
        path = f"/datasets/{dataset_id}/documents/{batch}/indexing-status"
        body = self.transport.json("GET", path, safe=True)
        return [_parse(f"GET {path}", IndexingStatus.from_json, item) for item in body.get("data") or ()]

    def list_metadata_fields(self, dataset_id: str) -> list[MetadataField]:
        path = f"/datasets/{dataset_id}/metadata"
        body = self.transport.json("GET", path, safe=True)
        return [_parse(f"GET {path}", MetadataField.from_json, f) for f in body.get("doc_metadata") or ()]

    def create_metadata_field(self, dataset_id: str, name: str, type: str = "string") -> MetadataField:
        """`type` is string, number or time. A name the dataset already has is 400 `Metadata name already exists.`"""
        path = f"/datasets/{dataset_id}/metadata"
        body = self.transport.json("POST", path, safe=False, ok=(200, 201), json={"type": type, "name": name})
        return _parse(f"POST {path}", MetadataField.from_json, body)

    def ensure_metadata_fields(self, dataset_id: str, wanted: Mapping[str, str]) -> dict[str, MetadataField]:
        """The fields named in `wanted` (name -> type), creating those the dataset does not have yet.

        A create whose answer was lost (or raced with another run) shows up as "already exists" on the next
        try; the field is then read back instead of failing the run.
        """
        existing = {f.name: f for f in self.list_metadata_fields(dataset_id)}
        for name, kind in wanted.items():
            if name in existing:
                continue
            try:
                existing[name] = self.create_metadata_field(dataset_id, name, kind)
            except DifyError as exc:
                if exc.status != 400 or "already exists" not in exc.message:
                    raise
                existing.update((f.name, f) for f in self.list_metadata_fields(dataset_id))
                if name not in existing:
                    raise
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
        return _parse("GET /info", AppInfo.from_json, self.transport.json("GET", "/info", safe=True))

    def parameters(self) -> AppParameters:
        return _parse("GET /parameters", AppParameters.from_json, self.transport.json("GET", "/parameters", safe=True))

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
        return _parse(
            "POST /workflows/run",
            lambda b: WorkflowRunResult(str(b["task_id"]), str(b["workflow_run_id"]), WorkflowRun.from_json(b["data"])),
            body,
        )

    def stream_workflow(self, inputs: Mapping[str, Any], user: str) -> Iterator[WorkflowEvent]:
        """Streaming run: Server-Sent Events as `WorkflowEvent`s; an `error` event raises `DifyError`.

        The stream may end without `workflow_finished` (a proxy cut it); the caller then follows the run by id.
        SSE framing is parsed here (a few lines) because Dify sends one JSON object per `data:` line plus
        `event: ping` keep-alives; an SSE library (`sseclient-py`, `requests-sse`) would own the HTTP call
        and so bypass the transport's timeouts, rate limit and error mapping.
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
            try:
                for data in _sse_data(response.iter_lines(decode_unicode=True)):
                    yield _stream_event(endpoint, data)
            except requests.RequestException as exc:  # the stream broke off or stalled past the read timeout
                raise error_from_exception(endpoint, exc) from None

    def get_workflow_run(self, run_id: str) -> WorkflowRun | None:
        """The run, or None when Dify does not know it (404 on newer versions, all-null body on older 1.x)."""
        path = f"/workflows/run/{run_id}"
        with self.transport.request("GET", path, safe=True, ok=(200, 404)) as response:
            body = None
            if response.status_code == 200:
                try:
                    body = response.json()
                except ValueError:
                    raise malformed(f"GET {path}", 200, "body is not JSON") from None
            known = self.compat.known_run(response.status_code, body)
        return None if known is None else _parse(f"GET {path}", WorkflowRun.from_json, known)

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
        """Every log row matching the filters, newest first. `status` is succeeded, failed or stopped.

        The window bounds are datetimes sent as ISO-8601 (aware ones in UTC; naive ones as given, which Dify
        reads as UTC). `end_user_session_id` is the `user` a run was started with.
        """
        params: dict[str, Any] = {}
        if keyword:
            params["keyword"] = keyword
        if status:
            params["status"] = status
        if created_after is not None:
            params["created_at__after"] = _iso(created_after)
        if created_before is not None:
            params["created_at__before"] = _iso(created_before)
        if end_user_session_id:
            params["created_by_end_user_session_id"] = end_user_session_id
        if account_email:
            params["created_by_account"] = account_email
        return self._iter("/workflows/logs", WorkflowLog.from_json, params)


def _iso(moment: datetime) -> str:
    return (moment.astimezone(UTC) if moment.tzinfo else moment).isoformat()


def _sse_data(lines: Iterable[str]) -> Iterator[str]:
    """The `data` of each Server-Sent Event: `data:` lines joined until a blank line; other fields ignored."""
    buffer: list[str] = []
    for line in lines:
        if line.startswith("data:"):
            buffer.append(line[5:].removeprefix(" "))
        elif not line and buffer:
            yield "\n".join(buffer)
            buffer = []
    if buffer:  # a last event without its closing blank line
        yield "\n".join(buffer)


def _stream_event(endpoint: str, data: str) -> WorkflowEvent:
    try:
        payload = json.loads(data)
    except ValueError:
        raise malformed(endpoint, 200, "stream event is not JSON") from None
    if not isinstance(payload, dict):
        raise malformed(endpoint, 200, "stream event is not a JSON object")
    if payload.get("event") == "error":
        status = payload.get("status")
        raise DifyError(
            endpoint,
            status if isinstance(status, int) else 500,
            str(payload.get("code") or "error"),
            str(payload.get("message") or ""),
        )
    return WorkflowEvent(
        str(payload.get("event")), payload.get("task_id"), payload.get("workflow_run_id"), payload.get("data") or {}
    )
