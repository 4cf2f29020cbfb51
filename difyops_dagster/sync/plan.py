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
- a document whose indexing failed, or without a fingerprint, is deleted and created again;
- a disabled or archived document is kept and brought back (`restore`: Dify's `enable` / `un_archive` status
  routes) before it is updated (Dify updates only `available` documents) or left unchanged: Dify retrieves
  neither, so a promoted colour holding one would silently lack that file. An archived document that is to be
  deleted is un-archived first (Dify answers 403 `archived_document_immutable` to deleting it).
With `mirror` (the S3 sync), documents that match no source are deleted: the dataset mirrors the bucket. Without
it (a feed that owns only some documents of a dataset), documents of other keys are left alone.
`push_all` (seed 000's "always push all files", off by default) turns `unchanged` into `update`.
A source whose key or document name another source already has is set aside (`rejected`, with the reason) and
the rest is planned: Dify would merge two documents of one name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from difyops_dagster.sync.models import (
    DatasetDocument,
    Delete,
    RejectedObject,
    Repair,
    Restore,
    SourceItem,
    SyncPlan,
    Update,
)


def build_sync_plan(
    sources: Iterable[SourceItem],
    documents: Iterable[DatasetDocument],
    *,
    push_all: bool = False,
    mirror: bool = True,
) -> SyncPlan:
    sources = tuple(sources)
    documents = tuple(documents)
    by_key, by_name, rejected = _index_sources(sources)
    copies: dict[str, list[DatasetDocument]] = defaultdict(list)
    strays: dict[str, list[DatasetDocument]] = defaultdict(list)
    delete: list[Delete] = []
    restore: list[Restore] = []
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
    restore += [_unarchive_to_delete(d.document) for d in delete if d.document.archived]

    create: list[SourceItem] = []
    update: list[Update] = []
    unchanged: list[SourceItem] = []
    repair: list[Repair] = []
    for source in by_key.values():
        found = copies.get(source.source_key, [])
        loose = strays.get(source.source_key, [])
        if not found and not loose:
            create.append(source)
            continue
        if len(found) == 1 and not loose:
            document = found[0]
            problem = _problem(document)
            if problem is not None or not (document.available or document.in_progress or _restorable(document)):
                reason = problem or f"content changed but the document is {document.state} (not updatable)"
                if problem is None and document.fingerprint == source.fingerprint and not push_all:
                    unchanged.append(source)  # paused: Dify resumes it on its own, nothing to write
                    continue
                repair.append(Repair(source, (document.id,), recreate=True, reason=reason))
                if document.archived:
                    restore.append(_unarchive_to_delete(document))
                continue
            if not document.served:
                restore.append(Restore(document, source, f"{document.state}: Dify does not serve it"))
            if document.fingerprint == source.fingerprint and not push_all:
                unchanged.append(source)
            else:
                reason = "content changed" if document.fingerprint != source.fingerprint else "push_all"
                update.append(Update(source, document.id, reason))
            continue
        keep = _keeper(found, source)
        extras = [d for d in (*found, *loose) if keep is None or d.id != keep.id]
        repair.append(
            Repair(source, tuple(d.id for d in extras), recreate=keep is None, reason=_crowd_reason(found, loose))
        )
        restore += [_unarchive_to_delete(d) for d in extras if d.archived]
        if keep is not None:
            if not keep.served:
                restore.append(Restore(keep, source, f"{keep.state}: Dify does not serve it"))
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
        restore=tuple(restore),
        dataset_size=len(documents),
        rejected=tuple(rejected),
    )


def deletion_ratio(plan: SyncPlan) -> float:
    """Share of the dataset the plan removes for good (repairs put their source back, so they do not count)."""
    if plan.dataset_size == 0:
        return 0.0
    return len(plan.delete) / plan.dataset_size


def _index_sources(
    sources: tuple[SourceItem, ...],
) -> tuple[dict[str, SourceItem], dict[str, SourceItem], list[RejectedObject]]:
    """Sources by key and by name; a later source repeating either is set aside with the reason."""
    by_key: dict[str, SourceItem] = {}
    by_name: dict[str, SourceItem] = {}
    rejected: list[RejectedObject] = []
    for source in sources:
        other = by_key.get(source.source_key) or by_name.get(source.document_name)
        if other is not None:
            what = "key" if other.source_key == source.source_key else f"document name {source.document_name!r}"
            reason = f"same {what} as {other.source_key!r} (Dify would merge them): not synced"
            rejected.append(RejectedObject(source.source_key, source.size, reason))
            continue
        by_key[source.source_key] = source
        by_name[source.document_name] = source
    return by_key, by_name, rejected


def _restorable(document: DatasetDocument) -> bool:
    """Disabled or archived, indexing over: Dify's status routes can bring it back, then it is available."""
    return not document.served and document.indexing_status == "completed"


def _unarchive_to_delete(document: DatasetDocument) -> Restore:
    return Restore(document, None, "archived: un-archived so that it can be deleted")


def _problem(document: DatasetDocument) -> str | None:
    """Why a document cannot stand for its source as it is, or None."""
    if document.indexing_status == "error":
        return f"indexing failed: {document.error or 'error'}"
    if document.fingerprint is None:
        return "no fingerprint in its metadata"
    return None


def _keeper(found: list[DatasetDocument], source: SourceItem) -> DatasetDocument | None:
    """Among several documents for one key, the one to keep: healthy and current; available first, then one
    still indexing, then one a status route can bring back."""
    current = [d for d in found if _problem(d) is None and d.fingerprint == source.fingerprint]
    current.sort(key=lambda d: (not d.available, not d.in_progress, not _restorable(d)))
    best = current[0] if current else None
    return best if best is not None and (best.available or best.in_progress or _restorable(best)) else None


def _crowd_reason(found: list[DatasetDocument], loose: list[DatasetDocument]) -> str:
    if loose and not found:
        return "document without sync metadata (an upload interrupted before tagging)"
    if loose:
        return f"{len(found)} tagged and {len(loose)} untagged documents for one key"
    return f"{len(found)} documents for one key"
