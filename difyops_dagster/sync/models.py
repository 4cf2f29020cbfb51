"""The sync's data: what the source offers, what a dataset holds, the plan between them, what applying did."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SOURCE_KEY_FIELD = "source_key"
FINGERPRINT_FIELD = "fingerprint"
METADATA_FIELDS = {SOURCE_KEY_FIELD: "string", FINGERPRINT_FIELD: "string"}


@dataclass(frozen=True, slots=True)
class SourceItem:
    """One document the dataset should hold: where it comes from, its content fingerprint, its Dify name."""

    source_key: str
    fingerprint: str
    document_name: str
    size: int


@dataclass(frozen=True, slots=True)
class RejectedObject:
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

    @classmethod
    def from_document(cls, document: Any) -> DatasetDocument:
        metadata = document.metadata or {}
        return cls(
            id=document.id,
            name=document.name,
            indexing_status=document.indexing_status,
            available=document.is_available,
            source_key=metadata.get(SOURCE_KEY_FIELD) or None,
            fingerprint=metadata.get(FINGERPRINT_FIELD) or None,
            error=document.error,
        )


@dataclass(frozen=True, slots=True)
class Repair:
    """Documents to delete for one source; `recreate` uploads the source afresh afterwards."""

    source: SourceItem | None
    delete_ids: tuple[str, ...]
    recreate: bool
    reason: str


@dataclass(frozen=True)
class SyncPlan:
    create: tuple[SourceItem, ...] = ()
    update: tuple[tuple[SourceItem, str], ...] = ()  # (source, document id)
    delete: tuple[DatasetDocument, ...] = ()
    unchanged: tuple[SourceItem, ...] = ()
    repair: tuple[Repair, ...] = ()
    dataset_size: int = 0

    @property
    def deleted_count(self) -> int:
        return len(self.delete) + sum(len(r.delete_ids) for r in self.repair)

    @property
    def write_count(self) -> int:
        return len(self.create) + len(self.update) + self.deleted_count + sum(r.recreate for r in self.repair)

    def counts(self) -> dict[str, int]:
        return {
            "create": len(self.create),
            "update": len(self.update),
            "delete": len(self.delete),
            "unchanged": len(self.unchanged),
            "repair": len(self.repair),
        }


@dataclass(frozen=True)
class ItemOutcome:
    action: str
    source_key: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class ApplyReport:
    outcomes: tuple[ItemOutcome, ...] = field(default_factory=tuple)
    indexing_timed_out: tuple[str, ...] = ()

    @property
    def failures(self) -> tuple[ItemOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.ok)
