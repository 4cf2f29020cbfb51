"""The stand-in's in-memory Dify: datasets, documents, metadata, apps, runs and logs, behind one lock.

Documents keep their creation order in a list so that a page of the list (ordered `created_at DESC,
position DESC`) is a slice, not a sort; workflow logs are kept sorted by `created_at` so that a time window
is two bisections. Indexing is computed lazily from the time a batch started, so no background threads run.
"""

from __future__ import annotations

import bisect
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


@dataclass
class App:
    id: str
    name: str
    api_key: str
    workflow: dict
    user_input_form: list
    max_active: int = 0
    active: int = 0
    description: str = ""


@dataclass
class Run:
    id: str
    task_id: str
    app_id: str
    workflow_id: str
    inputs: dict
    user: str
    status: str = "running"
    outputs: dict | None = None
    error: str | None = None
    elapsed_time: float = 0.0
    total_tokens: int = 0
    total_steps: int = 0
    created_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    version: str = "2026-01-01 00:00:00"
    created_from: str = "service-api"
    nodes: list[dict] = field(default_factory=list)
    stop_requested: bool = False


class Store:
    """Everything the stand-in knows; `lock` guards every read and write."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.datasets: dict[str, Dataset] = {}
            self.apps: dict[str, App] = {}
            self.app_keys: dict[str, str] = {}  # key -> app id
            self.runs: dict[str, Run] = {}
            self.tasks: dict[str, str] = {}  # task id -> run id
            # per app: parallel lists sorted by created_at
            self.log_times: dict[str, list[float]] = {}
            self.log_runs: dict[str, list[str]] = {}
            self.console_accounts: dict[str, str] = {}
            self.console_tokens: dict[str, str] = {}  # access token -> email
            self.upload_limit = 15 * 1024 * 1024
            self.error_names: str | None = None

    def add_log(self, run: Run) -> None:
        times = self.log_times.setdefault(run.app_id, [])
        runs = self.log_runs.setdefault(run.app_id, [])
        index = bisect.bisect_right(times, run.created_at)
        times.insert(index, run.created_at)
        runs.insert(index, run.id)
