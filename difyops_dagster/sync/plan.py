"""The sync plan: a pure function from what the source offers to what one dataset holds.

Dify and the source are the only truth: the dataset's documents carry `source_key` and `fingerprint`
metadata, so nothing local can drift, and a run killed anywhere leaves a state that the next plan repairs:
- a document uploaded but never given metadata is matched by name and recreated (repair);
- several documents for one key (a crash between delete and create, a manual upload, Dify 0.x duplicates)
  keep one healthy copy or are recreated (repair);
- a document whose indexing failed cannot be updated (Dify only updates `available` documents), so it is
  deleted and created again (repair);
- a document updated but not re-tagged still carries the old fingerprint, so it is updated again.
Documents whose key left the source are deleted; those that match no source at all are deleted too (the
dataset mirrors the bucket). `push_all` turns `unchanged` into `update`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from difyops_dagster.sync.models import DatasetDocument, Repair, SourceItem, SyncPlan


def build_sync_plan(
    sources: Iterable[SourceItem], documents: Iterable[DatasetDocument], *, push_all: bool = False
) -> SyncPlan:
    sources = list(sources)
    documents = list(documents)
    by_name = {s.document_name: s for s in sources}
    by_key_source = {s.source_key: s for s in sources}
    tagged: dict[str, list[DatasetDocument]] = defaultdict(list)
    untagged: dict[str, list[DatasetDocument]] = defaultdict(list)
    delete: list[DatasetDocument] = []
    for document in documents:
        if document.source_key and document.fingerprint and document.source_key in by_key_source:
            tagged[document.source_key].append(document)
        elif document.source_key and document.source_key not in by_key_source:
            delete.append(document)
        elif document.name in by_name:
            untagged[by_name[document.name].source_key].append(document)
        else:
            delete.append(document)

    create: list[SourceItem] = []
    update: list[tuple[SourceItem, str]] = []
    unchanged: list[SourceItem] = []
    repair: list[Repair] = []
    for source in sources:
        copies = tagged.get(source.source_key, [])
        strays = untagged.get(source.source_key, [])
        healthy = [d for d in copies if d.indexing_status != "error"]
        if strays or len(copies) > 1 or (copies and not healthy):
            keep = next((d for d in healthy if d.fingerprint == source.fingerprint and d.available), None)
            extra = tuple(d.id for d in copies + strays if keep is None or d.id != keep.id)
            reason = _repair_reason(copies, strays)
            repair.append(Repair(source, extra, recreate=keep is None, reason=reason))
            if keep is not None:
                (update.append((source, keep.id)) if push_all else unchanged.append(source))
        elif not copies:
            create.append(source)
        elif copies[0].fingerprint != source.fingerprint or push_all:
            update.append((source, copies[0].id))
        else:
            unchanged.append(source)
    return SyncPlan(
        create=tuple(create),
        update=tuple(update),
        delete=tuple(delete),
        unchanged=tuple(unchanged),
        repair=tuple(repair),
        dataset_size=len(documents),
    )


def _repair_reason(copies: list[DatasetDocument], strays: list[DatasetDocument]) -> str:
    if strays:
        return "document without sync metadata (an interrupted upload)"
    if len(copies) > 1:
        return f"{len(copies)} documents for one key"
    return f"indexing failed: {copies[0].error or 'error'}"


def deletion_ratio(plan: SyncPlan) -> float:
    """Share of the current dataset the plan deletes (repairs that recreate do not lose content)."""
    if plan.dataset_size == 0:
        return 0.0
    lost = len(plan.delete)
    return lost / plan.dataset_size
