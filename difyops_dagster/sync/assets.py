"""The sync as software-defined assets, in lineage order (group `sync`):

    s3_objects ──────────────┬──> sync_plan_<c> ──> synced_dataset_<c> ──> active_colour
    dify_documents_<c> ──────┘                                               (promotion.py)

`c` is `blue` and `green`, or nothing in single mode (one dataset, the same code path, no `active_colour`).
A run reads both colours but writes only the standby one; `active_colour` promotes it once its blocking checks
passed. Everything is re-derived from S3 and Dify each run, so a re-run after any failure repairs. Hand-offs
are JSON files (`handoff.py`), not pickles.
"""

import time
from typing import Any

import dagster as dg
from botocore.exceptions import BotoCoreError, ClientError
from dagster_aws.s3 import S3Resource

from difyops_dagster.dify.errors import DifyError
from difyops_dagster.dify.resource import DifyResource
from difyops_dagster.storage.s3_listing import iter_s3_objects
from difyops_dagster.sync.apply import ApplyOptions, apply_sync_plan, read_dataset, wait_until_settled
from difyops_dagster.sync.checks import (
    DELETION_GUARD,
    GATE_CHECKS,
    deletion_guard_result,
    deletion_guard_spec,
    gate_results,
    gate_specs,
    passed_not_applicable,
)
from difyops_dagster.sync.colour import load_state
from difyops_dagster.sync.config import SyncSettings
from difyops_dagster.sync.listing import classify_objects
from difyops_dagster.sync.metadata import listing_metadata, plan_metadata, snapshot_metadata, sync_metadata
from difyops_dagster.sync.models import DatasetSnapshot, SourceItem, SourceListing, SyncPlan
from difyops_dagster.sync.plan import build_sync_plan
from difyops_dagster.sync.verify import verify_dataset

GROUP = "sync"
# S3 reads in flight ahead of the uploads: botocore keeps 10 connections per client (dagster-aws's S3Resource has no
# setting for more), and a read from the bucket takes a fraction of a Dify call, so 8 feed even 32 upload threads.
PREFETCH_WORKERS = 8
WRITE_POOL = "dify_writes"
HANDOFF_IO = "sync_handoff_io_manager"
# Re-runs the whole step on an unexpected error (Dify unreachable after the client's own retries): safe, because
# the plan is re-applied against a fresh read and writes are level-triggered. Failed checks are not retried.
RETRY = dg.RetryPolicy(max_retries=2, delay=10, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


def suffix(settings: SyncSettings, target: str) -> str:
    return "" if settings.mode == "single" else f"_{target}"


def list_source(settings: SyncSettings, s3_client: Any) -> tuple[SourceListing, list[dict[str, Any]]]:
    """Every object under the bucket/prefix (every page, streamed), classified; the colour state is skipped."""
    return classify_objects(
        iter_s3_objects(s3_client, settings.bucket, settings.prefix),
        prefix=settings.prefix,
        accepted_extensions=settings.accepted_extensions,
        max_bytes=settings.max_bytes,
        exclude=[settings.state_key],
    )


def writes_target(settings: SyncSettings, s3_client: Any, target: str) -> bool:
    """Is `target` the dataset this run writes? Always in single mode; only the standby colour otherwise."""
    if settings.mode == "single":
        return True
    return load_state(s3_client, settings.bucket, settings.state_key).standby == target


def build_sync_assets(settings: SyncSettings) -> list[dg.AssetsDefinition]:
    @dg.asset(name="s3_objects", group_name=GROUP, kinds={"s3"}, io_manager_key=HANDOFF_IO)
    def s3_objects(context: dg.AssetExecutionContext, s3: S3Resource) -> dg.Output[SourceListing]:
        """Every object under the configured bucket and prefix (all pages): accepted for upload, or rejected with
        the reason (type not supported, too large, empty)."""
        location = f"s3://{settings.bucket}/{settings.prefix}"
        try:
            listing, preview = list_source(settings, s3.get_client())
        except (ClientError, BotoCoreError) as exc:  # botocore's text names neither the bucket nor the prefix
            raise dg.Failure(f"could not list {location} (sync.bucket / sync.prefix): {exc}") from exc
        context.log.info(f"{location}: {len(listing.accepted)} accepted, {len(listing.rejected)} rejected objects")
        return dg.Output(listing, metadata=listing_metadata(listing, preview, location))

    assets = [s3_objects]
    for target, dataset_id in settings.targets().items():
        assets += _target_assets(settings, target, dataset_id)
    return assets


def _target_assets(settings: SyncSettings, target: str, dataset_id: str) -> list[dg.AssetsDefinition]:
    end = suffix(settings, target)
    documents_key, plan_key, synced_key = f"dify_documents{end}", f"sync_plan{end}", f"synced_dataset{end}"
    tags = {"difyops/target": target}
    label = "the dataset" if settings.mode == "single" else f"the {target} dataset"

    @dg.asset(
        name=documents_key,
        group_name=GROUP,
        kinds={"dify"},
        tags=tags,
        io_manager_key=HANDOFF_IO,
        description=f"Every document of {label} (`{dataset_id}`), read through every page, with the source key "
        "and fingerprint each one carries in Dify metadata.",
    )
    def dify_documents(context: dg.AssetExecutionContext, dify: DifyResource) -> dg.Output[DatasetSnapshot]:
        try:
            snapshot = read_dataset(dify.dataset_client(), dataset_id)
        except DifyError as exc:
            if exc.status in (401, 403) and not exc.retryable:  # Dify's message names no setting
                raise dg.Failure(
                    f"Dify refused the dataset key reading {dataset_id}: {exc} (check dify.dataset_api_key)",
                    allow_retries=False,
                ) from None
            if exc.code == "unsupported_version":
                raise dg.Failure(exc.message, allow_retries=False) from None
            raise
        context.log.info(f"{dataset_id}: {len(snapshot.documents)} documents")
        return dg.Output(snapshot, metadata=snapshot_metadata(snapshot))

    @dg.asset(
        name=plan_key,
        group_name=GROUP,
        kinds={"dify"},
        tags=tags,
        io_manager_key=HANDOFF_IO,
        ins={"listing": dg.AssetIn("s3_objects"), "snapshot": dg.AssetIn(documents_key)},
        check_specs=[deletion_guard_spec(plan_key)],
        description=f"What it takes to make {label} mirror the bucket: create, update, delete, unchanged and "
        "repair, as a pure function of the two listings.",
    )
    def sync_plan(context: dg.AssetExecutionContext, listing: SourceListing, snapshot: DatasetSnapshot, s3: S3Resource):
        plan = build_sync_plan(listing.accepted, snapshot.documents, push_all=settings.push_all)
        applies = writes_target(settings, s3.get_client(), target)
        context.log.info(f"plan for {dataset_id}: {plan.counts()}")
        yield dg.Output(plan, metadata=plan_metadata(plan, dataset_id, applies))
        if applies:
            yield deletion_guard_result(plan, len(listing.accepted), settings.max_delete_ratio)
        else:
            yield passed_not_applicable([DELETION_GUARD], "active colour: its plan is not applied")[0]

    @dg.asset(
        name=synced_key,
        group_name=GROUP,
        kinds={"dify"},
        tags=tags,
        ins={
            "listing": dg.AssetIn("s3_objects"),
            "plan": dg.AssetIn(plan_key),
            "snapshot": dg.AssetIn(documents_key),
        },
        check_specs=gate_specs(synced_key),
        pool=WRITE_POOL,
        retry_policy=RETRY,
        description=f"The plan applied to {label} (only when it is the standby colour), with bounded concurrency, "
        "then a wait for indexing; one bad file never stops the rest. Its checks gate the promotion.",
    )
    def synced_dataset(
        context: dg.AssetExecutionContext,
        listing: SourceListing,
        plan: SyncPlan,
        snapshot: DatasetSnapshot,
        dify: DifyResource,
        s3: S3Resource,
    ) -> dg.MaterializeResult:
        s3_client = s3.get_client()
        if not writes_target(settings, s3_client, target):
            why = f"{target} is the active colour; only the standby colour is written"
            context.log.info(why)
            return dg.MaterializeResult(
                metadata={"dataset_id": dataset_id, "applied": False, "skipped": why},
                check_results=passed_not_applicable(list(GATE_CHECKS), why),
            )
        client = dify.dataset_client()
        started = time.monotonic()
        report = apply_sync_plan(
            client, dataset_id, plan, _s3_loader(s3_client, settings.bucket), _apply_options(settings), context.log.info
        )
        for failure in report.failures:
            context.log.warning(f"{failure.action} {failure.source_key}: {failure.detail}")
        after = read_dataset(client, dataset_id) if report.outcomes else snapshot
        remaining = max(settings.indexing_poll_s, settings.indexing_timeout_s - (time.monotonic() - started))
        after = wait_until_settled(client, after, remaining, settings.indexing_poll_s)
        verification = verify_dataset(listing.accepted, after.documents)
        return dg.MaterializeResult(
            metadata=sync_metadata(report, verification, dataset_id), check_results=gate_results(report, verification)
        )

    return [dify_documents, sync_plan, synced_dataset]


def _s3_loader(s3_client: Any, bucket: str):
    def load(source: SourceItem) -> bytes:
        return s3_client.get_object(Bucket=bucket, Key=source.source_key)["Body"].read()

    return load


def _apply_options(settings: SyncSettings) -> ApplyOptions:
    return ApplyOptions(
        concurrency=settings.upload_concurrency,
        prefetch_workers=min(settings.upload_concurrency, PREFETCH_WORKERS),
        indexing_timeout_s=settings.indexing_timeout_s,
        indexing_poll_s=settings.indexing_poll_s,
        first_upload_options={"indexing_technique": settings.indexing_technique, "process_rule": settings.process_rule},
    )
