"""Typed clients for Dify's service API: `DifyDatasetClient` (dataset key) and `DifyAppClient` (app key).

Lists are read to the end in pages of 100 (Dify's maximum). Page 1 tells `total`; the remaining
`ceil(total / 100) - 1` pages are then read `read_concurrency` at a time (inside the transport's rate limit) and
handed on in order, so reading 100,000 documents costs 1,000 requests and about 1,000 / concurrency round trips.
Never on `has_more` alone, which Dify computes as `len(data) == limit` and so gets wrong at exact multiples of the
page size (and past 100); a server that sends no `total` is read page after page until a short page.

Lists are newest first, so a row created while the pages are read pushes older rows down (one row is seen on two
pages) and a row deleted pulls them up (one row may be on no page that was read). Rows are handed on once per id,
and a read whose pages disagree on `total`, or that saw fewer rows than `total`, is read again (up to
`MAX_READ_PASSES` passes) handing on only rows not seen yet: nothing is doubled, and a row that existed through the
whole read is not lost. A server capping pages below 100 is followed by counting rows, not pages.

Version differences come from `DifyCompat`; which calls may be retried is said per call (`safe=`, see
transport.py). A success body of an unexpected shape raises `DifyError` with code `malformed_response`.
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any, TypeVar

import requests

from difyops_dagster.dify.compat import DifyCompat
from difyops_dagster.dify.errors import DifyError, error_from_exception, malformed, parse_model
from difyops_dagster.dify.models import (
    AppInfo,
    AppParameters,
    Dataset,
    Document,
    IndexingStatus,
    MetadataField,
    RetrievalRecord,
    UploadResult,
    WorkflowEvent,
    WorkflowLog,
    WorkflowRun,
    WorkflowRunResult,
)
from difyops_dagster.dify.transport import DifyTransport

PAGE_SIZE = 100
MAX_PAGES = 100_000  # Dify's own page bound for logs (1-99999); a server ignoring `page` cannot loop us forever
MAX_READ_PASSES = 3
DEFAULT_READ_CONCURRENCY = 8

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Page:
    items: list
    total: int | None
    has_more: bool


class _Client:
    def __init__(self, transport: DifyTransport, compat: DifyCompat, read_concurrency: int = DEFAULT_READ_CONCURRENCY):
        self.transport = transport
        self.compat = compat
        self.read_concurrency = max(1, read_concurrency)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.transport.base_url!r})"

    def _page(self, path: str, params: Mapping[str, Any], page: int) -> _Page:
        body = self.transport.json("GET", path, safe=True, params={**params, "page": page, "limit": PAGE_SIZE})
        items = body.get("data")
        if not isinstance(items, list):
            raise malformed(f"GET {path}", 200, "list response without a `data` array")
        total = body.get("total")
        return _Page(items, total if isinstance(total, int) else None, bool(body.get("has_more")))

    def _pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[dict]:
        params = dict(params or {})
        seen: set[str] = set()
        first = self._page(path, params, 1)
        if first.total is None:
            yield from self._unseen(first.items, seen)
            yield from self._pages_in_turn(path, params, first, seen)
            return
        per_page = len(first.items) or PAGE_SIZE  # a server capping below the limit is followed by its own size
        total, pass_first = first.total, first
        for _ in range(MAX_READ_PASSES):
            totals = {total}
            pages = min(math.ceil(total / per_page), MAX_PAGES)
            yield from self._unseen(pass_first.items, seen)
            for page in self._read_ahead(path, params, range(2, pages + 1)):
                totals.add(page.total if page.total is not None else total)
                yield from self._unseen(page.items, seen)
            if len(totals) == 1 and len(seen) >= total:
                return
            pass_first = self._page(path, params, 1)  # the list moved while it was read: once more, new rows only
            total = pass_first.total if pass_first.total is not None else max(totals)

    def _read_ahead(self, path: str, params: Mapping[str, Any], numbers: range) -> Iterator[_Page]:
        """The pages `numbers`, in order, with up to `read_concurrency` requests in flight."""
        if self.read_concurrency == 1 or len(numbers) <= 1:
            yield from (self._page(path, params, n) for n in numbers)
            return
        with ThreadPoolExecutor(self.read_concurrency, thread_name_prefix="dify-pages") as pool:
            ahead: deque[Future[_Page]] = deque()
            pending = iter(numbers)
            try:
                for number in islice(pending, self.read_concurrency):
                    ahead.append(pool.submit(self._page, path, params, number))
                while ahead:
                    page = ahead.popleft().result()
                    for number in islice(pending, 1):
                        ahead.append(pool.submit(self._page, path, params, number))
                    yield page
            finally:
                for future in ahead:
                    future.cancel()

    def _pages_in_turn(self, path: str, params: Mapping[str, Any], first: _Page, seen: set[str]) -> Iterator[dict]:
        """A server without `total`: page after page until an empty one, or one that says there is no more."""
        page, number = first, 1
        while page.items and page.has_more and number < MAX_PAGES:
            number += 1
            page = self._page(path, params, number)
            yield from self._unseen(page.items, seen)

    @staticmethod
    def _unseen(items: list, seen: set[str]) -> Iterator[dict]:
        for item in items:
            key = item.get("id") if isinstance(item, dict) else None
            if key is not None:
                if key in seen:
                    continue
                seen.add(key)
            yield item

    def _iter(self, path: str, parse: Callable[[Any], T], params: Mapping[str, Any] | None = None) -> Iterator[T]:
        endpoint = f"GET {path}"
        return (parse_model(endpoint, parse, item) for item in self._pages(path, params))


class DifyDatasetClient(_Client):
    """Knowledge API: one workspace-wide dataset key."""

    def list_datasets(self) -> Iterator[Dataset]:
        return self._iter("/datasets", Dataset.from_json)

    def get_dataset(self, dataset_id: str) -> Dataset:
        path = f"/datasets/{dataset_id}"
        return parse_model(f"GET {path}", Dataset.from_json, self.transport.json("GET", path, safe=True))

    def create_dataset(
        self, name: str, *, description: str = "", indexing_technique: str = "high_quality", permission: str = "only_me"
    ) -> Dataset:
        body = {
            "name": name,
            "description": description,
            "indexing_technique": indexing_technique,
            "permission": permission,
        }
        return parse_model(
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
        return parse_model(f"GET {path}", Document.from_json, body)

    @staticmethod
    def _upload_result(endpoint: str, body: Any) -> UploadResult:
        if "document" not in body or not body.get("batch"):
            raise malformed(endpoint, 200, "upload response without document and batch")
        return UploadResult(parse_model(endpoint, Document.from_json, body["document"]), str(body["batch"]))

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
        """Create a text document. Unlike create-by-file, Dify's `KnowledgeConfig` requires `indexing_technique` here
        even when the dataset has one (400 "Field required" on 1.13.2, recorded): without it in `options`, the
        dataset's own is sent."""
        options = dict(options or {})
        if not options.get("indexing_technique"):
            technique = self.get_dataset(dataset_id).indexing_technique
            if technique:
                options["indexing_technique"] = technique
        path = self.compat.create_document_path(dataset_id, "text")
        body = self.transport.json("POST", path, safe=False, json={**options, "name": name, "text": text})
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
        return [parse_model(f"GET {path}", IndexingStatus.from_json, item) for item in body.get("data") or ()]

    def retrieve(
        self,
        dataset_id: str,
        query: str,
        retrieval_model: Mapping[str, Any] | None = None,
        *,
        source_key_field: str = "source_key",
    ) -> list[RetrievalRecord]:
        """The chunks Dify retrieves for `query`, best first (`POST /datasets/{id}/retrieve`).

        Without `retrieval_model` the dataset's own settings apply (`Dataset.retrieval_model`); a model sent
        replaces them whole, and from Dify 1.10 must carry `search_method`, `reranking_enable`, `top_k` and
        `score_threshold_enabled`. `keyword_search` works on a Dify without an embedding model. Read-only, so
        retried like a read (Dify only logs the query).
        """
        path = f"/datasets/{dataset_id}/retrieve"
        body: dict[str, Any] = {"query": query}
        if retrieval_model is not None:
            body["retrieval_model"] = dict(retrieval_model)
        answer = self.transport.json("POST", path, safe=True, json=body)
        records = answer.get("records")
        if not isinstance(records, list):
            raise malformed(f"POST {path}", 200, "retrieve answer without a `records` array")
        return [
            parse_model(f"POST {path}", lambda r, n=n: RetrievalRecord.from_json(n, r, source_key_field), record)
            for n, record in enumerate(records, start=1)
        ]

    def list_metadata_fields(self, dataset_id: str) -> list[MetadataField]:
        path = f"/datasets/{dataset_id}/metadata"
        body = self.transport.json("GET", path, safe=True)
        return [parse_model(f"GET {path}", MetadataField.from_json, f) for f in body.get("doc_metadata") or ()]

    def create_metadata_field(self, dataset_id: str, name: str, type: str = "string") -> MetadataField:
        """`type` is string, number or time. A name the dataset already has is 400 `Metadata name already exists.`"""
        path = f"/datasets/{dataset_id}/metadata"
        body = self.transport.json("POST", path, safe=False, ok=(200, 201), json={"type": type, "name": name})
        return parse_model(f"POST {path}", MetadataField.from_json, body)

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
        if not operations:
            return
        path = f"/datasets/{dataset_id}/documents/metadata"
        with self.transport.request("POST", path, safe=True, json={"operation_data": operations}) as response:
            try:
                body = response.json()
            except ValueError:
                raise malformed(f"POST {path}", response.status_code, "body is not JSON") from None
        if not self.compat.metadata_written(body):
            raise malformed(f"POST {path}", response.status_code, f"unexpected answer {json.dumps(body)[:80]}")


class DifyAppClient(_Client):
    """Workflow-app API: one key per app."""

    def info(self) -> AppInfo:
        return parse_model("GET /info", AppInfo.from_json, self.transport.json("GET", "/info", safe=True))

    def parameters(self) -> AppParameters:
        return parse_model(
            "GET /parameters", AppParameters.from_json, self.transport.json("GET", "/parameters", safe=True)
        )

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
        return parse_model(
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
        return None if known is None else parse_model(f"GET {path}", WorkflowRun.from_json, known)

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
