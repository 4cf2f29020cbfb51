"""The sync's asset checks: the mass-deletion guard on a plan, and the promotion gate on a synced dataset.

All are blocking with ERROR severity: a failing check stops the downstream steps of the same run, so a plan that
would empty a dataset is never applied and a dataset that does not mirror the bucket is never promoted. They are
computed inside the asset (the facts come from the same read of Dify) and yielded with its materialization.
"""

from __future__ import annotations

import dagster as dg

from difyops_dagster.sync.models import ApplyReport, SyncPlan
from difyops_dagster.sync.plan import deletion_ratio
from difyops_dagster.sync.verify import Verification

DELETION_GUARD = "deletions_within_limit"
GATE_CHECKS = {
    "all_files_synced": "Every planned upload and delete succeeded (failures are listed in the materialization).",
    "matches_listing": "One document per accepted object, with its current fingerprint, and nothing else.",
    "no_duplicate_documents": "No source key has two documents.",
    "all_documents_indexed": "No document is still queued or indexing.",
    "no_error_documents": "No document's indexing ended in error.",
}
EXAMPLES = 5


def deletion_guard_spec(asset: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        DELETION_GUARD,
        asset=asset,
        blocking=True,
        description="Refuses a plan that deletes more than `max_delete_ratio` of the dataset, and any plan made "
        "from an empty listing (an emptied or unreadable bucket must never empty a dataset).",
    )


def gate_specs(asset: str) -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(name, asset=asset, blocking=True, description=d) for name, d in GATE_CHECKS.items()]


def deletion_guard_result(plan: SyncPlan, source_count: int, max_ratio: float) -> dg.AssetCheckResult:
    ratio = deletion_ratio(plan)
    emptying = source_count == 0
    passed = ratio <= max_ratio and not emptying
    if emptying:
        why = f"the listing is empty: refusing to sync (the dataset holds {plan.dataset_size} documents)"
    elif not passed:
        why = f"the plan deletes {len(plan.delete)} of {plan.dataset_size} documents ({ratio:.0%} > {max_ratio:.0%})"
    else:
        why = None
    return dg.AssetCheckResult(
        check_name=DELETION_GUARD,
        passed=passed,
        description=why,
        metadata={
            "deletions": len(plan.delete),
            "dataset_size": plan.dataset_size,
            "deletion_ratio": ratio,
            "max_delete_ratio": max_ratio,
            "empty_listing": emptying,
        },
    )


def passed_not_applicable(names: list[str], why: str) -> list[dg.AssetCheckResult]:
    """Checks of a step that had nothing to do (the active colour is never written): they hold, with the reason."""
    return [dg.AssetCheckResult(check_name=n, passed=True, metadata={"not_applicable": why}) for n in names]


def gate_results(report: ApplyReport, verification: Verification) -> list[dg.AssetCheckResult]:
    v = verification
    mismatched = v.missing + v.unexpected + v.stale
    return [
        _result(
            "all_files_synced",
            not report.failures,
            {"failed": len(report.failures)},
            [f"{o.action} {o.source_key}: {o.detail}" for o in report.failures],
        ),
        _result(
            "matches_listing",
            v.matches_listing,
            {
                "documents": v.documents,
                "expected": v.expected,
                "missing": len(v.missing),
                "unexpected": len(v.unexpected),
                "stale": len(v.stale),
            },
            list(mismatched),
        ),
        _result("no_duplicate_documents", not v.duplicates, {"duplicates": len(v.duplicates)}, list(v.duplicates)),
        _result(
            "all_documents_indexed",
            not v.not_indexed,
            {"not_indexed": len(v.not_indexed), "timed_out": len(report.indexing_timed_out)},
            list(v.not_indexed),
        ),
        _result("no_error_documents", not v.errors, {"errors": len(v.errors)}, list(v.errors)),
    ]


def _result(name: str, passed: bool, counts: dict[str, int], examples: list[str]) -> dg.AssetCheckResult:
    metadata: dict = dict(counts)
    if examples:
        metadata["examples"] = dg.MetadataValue.md("\n".join(f"- `{e}`" for e in examples[:EXAMPLES]))
    description = None if passed else f"{len(examples)} problem(s), e.g. {examples[0]}" if examples else "failed"
    return dg.AssetCheckResult(check_name=name, passed=passed, metadata=metadata, description=description)
