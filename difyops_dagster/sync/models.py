"""The sync engine's data: what a source offers, what a dataset holds, the plan between them, what applying did.

These types are the engine's public interface (docs/architecture.md, "Sync engine"): the S3 sync and the video
feature both describe their documents as `SourceItem`s and read a dataset as `DatasetDocument`s. Frozen
dataclasses, no I/O; `handoff.py` turns them into JSON between Dagster steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The two metadata fields the sync keeps on every document it owns. Dify replaces all of a document's values on
# each write before `partial_update` (about 1.9), so both are always written together.
SOURCE_KEY_FIELD = "source_key"
FINGERPRINT_FIELD = "fingerprint"
METADATA_FIELDS = {SOURCE_KEY_FIELD: "string", FINGERPRINT_FIELD: "string"}

IN_PROGRESS_STATUSES = frozenset({"waiting", "parsing", "cleaning", "splitting", "indexing"})


@dataclass(frozen=True, slots=True)
class SourceItem:
    """One document a dataset should hold.

    `source_key` identifies it for good (the full S3 key, or a video id): it is written to Dify metadata and is
    how the next run finds the document again. `fingerprint` changes exactly when the content changes.
    `document_name` is the Dify file name (no `/`, at most 200 characters, an extension Dify accepts), unique
    among the sources of one plan.
    """

    source_key: str
    fingerprint: str
    document_name: str
    size: int


@dataclass(frozen=True, slots=True)
class RejectedObject:
    """An object the sync will not upload, and why (listed, never silently dropped)."""

    key: str
    size: int
    reason: str


@dataclass(frozen=True)
class SourceListing:
    accepted: tuple[SourceItem, ...]
    rejected: tuple[RejectedObject, ...] = ()


@dataclass(frozen=True, slots=True)
class DatasetDocument:
    """A document as the sync sees it: Dify's id, name and state, and the sync metadata it carries."""

    id: str
    name: str
    indexing_status: str
    available: bool
    source_key: str | None
    fingerprint: str | None
    error: str | None = None
    enabled: bool = True
    archived: bool = False

    @property
    def in_progress(self) -> bool:
        """Queued or being indexed: Dify refuses updates until it ends."""
        return self.indexing_status in IN_PROGRESS_STATUSES

    @property
    def served(self) -> bool:
        """Does retrieval see it? Dify never retrieves a disabled or an archived document."""
        return self.enabled and not self.archived

    @property
    def state(self) -> str:
        if self.indexing_status == "error":
            return "error"
        if self.in_progress:
            return "indexing"
        if self.available:
            return "available"
        if self.archived:
            return "archived"
        if not self.enabled:
            return "disabled"
        return "paused" if self.indexing_status == "paused" else "not available"

    @classmethod
    def from_document(cls, document: Any) -> DatasetDocument:
        """From the client's `Document` (its `metadata` is `doc_metadata` keyed by field name)."""
        metadata = document.metadata or {}
        return cls(
            id=document.id,
            name=document.name,
            indexing_status=document.indexing_status,
            available=document.is_available,
            source_key=_text(metadata.get(SOURCE_KEY_FIELD)),
            fingerprint=_text(metadata.get(FINGERPRINT_FIELD)),
            error=document.error,
            enabled=document.enabled,
            archived=document.archived,
        )


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


@dataclass(frozen=True)
class DatasetSnapshot:
    """Every document of one dataset at one moment (read through every page)."""

    dataset_id: str
    documents: tuple[DatasetDocument, ...]


@dataclass(frozen=True, slots=True)
class Update:
    source: SourceItem
    document_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Delete:
    document: DatasetDocument
    reason: str


@dataclass(frozen=True, slots=True)
class Restore:
    """A disabled or archived document to bring back through Dify's status routes before anything else.

    `source` is what it stands for when it is kept (unchanged or updated afterwards), None when it is only
    un-archived so that it can be deleted (Dify refuses to delete an archived document).
    """

    document: DatasetDocument
    source: SourceItem | None
    reason: str

    @property
    def actions(self) -> tuple[str, ...]:
        """Dify's status actions, in order (`un_archive` first: an archived document may be disabled too)."""
        wanted = []
        if self.document.archived:
            wanted.append("un_archive")
        if not self.document.enabled and self.source is not None:
            wanted.append("enable")
        return tuple(wanted)


@dataclass(frozen=True, slots=True)
class Repair:
    """Documents to delete for one source; `recreate` uploads the source afresh once they are gone."""

    source: SourceItem
    delete_ids: tuple[str, ...]
    recreate: bool
    reason: str


@dataclass(frozen=True)
class SyncPlan:
    """The writes that make one dataset mirror the sources. `dataset_size` is the dataset before them."""

    create: tuple[SourceItem, ...] = ()
    update: tuple[Update, ...] = ()
    delete: tuple[Delete, ...] = ()
    unchanged: tuple[SourceItem, ...] = ()
    repair: tuple[Repair, ...] = ()
    restore: tuple[Restore, ...] = ()
    dataset_size: int = 0
    rejected: tuple[RejectedObject, ...] = ()  # sources set aside (a key or name another source has)

    @property
    def upload_count(self) -> int:
        return len(self.create) + len(self.update) + sum(r.recreate for r in self.repair)

    @property
    def delete_count(self) -> int:
        return len(self.delete) + sum(len(r.delete_ids) for r in self.repair)

    @property
    def write_count(self) -> int:
        return self.upload_count + self.delete_count + len(self.restore)

    def counts(self) -> dict[str, int]:
        return {
            "create": len(self.create),
            "update": len(self.update),
            "delete": len(self.delete),
            "unchanged": len(self.unchanged),
            "repair": len(self.repair),
            "restore": len(self.restore),
            "rejected": len(self.rejected),
        }


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """What happened to one planned write. `detail` is a document id on success, a readable error otherwise."""

    action: str
    source_key: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class ApplyReport:
    """`immovable`: documents Dify would neither restore nor delete. They stay in the dataset unserved (Dify never
    retrieves a disabled or archived document) and are reported without failing the sync: their source, if
    any, got a fresh copy instead, so one such document never holds back every later promotion."""

    outcomes: tuple[ItemOutcome, ...] = ()
    indexing_timed_out: tuple[str, ...] = ()
    immovable: tuple[ItemOutcome, ...] = ()

    @property
    def failures(self) -> tuple[ItemOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.ok)

    @property
    def succeeded(self) -> int:
        return sum(o.ok for o in self.outcomes)
