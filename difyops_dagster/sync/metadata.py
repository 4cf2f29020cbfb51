"""What a person reads in the UI about a listing, a plan and a sync: counts as numbers, previews as tables."""

from __future__ import annotations

import dagster as dg

from difyops_dagster.sync.models import ApplyReport, SourceListing, SyncPlan
from difyops_dagster.sync.verify import Verification

PREVIEW_ROWS = 200


def _table(rows: list[dict], columns: list[str]) -> dg.MetadataValue:
    schema = dg.TableSchema(columns=[dg.TableColumn(c, "string") for c in columns])
    return dg.MetadataValue.table(
        [dg.TableRecord({c: str(r.get(c, "")) for c in columns}) for r in rows[:PREVIEW_ROWS]], schema=schema
    )


def listing_metadata(listing: SourceListing) -> dict:
    rejected = [{"key": r.key, "size": r.size, "reason": r.reason} for r in listing.rejected]
    return {
        "accepted": len(listing.accepted),
        "rejected": len(listing.rejected),
        "total_bytes": sum(s.size for s in listing.accepted),
        "rejected_objects": _table(rejected, ["key", "size", "reason"]),
        "dagster/row_count": len(listing.accepted),
    }


def plan_rows(plan: SyncPlan) -> list[dict]:
    rows = [
        {"action": "create", "source_key": s.source_key, "document": s.document_name, "reason": "new in bucket"}
        for s in plan.create
    ]
    rows += [
        {"action": "update", "source_key": s.source_key, "document": s.document_name, "reason": "content changed"}
        for s, _ in plan.update
    ]
    rows += [
        {
            "action": "repair",
            "source_key": r.source.source_key if r.source else "",
            "document": r.source.document_name if r.source else "",
            "reason": r.reason,
        }
        for r in plan.repair
    ]
    rows += [
        {"action": "delete", "source_key": d.source_key or "", "document": d.name, "reason": "not in bucket"}
        for d in plan.delete
    ]
    return rows


def plan_metadata(plan: SyncPlan, dataset_id: str) -> dict:
    counts = plan.counts()
    summary = " · ".join(f"{k} {v}" for k, v in counts.items())
    return {
        **counts,
        "dataset_id": dataset_id,
        "writes": plan.write_count,
        "summary": dg.MetadataValue.md(f"**Plan for dataset `{dataset_id}`**: {summary}"),
        "plan": _table(plan_rows(plan), ["action", "source_key", "document", "reason"]),
    }


def sync_metadata(report: ApplyReport, verification: Verification, dataset_id: str) -> dict:
    failures = [{"action": o.action, "source_key": o.source_key, "error": o.detail} for o in report.failures]
    return {
        "dataset_id": dataset_id,
        "succeeded": sum(o.ok for o in report.outcomes),
        "failed": len(report.failures),
        "indexing_timed_out": len(report.indexing_timed_out),
        "documents": verification.documents,
        "expected": verification.expected,
        "failures": _table(failures, ["action", "source_key", "error"]),
    }
