"""What a person reads in the UI about a listing, a dataset, a plan and a sync.

Counts are plain numbers (the UI plots them across materializations); lists are tables cut to a preview, the
full data being the JSON hand-off linked from the same materialization. Nothing here carries a key or token.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import dagster as dg

from difyops_dagster.sync.models import ApplyReport, DatasetSnapshot, SourceListing, SyncPlan
from difyops_dagster.sync.verify import Verification

PREVIEW_ROWS = 200


def table(rows: list[dict[str, Any]], columns: list[str]) -> dg.MetadataValue:
    schema = dg.TableSchema(columns=[dg.TableColumn(c, "string") for c in columns])
    records = [dg.TableRecord({c: str(r.get(c, "")) for c in columns}) for r in rows[:PREVIEW_ROWS]]
    return dg.MetadataValue.table(records, schema=schema)


def listing_metadata(listing: SourceListing, preview: list[dict[str, Any]], location: str) -> dict[str, Any]:
    rejected = [{"key": r.key, "size": r.size, "reason": r.reason} for r in listing.rejected]
    reasons = Counter(r.reason.split(":")[0] for r in listing.rejected)
    summary = f"**{len(listing.accepted)} accepted, {len(listing.rejected)} rejected** in `{location}`"
    if reasons:
        summary += " — rejected: " + ", ".join(f"{n} {why}" for why, n in sorted(reasons.items()))
    return {
        "accepted": len(listing.accepted),
        "rejected": len(listing.rejected),
        "accepted_bytes": sum(s.size for s in listing.accepted),
        "summary": dg.MetadataValue.md(summary),
        "rejected_objects": table(rejected, ["key", "size", "reason"]),
        "objects_preview": table(preview, ["key", "size", "etag", "last_modified", "accepted", "reason"]),
        "dagster/row_count": len(listing.accepted) + len(listing.rejected),
    }


def snapshot_metadata(snapshot: DatasetSnapshot) -> dict[str, Any]:
    states = Counter(d.state for d in snapshot.documents)
    return {
        "dataset_id": snapshot.dataset_id,
        "documents": len(snapshot.documents),
        "without_source_key": sum(d.source_key is None for d in snapshot.documents),
        "states": dg.MetadataValue.json(dict(sorted(states.items()))),
        "dagster/row_count": len(snapshot.documents),
    }


def plan_rows(plan: SyncPlan) -> list[dict[str, str]]:
    rows = [
        {"action": "create", "source_key": s.source_key, "document": s.document_name, "reason": "new in the source"}
        for s in plan.create
    ]
    rows += [
        {"action": "update", "source_key": u.source.source_key, "document": u.source.document_name, "reason": u.reason}
        for u in plan.update
    ]
    rows += [
        {
            "action": "repair",
            "source_key": r.source.source_key,
            "document": r.source.document_name,
            "reason": f"{r.reason}; delete {len(r.delete_ids)}" + (", re-create" if r.recreate else ""),
        }
        for r in plan.repair
    ]
    rows += [
        {"action": "delete", "source_key": d.document.source_key or "", "document": d.document.name, "reason": d.reason}
        for d in plan.delete
    ]
    rows += [
        {
            "action": "restore",
            "source_key": r.document.source_key or "",
            "document": r.document.name,
            "reason": f"{r.reason} ({', '.join(r.actions)})",
        }
        for r in plan.restore
    ]
    rows += [{"action": "rejected", "source_key": r.key, "document": "", "reason": r.reason} for r in plan.rejected]
    return rows


def plan_metadata(plan: SyncPlan, dataset_id: str, refusal: str | None) -> dict[str, Any]:
    """`refusal`: why the deletion guard refuses the plan (it is then not applied), or None."""
    counts = plan.counts()
    summary = " · ".join(f"{k} {v}" for k, v in counts.items())
    role = f"refused, not applied: {refusal}" if refusal else "will be applied"
    return {
        **counts,
        "dataset_id": dataset_id,
        "writes": plan.write_count,
        "applies": refusal is None,
        "summary": dg.MetadataValue.md(f"**Plan for dataset `{dataset_id}`** ({role}): {summary}"),
        "plan": table(plan_rows(plan), ["action", "source_key", "document", "reason"]),
    }


def sync_metadata(
    report: ApplyReport, verification: Verification, dataset_id: str, source_digest: str, replanned: str
) -> dict[str, Any]:
    """`source_digest`: the listing this sync mirrors (the promotion records it); `replanned`: why the plan was made
    again from a fresh read at the start of the writes, or ""."""
    failures = [{"action": o.action, "source_key": o.source_key, "error": o.detail} for o in report.failures]
    failures += [{"action": "immovable", "source_key": o.source_key, "error": o.detail} for o in report.immovable]
    failures += [
        {"action": "indexing", "source_key": key, "error": "still indexing at the timeout"}
        for key in report.indexing_timed_out
    ]
    problems = {
        "missing": verification.missing,
        "unexpected": verification.unexpected,
        "stale": verification.stale,
        "duplicates": verification.duplicates,
        "not indexed": verification.not_indexed,
        "indexing error": verification.errors,
        "unserved": verification.unserved,
    }
    found = [f"{len(keys)} {what} (e.g. `{keys[0]}`)" for what, keys in problems.items() if keys]
    verdict = "mirrors the source" if not found and not failures else "; ".join(found) or "see failures"
    replan = f" (re-planned from a fresh read: {replanned})" if replanned else ""
    return {
        "dataset_id": dataset_id,
        "applied": True,
        "writes_succeeded": report.succeeded,
        "writes_failed": len(report.failures),
        "restored": sum(o.ok for o in report.outcomes if o.action == "restore"),
        "immovable": len(report.immovable),
        "indexing_timed_out": len(report.indexing_timed_out),
        "documents": verification.documents,
        "expected": verification.expected,
        "unserved": len(verification.unserved),
        "source_digest": source_digest,
        "replanned": bool(replanned),
        "summary": dg.MetadataValue.md(
            f"**{len(report.failures)} failed of {len(report.outcomes)} writes**{replan}; dataset `{dataset_id}` "
            f"{verdict}"
        ),
        "failures": table(failures, ["action", "source_key", "error"]),
    }
