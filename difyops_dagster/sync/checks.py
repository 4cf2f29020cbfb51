"""The sync's asset checks: the mass-deletion guard on a plan, and the promotion gate on a synced dataset.

They are computed inside the asset (the facts come from the same read of Dify) and yielded with its
materialization. A failing one (ERROR severity) then fails its step, with a message naming each failed check and
its reason (`failure_message`), so the downstream steps of the run never run: a plan that would empty a dataset
is never applied and a dataset that does not mirror the bucket is never promoted. That is what Dagster's
`blocking=True` does; the checks are not declared blocking because Dagster cannot fan in over the outputs of
blocking-checked assets, which `active_colour` needs (assets.py says why). `unserved_documents` only warns: a
document Dify keeps but does not serve (disabled, archived) that the sync could not bring back or remove.
"""

from __future__ import annotations

import dagster as dg

from difyops_dagster.sync.models import ApplyReport, SyncPlan
from difyops_dagster.sync.plan import deletion_ratio
from difyops_dagster.sync.verify import Verification

DELETION_GUARD = "deletions_within_limit"
UNSERVED = "unserved_documents"
GATE_CHECKS = {
    "all_files_synced": "Every planned upload, delete and restore succeeded (failures are listed in the "
    "materialization).",
    "matches_listing": "One served document per accepted object, with its current fingerprint, and no other served "
    "document (Dify serves no disabled or archived document).",
    "no_duplicate_documents": "No source key has two served documents.",
    "all_documents_indexed": "No document is still queued or indexing.",
    "no_error_documents": "No document's indexing ended in error.",
}
EXAMPLES = 5


def deletion_guard_spec(asset: dg.AssetKey | str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        DELETION_GUARD,
        asset=asset,
        description="Refuses a plan that deletes more than `max_delete_ratio` of the dataset, and any plan made "
        "from an empty listing (an emptied or unreadable bucket must never empty a dataset). A refusal fails the "
        "step, so the plan is never applied.",
    )


def gate_specs(asset: dg.AssetKey | str) -> list[dg.AssetCheckSpec]:
    specs = [dg.AssetCheckSpec(name, asset=asset, description=d) for name, d in GATE_CHECKS.items()]
    unserved = (
        "Warns about documents Dify keeps but does not serve (disabled or archived) that the sync could not "
        "restore or remove; their sources got a fresh copy, so they never hold back the promotion."
    )
    return [*specs, dg.AssetCheckSpec(UNSERVED, asset=asset, description=unserved)]


def deletion_refusal(plan: SyncPlan, source_count: int, max_ratio: float) -> str | None:
    """Why the deletion guard refuses `plan`, or None."""
    ratio = deletion_ratio(plan)
    if source_count == 0:
        return f"the listing is empty: refusing to sync (the dataset holds {plan.dataset_size} documents)"
    if ratio > max_ratio:
        return f"the plan deletes {len(plan.delete)} of {plan.dataset_size} documents ({ratio:.0%} > {max_ratio:.0%})"
    return None


def deletion_guard_result(plan: SyncPlan, source_count: int, max_ratio: float) -> dg.AssetCheckResult:
    why = deletion_refusal(plan, source_count, max_ratio)
    return dg.AssetCheckResult(
        check_name=DELETION_GUARD,
        passed=why is None,
        description=why,
        metadata={
            "deletions": len(plan.delete),
            "dataset_size": plan.dataset_size,
            "deletion_ratio": deletion_ratio(plan),
            "max_delete_ratio": max_ratio,
            "empty_listing": source_count == 0,
        },
    )


def failure_message(asset: str, results: list[dg.AssetCheckResult]) -> str | None:
    """The error a step fails with when one of its ERROR checks failed: each check with its reason."""
    failed = [r for r in results if not r.passed and r.severity == dg.AssetCheckSeverity.ERROR]
    if not failed:
        return None
    reasons = "; ".join(f"{r.check_name}: {r.description or 'failed'}" for r in failed)
    return f"{asset}: {len(failed)} check(s) failed, so nothing downstream runs — {reasons}"


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
        _unserved_result(report, verification),
    ]


def _unserved_result(report: ApplyReport, verification: Verification) -> dg.AssetCheckResult:
    examples = [f"{o.source_key}: {o.detail}" for o in report.immovable] or list(verification.unserved)
    result = _result(
        UNSERVED,
        not verification.unserved,
        {"unserved": len(verification.unserved), "immovable": len(report.immovable)},
        examples,
    )
    return dg.AssetCheckResult(
        check_name=UNSERVED,
        passed=result.passed,
        severity=dg.AssetCheckSeverity.WARN,
        metadata=result.metadata,
        description=result.description,
    )


def _result(name: str, passed: bool, counts: dict[str, int], examples: list[str]) -> dg.AssetCheckResult:
    metadata: dict = dict(counts)
    if examples:
        metadata["examples"] = dg.MetadataValue.md("\n".join(f"- `{e}`" for e in examples[:EXAMPLES]))
    description = None if passed else f"{len(examples)} problem(s), e.g. {examples[0]}" if examples else "failed"
    return dg.AssetCheckResult(check_name=name, passed=passed, metadata=metadata, description=description)
