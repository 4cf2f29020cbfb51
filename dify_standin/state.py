"""The stand-in's in-memory Dify: datasets, documents, metadata and the app-key registry, behind one lock.

Documents keep their creation order in a list so that a page of the list (ordered `created_at DESC,
position DESC`) is a slice, not a sort. Indexing is computed lazily from the time a batch started, so no
background threads run. Workflow apps, runs and logs live in `workflow_store.WorkflowStore`.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

INDEXING_STAGES = ("waiting", "parsing", "cleaning", "splitting", "indexing")


def new_id() -> str:
    return str(uuid.uuid4())


def new_batch(now: float) -> str:
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(now)) + f"{uuid.uuid4().int % 1_000_000:06d}"


@dataclass
class Document:
    id: str
    dataset_id: str
    name: str
    position: int
    created_at: float
    content: bytes
    data_source_type: str  # upload_file | text
    batch: str
    indexing_started: float
    indexing_seconds: float
    fails_with: str | None = None
    forced_status: str | None = None  # seeded documents may be pinned to a status
    enabled: bool = True
    archived: bool = False
    doc_form: str = "text_model"
    metadata: dict[str, Any] = field(default_factory=dict)
    upload_file_id: str = field(default_factory=new_id)

    def indexing_status(self, now: float) -> str:
        if self.forced_status:
            return self.forced_status
        elapsed = now - self.indexing_started
        if self.indexing_seconds <= 0 or elapsed >= self.indexing_seconds:
            return "error" if self.fails_with else "completed"
        return INDEXING_STAGES[min(int(elapsed / self.indexing_seconds * len(INDEXING_STAGES)), 4)]

    def display_status(self, now: float) -> str:
        status = self.indexing_status(now)
        if status == "waiting":
            return "queuing"
        if status == "error":
            return "error"
        if status != "completed":
            return "indexing"
        if self.archived:
            return "archived"
        return "available" if self.enabled else "disabled"

    def completed_at(self) -> float:
        return self.indexing_started + max(self.indexing_seconds, 0)


@dataclass
class Dataset:
    id: str
    name: str
    description: str = ""
    indexing_technique: str | None = None
    permission: str = "only_me"
    created_at: float = field(default_factory=time.time)
    process_rule: dict | None = None
    doc_form: str | None = None
    metadata_fields: dict[str, dict] = field(default_factory=dict)  # id -> {id, name, type}
    built_in_field_enabled: bool = False
    documents: dict[str, Document] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # creation order
    next_position: int = 1


class Store:
    """Everything the stand-in knows; `lock` guards every read and write."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.datasets: dict[str, Dataset] = {}
            self.app_keys: dict[str, str] = {}  # app key -> app id (the apps live in workflow_store)
            self.upload_limit = 15 * 1024 * 1024
            self.error_names: str | None = None
