"""Applying a sync plan to one dataset: bounded parallel writes, each item on its own, then a wait for indexing.

Order: restores first (Dify's `un_archive` / `enable` status routes, one document per call, so a refusal names
its document), so that a restored document can then be updated and an archived one deleted. Then deletes (plain
and repair), so a repair's re-created document never meets its old twin under Dify's upsert by name (deleting
the twin by id afterwards would delete the new upload). Then uploads (create, update, repair), at most
`concurrency` Dify calls in flight, their bodies read from S3 ahead of them (prefetch.py) so that an upload
thread only waits on Dify; the metadata of finished uploads is written in batches of `metadata_batch` documents
per call, each document's whole set (`source_key`, `fingerprint`), so a file costs one call plus a fraction, and
an upload killed before its batch was written is an untagged document the next plan repairs. Then a wait until
every uploaded batch finished indexing or the timeout passed.

A failing item becomes an `ItemOutcome` with a readable reason and the others go on (one bad file never aborts
the rest). A document Dify will not restore is immovable (it cannot be updated, and an archived one cannot be
deleted): it is left where it is, unserved, and reported in `ApplyReport.immovable`; the source it stood for is
uploaded afresh as a new document (`duplicate: false`, since Dify's upsert by name would land on the immovable
one), so one such document never blocks the sync. Refusals that only mean "wait" (a status change while Dify
re-indexes the document, a delete while it indexes, an update of a document that is not `available` yet) are
retried until the indexing deadline. Transport retries (429 with Retry-After, 5xx, timeouts on retry-safe calls)
are the client's job.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from difyops_dagster.dify.client import DifyDatasetClient
from difyops_dagster.dify.compat import format_version
from difyops_dagster.dify.errors import NO_MESSAGE, DifyError
from difyops_dagster.dify.models import Dataset, MetadataField, UploadResult
from difyops_dagster.sync.models import (
    FINGERPRINT_FIELD,
    METADATA_FIELDS,
    SOURCE_KEY_FIELD,
    ApplyReport,
    DatasetDocument,
    DatasetSnapshot,
    ItemOutcome,
    Restore,
    SourceItem,
    SyncPlan,
)
from difyops_dagster.sync.prefetch import BodyPrefetcher, ContentLoader

Log = Callable[[str], Any]


def _silent(_: str) -> None:
    return None


@dataclass(frozen=True)
class ApplyOptions:
    concurrency: int = 4
    indexing_timeout_s: float = 900.0
    indexing_poll_s: float = 2.0
    # Sent with uploads only while the dataset has no documents or no indexing technique yet (Dify then requires
    # them); later uploads keep the dataset's own settings (seed 000 overwrote them on every upload).
    first_upload_options: Mapping[str, Any] | None = None
    metadata_batch: int = 50
    # Uploads are POSTs, which the transport never retries; Dify's upsert by name (and update by id) makes a
    # repeated upload land on the same document, so a transient failure (no answer, 429, 5xx) is tried again.
    upload_attempts: int = 3
    retry_backoff_s: float = 0.5
    # Bodies read from S3 ahead of the uploads (prefetch.py): that many reads in flight, that many bytes held;
    # 0 workers reads each body in its upload thread (benchmarks/sync_uploads.py compares the two).
    prefetch_workers: int = 4
    prefetch_bytes: int = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class _UploadOptions:
    """The `data` options of a create and of an update (None: send none)."""

    create: Mapping[str, Any] | None
    update: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class _Upload:
    source: SourceItem
    document_id: str | None
    action: str
    fresh: bool = False  # a new document even where one of the name exists (`duplicate: false`)


@dataclass(frozen=True, slots=True)
class _Delete:
    source_key: str
    document_id: str
    action: str


def read_dataset(client: DifyDatasetClient, dataset_id: str) -> DatasetSnapshot:
    """Every document of the dataset, through every page (the client stops on `total` or an empty page).

    The sync keeps each document's source key and fingerprint in Dify's document metadata, which Dify 1.1.0
    introduced: on 1.0 every document would look untagged and be uploaded again on every run, so it refuses.
    """
    if not client.compat.lists_document_metadata:
        raise DifyError(
            f"GET /datasets/{dataset_id}/documents",
            None,
            "unsupported_version",
            "the sync needs Dify 1.1.0 or later (document metadata); this Dify is "
            + format_version(client.compat.version),
        )
    documents = tuple(DatasetDocument.from_document(d) for d in client.iter_documents(dataset_id))
    return DatasetSnapshot(dataset_id, documents)


def apply_sync_plan(
    client: DifyDatasetClient,
    dataset_id: str,
    plan: SyncPlan,
    load_content: ContentLoader,
    options: ApplyOptions,
    log: Log = _silent,
) -> ApplyReport:
    """Make the writes of `plan`; a plan without writes makes no call at all."""
    if plan.write_count == 0:
        return ApplyReport()
    fields = client.ensure_metadata_fields(dataset_id, METADATA_FIELDS)
    dataset = client.get_dataset(dataset_id)
    first_time = dataset.indexing_technique is None or dataset.document_count == 0
    writer = _Writer(
        client,
        dataset_id,
        fields,
        _upload_options(dataset, options.first_upload_options, first_time),
        deadline=time.monotonic() + options.indexing_timeout_s,
        poll_s=options.indexing_poll_s,
        attempts=options.upload_attempts,
        backoff_s=options.retry_backoff_s,
    )
    with ThreadPoolExecutor(max_workers=options.concurrency, thread_name_prefix="dify-sync") as pool:
        restored = list(pool.map(writer.restore, plan.restore))
        stuck = {r.document.id: (r, o) for r, o in zip(plan.restore, restored, strict=True) if not o.ok}
        outcomes = [o for o in restored if o.ok]
        immovable = [o for _, o in stuck.values()]
        if plan.restore:
            log(f"restored {len(outcomes)} of {len(plan.restore)} disabled or archived documents")
        deletes = [_Delete(d.document.source_key or d.document.name, d.document.id, "delete") for d in plan.delete]
        deletes += [_Delete(r.source.source_key, doc_id, "repair") for r in plan.repair for doc_id in r.delete_ids]
        deleted = list(pool.map(writer.delete, [d for d in deletes if d.document_id not in stuck]))
        outcomes += deleted
        log(f"deleted {sum(o.ok for o in deleted)} of {len(deletes)} documents")
        failed_deletes = {o.source_key for o in deleted if not o.ok and o.action == "repair"}
        uploads, blocked = _uploads(plan, failed_deletes, stuck)
        outcomes += blocked
        if options.prefetch_workers:
            sources = [u.source for u in uploads]
            with BodyPrefetcher(
                load_content, sources, workers=options.prefetch_workers, max_bytes=options.prefetch_bytes
            ) as bodies:
                uploaded, batches = _run_uploads(pool, writer, uploads, bodies, options, log)
        else:
            uploaded, batches = _run_uploads(pool, writer, uploads, load_content, options, log)
        outcomes += uploaded
        log(f"uploaded and tagged {sum(o.ok for o in uploaded)} of {len(uploads)} documents")
        timed_out = _wait_for_batches(pool, writer, batches)
    return ApplyReport(tuple(outcomes), tuple(sorted(timed_out)), tuple(immovable))


def document_form(dataset: Dataset, first_upload_options: Mapping[str, Any] | None) -> str | None:
    """The form every create and update must name: from 1.9.0 Dify defaults a missing `doc_form` to
    `text_model` and refuses one that differs from the dataset's ("doc_form is different from the dataset
    doc_form."), so a parent-child or Q&A dataset needs its own form sent. A dataset without a form yet takes the
    one its first rule implies (`hierarchical` chunking is the parent-child form); None leaves Dify's default."""
    if dataset.doc_form:
        return dataset.doc_form
    rule = (first_upload_options or {}).get("process_rule") or {}
    return "hierarchical_model" if rule.get("mode") == "hierarchical" else None


def _upload_options(
    dataset: Dataset, first_upload_options: Mapping[str, Any] | None, first_time: bool
) -> _UploadOptions:
    form = {"doc_form": doc_form} if (doc_form := document_form(dataset, first_upload_options)) else {}
    create = {**(first_upload_options or {}), **form} if first_time else form
    return _UploadOptions(create=create or None, update=form or None)


def wait_until_settled(
    client: DifyDatasetClient, snapshot: DatasetSnapshot, timeout_s: float, poll_s: float
) -> DatasetSnapshot:
    """Re-read the dataset until no document is queued or indexing (e.g. left so by an interrupted run)."""
    deadline = time.monotonic() + timeout_s
    while any(d.in_progress for d in snapshot.documents) and time.monotonic() < deadline:
        time.sleep(poll_s)
        snapshot = read_dataset(client, snapshot.dataset_id)
    return snapshot


def _uploads(
    plan: SyncPlan, failed_deletes: set[str], stuck: Mapping[str, tuple[Restore, ItemOutcome]]
) -> tuple[list[_Upload], list[ItemOutcome]]:
    """The uploads to make. A source whose document is stuck (Dify would not restore it) gets a new document
    instead of its update; a repair whose old copy is stuck re-creates it as a new document too."""
    stuck_keys = {r.document.source_key or r.document.name for r, _ in stuck.values()}
    kept = {r.source.source_key: r.source for r, _ in stuck.values() if r.source is not None}
    uploads = [_Upload(s, None, "create") for s in plan.create]
    uploads += [_Upload(u.source, u.document_id, "update") for u in plan.update if u.document_id not in stuck]
    uploads += [_Upload(source, None, "create", fresh=True) for source in kept.values()]
    blocked: list[ItemOutcome] = []
    for repair in plan.repair:
        if not repair.recreate or repair.source.source_key in kept:
            continue
        if repair.source.source_key in failed_deletes:
            reason = "not re-created: deleting its broken copy failed (see the delete above)"
            blocked.append(ItemOutcome("repair", repair.source.source_key, False, reason))
        else:
            fresh = repair.source.source_key in stuck_keys or any(i in stuck for i in repair.delete_ids)
            uploads.append(_Upload(repair.source, None, "repair", fresh=fresh))
    return uploads, blocked


def _run_uploads(
    pool: ThreadPoolExecutor,
    writer: _Writer,
    uploads: list[_Upload],
    bodies: ContentLoader,
    options: ApplyOptions,
    log: Log,
) -> tuple[list[ItemOutcome], dict[str, str]]:
    """Keep `concurrency` calls in flight: uploads, and a metadata write whenever a batch of uploads is done."""
    outcomes: list[ItemOutcome] = []
    batches: dict[str, str] = {}
    pending: Iterator[_Upload] = iter(uploads)
    exhausted = False
    in_flight: dict[Future, str] = {}
    ready: list[tuple[_Upload, UploadResult]] = []
    progress_step = max(100, len(uploads) // 10)

    while True:
        while not exhausted and len(in_flight) < options.concurrency:
            item = next(pending, None)
            if item is None:
                exhausted = True
            else:
                in_flight[pool.submit(writer.upload, item, bodies)] = "upload"
        uploading = any(kind == "upload" for kind in in_flight.values())
        if ready and (len(ready) >= options.metadata_batch or (exhausted and not uploading)):
            in_flight[pool.submit(writer.tag, ready)] = "tag"
            ready = []
        if not in_flight:
            return outcomes, batches
        done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
        for future in done:
            if in_flight.pop(future) == "tag":
                outcomes.extend(future.result())
                continue
            item, result, error = future.result()
            if result is None:
                outcomes.append(ItemOutcome(item.action, item.source.source_key, False, error))
            else:
                ready.append((item, result))
                batches[result.batch] = item.source.source_key
                if len(batches) % progress_step == 0:
                    log(f"uploaded {len(batches)} of {len(uploads)} documents")


def _wait_for_batches(pool: ThreadPoolExecutor, writer: _Writer, batches: dict[str, str]) -> set[str]:
    """Poll every unfinished batch (in parallel) until all finished; the source keys still indexing at the
    deadline are returned."""
    pending = dict(batches)
    while pending:
        names = list(pending)
        for batch, finished in zip(names, pool.map(writer.batch_finished, names), strict=True):
            if finished:
                pending.pop(batch)
        if not pending or time.monotonic() >= writer.deadline:
            break
        time.sleep(writer.poll_s)
    return set(pending.values())


class _Writer:
    """The calls for one item each; every method returns an outcome instead of raising for that item."""

    def __init__(
        self,
        client: DifyDatasetClient,
        dataset_id: str,
        fields: dict[str, MetadataField],
        upload_options: _UploadOptions,
        deadline: float,
        poll_s: float,
        attempts: int,
        backoff_s: float,
    ):
        self.attempts = max(1, attempts)
        self.backoff_s = backoff_s
        self.client = client
        self.dataset_id = dataset_id
        self.fields = fields
        self.upload_options = upload_options
        self.deadline = deadline
        self.poll_s = poll_s

    def restore(self, item: Restore) -> ItemOutcome:
        """Each status action of `item` in turn; one Dify is still (re-)indexing is asked again until the deadline
        (after `un_archive` or `enable` Dify holds the document for its index task, up to 600 s)."""
        document = item.document
        key = document.source_key or document.name
        for action in item.actions:
            while True:
                try:
                    self.client.set_document_status(self.dataset_id, action, [document.id])
                    break
                except DifyError as exc:
                    if exc.status == 400 and "indexed" in exc.message and time.monotonic() < self.deadline:
                        time.sleep(self.poll_s)
                        continue
                    reason = f"{document.state}; Dify refused to {action} it: {exc}; left in place, unserved"
                    return ItemOutcome("restore", key, False, reason)
        return ItemOutcome("restore", key, True, f"{document.id} ({', '.join(item.actions)})")

    def delete(self, item: _Delete) -> ItemOutcome:
        while True:
            try:
                self.client.delete_document(self.dataset_id, item.document_id)
                return ItemOutcome(item.action, item.source_key, True, item.document_id)
            except DifyError as exc:
                if exc.status == 404:
                    return ItemOutcome(item.action, item.source_key, True, f"{item.document_id} (already gone)")
                if exc.code == "document_indexing" and time.monotonic() < self.deadline:
                    time.sleep(self.poll_s)  # a document still indexing cannot be deleted yet
                    continue
                return ItemOutcome(item.action, item.source_key, False, f"delete {item.document_id}: {exc}")

    def upload(self, item: _Upload, load_content: ContentLoader) -> tuple[_Upload, UploadResult | None, str]:
        try:
            content = load_content(item.source)
        except Exception as exc:  # the object vanished since the listing, or S3 failed: this item only
            return item, None, f"reading the source failed: {type(exc).__name__}: {exc}"
        name = item.source.document_name
        attempt = 1
        while True:
            try:
                if item.document_id is None:
                    result = self.client.create_document_by_file(
                        self.dataset_id,
                        name,
                        content,
                        options=self.upload_options.create,
                        duplicate=False if item.fresh else None,
                    )
                else:
                    result = self._update_when_available(item.document_id, name, content)
                return item, result, ""
            except DifyError as exc:
                if not exc.retryable or attempt >= self.attempts:
                    tries = f" (after {attempt} attempts)" if attempt > 1 else ""
                    return item, None, f"{upload_refusal(name, exc)}{tries}"
            time.sleep(self.backoff_s * 2 ** (attempt - 1))
            attempt += 1

    def _update_when_available(self, document_id: str, name: str, content: bytes) -> UploadResult:
        """Dify updates only `available` documents; one still indexing (an earlier run's upload) is waited for."""
        while True:
            try:
                return self.client.update_document_by_file(
                    self.dataset_id, document_id, name, content, options=self.upload_options.update
                )
            except DifyError as exc:
                if "not available" in exc.message and time.monotonic() < self.deadline:
                    time.sleep(self.poll_s)
                    continue
                raise

    def tag(self, done: list[tuple[_Upload, UploadResult]]) -> list[ItemOutcome]:
        """Write each document's whole metadata set; on a failed batch, retry one by one to find the culprit."""
        items = [(result.document.id, _metadata(item.source)) for item, result in done]
        try:
            self.client.set_document_metadata(self.dataset_id, items, self.fields)
        except DifyError as exc:
            if len(done) == 1:
                item, result = done[0]
                reason = f"uploaded as {result.document.id} but its metadata was not written: {exc}"
                return [ItemOutcome(item.action, item.source.source_key, False, reason)]
            return [outcome for one in done for outcome in self.tag([one])]
        return [ItemOutcome(item.action, item.source.source_key, True, result.document.id) for item, result in done]

    def batch_finished(self, batch: str) -> bool:
        try:
            return all(s.finished for s in self.client.indexing_status(self.dataset_id, batch))
        except DifyError as exc:
            # 404: a later upload of the same name superseded the batch; anything else is asked again next round
            # (the dataset is re-read and verified afterwards either way).
            return exc.status == 404


def upload_refusal(name: str, exc: DifyError) -> str:
    """An upload Dify refused, naming the file, its extension and Dify's code. A stock Dify refuses a file type
    its ETL does not read with 400 `invalid_param` and an empty message (seen on 1.7.2-1.13.2), and an over-size
    file the same way, so the text says what such an answer means."""
    extension = PurePosixPath(name).suffix.lower() or "(no extension)"
    text = f"Dify refused {name} (extension {extension}; HTTP {exc.status}, {exc.code}): {exc.message}"
    text += f" ({exc.endpoint} failed)"  # the call, as every other failure of the sync names it
    if exc.status == 400 and exc.code == "invalid_param" and exc.message == NO_MESSAGE:
        text += (
            f" - on a stock Dify this means its ETL does not take {extension} files (narrow sync.accepted_extensions,"
            " or run Dify with ETL_TYPE=Unstructured) or the file is over its upload size limit"
        )
    elif exc.status == 415 or exc.code == "unsupported_file_type":
        text += f" - narrow sync.accepted_extensions to what this Dify's ETL takes (not {extension})"
    return text


def _metadata(source: SourceItem) -> dict[str, str]:
    return {SOURCE_KEY_FIELD: source.source_key, FINGERPRINT_FIELD: source.fingerprint}
