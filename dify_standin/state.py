"""The stand-in's in-memory Dify knowledge base: datasets, documents, metadata fields, the app-key registry.

One `Store.lock` guards everything here. Each dataset keeps its documents in a list sorted by `(created_at,
position)`, so a page of the document list (ordered `created_at DESC, position DESC`) is a slice and never a
sort, plus a name index (upsert by name) and a batch index (indexing status). Indexing is computed lazily from
the time a batch started: no background threads. Other modules' state (workflow apps, runs, logs) registers a
reset hook so that one admin reset forgets everything.
"""

from __future__ import annotations

import bisect
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

STAGES = ("waiting", "parsing", "cleaning", "splitting", "indexing")
BUSY_STATUSES = frozenset(STAGES[1:])
STAGE_TIMESTAMPS = {"waiting": 0, "parsing": 1, "cleaning": 2, "splitting": 2, "indexing": 4}  # see stage_times
DEFAULT_UPLOAD_LIMIT = 15 * 1024 * 1024  # UPLOAD_FILE_SIZE_LIMIT, 15 MB
DEFAULT_BODY_LIMIT = 100 * 1024 * 1024  # NGINX_CLIENT_MAX_BODY_SIZE in Dify's docker setup
OWNER_ID = "5e7a0000-0000-4000-8000-00000000000a"
OWNER_NAME = "Stand-in Owner"


def new_id() -> str:
    return str(uuid.uuid4())


def new_batch(now: float) -> str:
    """Dify's batch: `yyyyMMddHHmmss` plus six random digits."""
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(now)) + f"{uuid.uuid4().int % 1_000_000:06d}"


@dataclass
class MetadataField:
    id: str
    name: str
    type: str  # string | number | time


@dataclass
class Document:
    id: str
    dataset_id: str
    name: str
    position: int
    created_at: float
    content: bytes
    batch: str
    indexing_started: float
    indexing_seconds: float
    fails_with: str | None = None
    forced_status: str | None = None  # a seeded document pinned to a status (or "paused")
    enabled: bool = True
    archived: bool = False
    doc_form: str = "text_model"
    doc_language: str = "English"
    created_from_text: bool = False
    created_from: str = "api"  # api | web (Dify's `created_from`)
    metadata: dict[str, Any] = field(default_factory=dict)  # Dify's `doc_metadata` column: name -> value
    bindings: list[str] = field(default_factory=list)  # metadata field ids bound to this document
    upload_file_id: str = field(default_factory=new_id)
    updated_at: float = 0.0
    word_count: int = 0
    # After `enable` / `un_archive` Dify sets the Redis key `document_<id>_indexing` and refuses every status
    # action on the document until `add_document_to_index_task` deletes it (status_busy_until, see
    # documents_api.document_status).
    status_busy_until: float = 0.0

    def __post_init__(self) -> None:
        self.updated_at = self.updated_at or self.created_at
        self.word_count = len(self.content.split())

    def replace_content(self, content: bytes, batch: str, now: float, seconds: float, fails_with: str | None) -> None:
        """A re-upload: new file, new batch, indexing from `waiting` again (Dify re-indexes fully)."""
        self.content = content
        self.word_count = len(content.split())
        self.batch = batch
        self.indexing_started = now
        self.indexing_seconds = seconds
        self.fails_with = fails_with
        self.forced_status = None
        self.upload_file_id = new_id()
        self.updated_at = now

    @property
    def paused(self) -> bool:
        return self.forced_status == "paused"

    def indexing_status(self, now: float) -> str:
        if self.forced_status == "paused":
            return "parsing"
        if self.forced_status:
            return self.forced_status
        elapsed = now - self.indexing_started
        if self.indexing_seconds <= 0 or elapsed >= self.indexing_seconds:
            return "error" if self.fails_with else "completed"
        return STAGES[min(int(elapsed / self.indexing_seconds * len(STAGES)), len(STAGES) - 1)]

    def display_status(self, now: float) -> str:
        status = self.indexing_status(now)
        if self.paused:
            return "paused"
        if status == "waiting":
            return "queuing"
        if status in BUSY_STATUSES:
            return "indexing"
        if status == "error":
            return "error"
        if self.archived:
            return "archived"
        return "available" if self.enabled else "disabled"

    def stage_times(self, now: float) -> dict[str, float | None]:
        """The stage timestamps Dify has set by the current status. Recorded: at `parsing` only
        `processing_started_at`, at `splitting` also `parsing_completed_at` (`cleaning_completed_at` and
        `splitting_completed_at` are written together when splitting ends), at `indexing` all four."""
        names = ("processing_started_at", "parsing_completed_at", "cleaning_completed_at", "splitting_completed_at")
        status = self.indexing_status(now)
        reached = STAGE_TIMESTAMPS.get(status, len(names))
        step = max(self.indexing_seconds, 0.0) / len(STAGES)
        times: dict[str, float | None] = {}
        for index, name in enumerate(names, start=1):
            at = min(self.indexing_started + index * step, now)
            times[name] = at if index <= reached else None
        end = self.indexing_started + max(self.indexing_seconds, 0.0)
        times["completed_at"] = end if status == "completed" else None
        times["stopped_at"] = end if status == "error" else None
        return times


@dataclass
class Dataset:
    id: str
    name: str
    description: str = ""
    indexing_technique: str | None = None
    permission: str = "only_me"
    created_at: float = field(default_factory=time.time)
    updated_at: float = 0.0
    process_rule: dict | None = None
    process_rule_id: str = field(default_factory=new_id)
    chunk_structure: str | None = None  # a knowledge-pipeline dataset's form (>= 1.9.0), the default doc_form
    form: str | None = None  # the form of a dataset made in the UI (parent-child, Q&A): fixed, but no default
    embedding_model: str | None = None
    embedding_model_provider: str | None = None
    retrieval_model: dict | None = None
    enable_api: bool = True
    app_count: int = 0  # > 0: used by an app, so DELETE answers 409 dataset_in_use
    built_in_field_enabled: bool = False
    data_source_type: str | None = None  # set by the first document, kept when the documents are deleted
    metadata_fields: dict[str, MetadataField] = field(default_factory=dict)  # creation order
    documents: dict[str, Document] = field(default_factory=dict)
    next_position: int = 1
    _order: list[tuple[float, int, str]] = field(default_factory=list, repr=False)
    _by_name: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _by_batch: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.updated_at = self.updated_at or self.created_at

    @property
    def doc_form(self) -> str | None:
        """Dify derives it (`Dataset.doc_form`): the chunk structure if set, else the first document's form (the
        stand-in's `form` stands for the first document of a dataset made in the UI), else None."""
        if self.chunk_structure or self.form:
            return self.chunk_structure or self.form
        return self.documents[self._order[0][2]].doc_form if self._order else None

    # -- documents and their indexes

    def add(self, document: Document) -> None:
        self.documents[document.id] = document
        self.data_source_type = self.data_source_type or "upload_file"
        bisect.insort(self._order, (document.created_at, document.position, document.id))
        self._by_name.setdefault(document.name, []).append(document.id)
        self._by_batch.setdefault(document.batch, []).append(document.id)
        self.next_position = max(self.next_position, document.position + 1)

    def remove(self, document: Document) -> None:
        del self.documents[document.id]
        key = (document.created_at, document.position, document.id)
        index = bisect.bisect_left(self._order, key)
        if index < len(self._order) and self._order[index] == key:
            del self._order[index]
        _unindex(self._by_name, document.name, document.id)
        _unindex(self._by_batch, document.batch, document.id)

    def rename(self, document: Document, name: str) -> None:
        _unindex(self._by_name, document.name, document.id)
        document.name = name
        self._by_name.setdefault(name, []).append(document.id)

    def rebatch(self, document: Document, batch: str) -> None:
        _unindex(self._by_batch, document.batch, document.id)
        document.batch = batch
        self._by_batch.setdefault(batch, []).append(document.id)

    def named(self, name: str) -> list[Document]:
        return [self.documents[i] for i in self._by_name.get(name, ())]

    def in_batch(self, batch: str) -> list[Document]:
        return [self.documents[i] for i in self._by_batch.get(batch, ())]

    def oldest_first(self) -> Iterator[Document]:
        for _, _, document_id in self._order:
            yield self.documents[document_id]

    def newest_first(self) -> Iterator[Document]:
        for _, _, document_id in reversed(self._order):
            yield self.documents[document_id]

    def page(self, offset: int, limit: int) -> list[Document]:
        """Rows `offset .. offset+limit` of the list ordered `created_at DESC, position DESC`: one slice."""
        end = len(self._order) - offset
        if end <= 0:
            return []
        chunk = self._order[max(end - limit, 0) : end]
        return [self.documents[key[2]] for key in reversed(chunk)]

    def field_named(self, name: str) -> MetadataField | None:
        return next((f for f in self.metadata_fields.values() if f.name == name), None)


def _unindex(index: dict[str, list[str]], key: str, document_id: str) -> None:
    ids = index.get(key)
    if ids and document_id in ids:
        ids.remove(document_id)
        if not ids:
            del index[key]


class Store:
    """Everything the knowledge side knows, plus the app-key registry; `lock` guards every read and write."""

    def __init__(self, indexing_seconds: float = 0.0, body_limit: int = DEFAULT_BODY_LIMIT) -> None:
        self.lock = threading.RLock()
        self.default_indexing_seconds = indexing_seconds
        self.default_body_limit = body_limit
        self._reset_hooks: list[Callable[[], None]] = []
        self.reset()

    def on_reset(self, hook: Callable[[], None]) -> None:
        """Run `hook` on every reset (workflow apps, runs, logs and faults keep their own state)."""
        self._reset_hooks.append(hook)

    def reset(self) -> None:
        with self.lock:
            self.datasets: dict[str, Dataset] = {}
            self.app_keys: dict[str, str] = {}  # app key -> app id (the apps live in workflow_store)
            self.upload_limit = DEFAULT_UPLOAD_LIMIT
            self.body_limit = self.default_body_limit
            self.indexing_seconds = self.default_indexing_seconds
            self.error_names: str | None = None
            self.metadata_hold_seconds = 0.0
            self.metadata_locks: set[str] = set()  # document ids with a metadata write in progress
        for hook in self._reset_hooks:
            hook()
