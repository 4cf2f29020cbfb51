"""The sync plan: a pure function from what the sources offer to what one dataset holds.

The truth lives in Dify and in the source, never in a local file: each document the sync wrote carries its
`source_key` and `fingerprint` in Dify metadata, so the plan re-derives everything each run and a run killed
anywhere leaves a state the next plan repairs:
- no document for a source: create;
- one healthy document with another fingerprint: update it (same id, Dify re-indexes it);
- an upload killed before its metadata was written leaves an untagged document with the source's name: delete
  it and create the source again (its content version is unknown);
- several documents for one key (a crash between delete and create, a manual upload, Dify 0.x duplicates):
  keep one healthy copy with the current fingerprint, delete the others (or all, and create afresh);
- a document whose indexing failed, or without a fingerprint, or disabled/archived with changed content: Dify
  updates only `available` documents, so it is deleted and created again.
With `mirror` (the S3 sync), documents that match no source are deleted: the dataset mirrors the bucket. Without
it (a feed that owns only some documents of a dataset), documents of other keys are left alone.
`push_all` (seed 000's "always push all files", off by default) turns `unchanged` into `update`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from difyops_dagster.sync.models import DatasetDocument, Delete, Repair, SourceItem, SyncPlan, Update


def build_sync_plan(
    sources: Iterable[SourceItem],
    documents: Iterable[DatasetDocument],
    *,
    push_all: bool = False,
    mirror: bool = True,
) -> SyncPlan:
    """Raises ValueError when two sources share a key or a document name (Dify would merge them by name)."""
    sources = tuple(sources)
    documents = tuple(documents)
    by_key, by_name = _index_sources(sources)
    copies: dict[str, list[DatasetDocument]] = defaultdict(list)
    strays: dict[str, list[DatasetDocument]] = defaultdict(list)
    delete: list[Delete] = []
    for document in documents:
        if document.source_key is not None:
            if document.source_key in by_key:
                copies[document.source_key].append(document)
            elif mirror:
                delete.append(Delete(document, "its source is gone"))
        elif document.name in by_name:
            strays[by_name[document.name].source_key].append(document)
        elif mirror:
            delete.append(Delete(document, "no sync metadata and no source of that name"))

    create: list[SourceItem] = []
    update: list[Update] = []
    unchanged: list[SourceItem] = []
    repair: list[Repair] = []
    for source in sources:
        found = copies.get(source.source_key, [])
        loose = strays.get(source.source_key, [])
        if not found and not loose:
            create.append(source)
            continue
        if len(found) == 1 and not loose:
            document = found[0]
            problem = _problem(document)
            if problem is None and document.fingerprint == source.fingerprint and not push_all:
                unchanged.append(source)
            elif problem is None and (document.available or document.in_progress):
                reason = "content changed" if document.fingerprint != source.fingerprint else "push_all"
                update.append(Update(source, document.id, reason))
            else:
                reason = problem or f"content changed but the document is {document.state} (not updatable)"
                repair.append(Repair(source, (document.id,), recreate=True, reason=reason))
            continue
        keep = _keeper(found, source)
        extra = tuple(d.id for d in (*found, *loose) if keep is None or d.id != keep.id)
        repair.append(Repair(source, extra, recreate=keep is None, reason=_crowd_reason(found, loose)))
        if keep is not None:
            if push_all:
                update.append(Update(source, keep.id, "push_all"))
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


def deletion_ratio(plan: SyncPlan) -> float:
    """Share of the dataset the plan removes for good (repairs put their source back, so they do not count)."""
    if plan.dataset_size == 0:
        return 0.0
    return len(plan.delete) / plan.dataset_size


def _index_sources(sources: tuple[SourceItem, ...]) -> tuple[dict[str, SourceItem], dict[str, SourceItem]]:
    by_key: dict[str, SourceItem] = {}
    by_name: dict[str, SourceItem] = {}
    for source in sources:
        if source.source_key in by_key:
            raise ValueError(f"two sources share the key {source.source_key!r}")
        other = by_name.get(source.document_name)
        if other is not None:
            raise ValueError(
                f"sources {other.source_key!r} and {source.source_key!r} map to one document name "
                f"{source.document_name!r}; Dify would merge them"
            )
        by_key[source.source_key] = source
        by_name[source.document_name] = source
    return by_key, by_name


def _problem(document: DatasetDocument) -> str | None:
    """Why a document cannot stand for its source as it is, or None."""
    if document.indexing_status == "error":
        return f"indexing failed: {document.error or 'error'}"
    if document.fingerprint is None:
        return "no fingerprint in its metadata"
    return None


def _keeper(found: list[DatasetDocument], source: SourceItem) -> DatasetDocument | None:
    """Among several documents for one key, the one to keep: healthy, current, available first."""
    current = [d for d in found if _problem(d) is None and d.fingerprint == source.fingerprint]
    current.sort(key=lambda d: (not d.available, not d.in_progress))
    return current[0] if current and (current[0].available or current[0].in_progress) else None


def _crowd_reason(found: list[DatasetDocument], loose: list[DatasetDocument]) -> str:
    if loose and not found:
        return "document without sync metadata (an upload interrupted before tagging)"
    if loose:
        return f"{len(found)} tagged and {len(loose)} untagged documents for one key"
    return f"{len(found)} documents for one key"
