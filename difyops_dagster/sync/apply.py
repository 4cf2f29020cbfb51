"""Applying a sync plan to one dataset: bounded parallel writes, each item on its own, then a wait for indexing.

Order: deletes (plain and repair) first, so a repair's re-created document never meets its old twin under
Dify's upsert by name; then uploads (create, update, repair), each followed at once by its metadata, written
whole; then a wait until every uploaded batch has finished indexing or the timeout passes. A failing item is
recorded as an `ItemOutcome` and the others go on. A delete refused because the document is still indexing
(an interrupted earlier run) is retried until the indexing ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from difyops_dagster.dify.client import DifyDatasetClient
from difyops_dagster.dify.errors import DifyError
from difyops_dagster.sync.models import (
    FINGERPRINT_FIELD,
    METADATA_FIELDS,
    SOURCE_KEY_FIELD,
    ApplyReport,
    ItemOutcome,
    SourceItem,
    SyncPlan,
)

ContentLoader = Callable[[SourceItem], bytes]


@dataclass(frozen=True)
class ApplyOptions:
    concurrency: int = 4
    indexing_timeout_s: float = 900.0
    indexing_poll_s: float = 2.0
    first_upload_options: dict | None = None  # indexing_technique + process_rule while the dataset has none


def apply_sync_plan(
    client: DifyDatasetClient,
    dataset_id: str,
    plan: SyncPlan,
    load_content: ContentLoader,
    options: ApplyOptions,
    log: Callable[[str], Any] = lambda _: None,
) -> ApplyReport:
    fields = client.ensure_metadata_fields(dataset_id, METADATA_FIELDS)
    upload_options = options.first_upload_options if client.get_dataset(dataset_id).indexing_technique is None else None
    deadline = time.monotonic() + options.indexing_timeout_s

    deletes = [(d.source_key or d.name, d.id, "delete") for d in plan.delete]
    deletes += [
        (r.source.source_key if r.source else "", doc_id, "repair") for r in plan.repair for doc_id in r.delete_ids
    ]
    uploads: list[tuple[SourceItem, str | None, str]] = [(s, None, "create") for s in plan.create]
    uploads += [(s, doc_id, "update") for s, doc_id in plan.update]
    uploads += [(r.source, None, "repair") for r in plan.repair if r.recreate and r.source]

    def delete_one(item: tuple[str, str, str]) -> ItemOutcome:
        key, document_id, action = item
        while True:
            try:
                client.delete_document(dataset_id, document_id)
                return ItemOutcome(action, key, True, "deleted")
            except DifyError as exc:
                if exc.code == "not_found":
                    return ItemOutcome(action, key, True, "already gone")
                if exc.code == "document_indexing" and time.monotonic() < deadline:
                    time.sleep(options.indexing_poll_s)
                    continue
                return ItemOutcome(action, key, False, str(exc))

    def upload_one(item: tuple[SourceItem, str | None, str]) -> tuple[ItemOutcome, str | None]:
        source, document_id, action = item
        try:
            content = load_content(source)
            if document_id is None:
                result = client.create_document_by_file(
                    dataset_id, source.document_name, content, options=upload_options
                )
            else:
                result = _update_when_available(
                    client, dataset_id, document_id, source, content, deadline, options.indexing_poll_s
                )
            values = {SOURCE_KEY_FIELD: source.source_key, FINGERPRINT_FIELD: source.fingerprint}
            client.set_document_metadata(dataset_id, [(result.document.id, values)], fields)
            return ItemOutcome(action, source.source_key, True, result.document.id), result.batch
        except DifyError as exc:
            return ItemOutcome(action, source.source_key, False, str(exc)), None
        except Exception as exc:  # a source that cannot be read (deleted since listing, S3 error): report it
            return ItemOutcome(action, source.source_key, False, f"{type(exc).__name__}: {exc}"), None

    with ThreadPoolExecutor(max_workers=options.concurrency, thread_name_prefix="dify-sync") as pool:
        outcomes = list(pool.map(delete_one, deletes))
        log(f"deleted {sum(o.ok for o in outcomes)} of {len(deletes)} documents")
        uploaded = list(pool.map(upload_one, uploads))
    outcomes += [o for o, _ in uploaded]
    log(f"uploaded {sum(o.ok for o, _ in uploaded)} of {len(uploads)} documents")
    batches = {batch: outcome.source_key for outcome, batch in uploaded if batch}
    timed_out = wait_for_indexing(client, dataset_id, batches, deadline, options.indexing_poll_s)
    return ApplyReport(tuple(outcomes), tuple(sorted(timed_out)))


def _update_when_available(client, dataset_id, document_id, source, content, deadline, poll_s):
    """Dify updates only `available` documents; one still indexing from an earlier run is waited for."""
    while True:
        try:
            return client.update_document_by_file(dataset_id, document_id, source.document_name, content)
        except DifyError as exc:
            if "not available" in exc.message and time.monotonic() < deadline:
                time.sleep(poll_s)
                continue
            raise


def wait_for_indexing(
    client: DifyDatasetClient, dataset_id: str, batches: dict[str, str], deadline: float, poll_s: float
) -> set[str]:
    """Poll each batch until it finished; return the source keys whose indexing outlived the deadline."""
    pending = dict(batches)
    while pending:
        for batch in list(pending):
            try:
                statuses = client.indexing_status(dataset_id, batch)
            except DifyError as exc:
                if exc.status == 404:  # batch superseded by a later upload of the same name: not ours to wait for
                    pending.pop(batch)
                    continue
                raise
            if all(s.finished for s in statuses):
                pending.pop(batch)
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(poll_s)
    return set(pending.values())
