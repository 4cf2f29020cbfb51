"""The sync as software-defined assets, in lineage order (group `sync`, or `sync_<name>` with keys under
`<name>/` for a sync of `syncs:`, scope.py):

    s3_objects ──> dify_documents_<c> ──> sync_plan_<c> ──> synced_dataset_<c> ──> active_colour
         └────────────────────────────────────┴───────────────────┘ (the listing)   (promotion.py)

`c` is `blue` and `green`, or nothing in single mode (one dataset, the same code path, no `active_colour`).
Everything is re-derived from S3 and Dify each run, so a re-run after any failure repairs. Hand-offs are JSON
files (`handoff.py`), not pickles.

What a run shows is what it did (issues 14 and 15). One decision per run, `decide_run` (colour.py), from the
colour state and the digest of the listing: write the standby colour, or nothing (the bucket holds what the
active colour serves, or promotion is held after a rollback). `dify_documents_<c>` declares
`output_required=False` and yields its snapshot only for the colour the run writes; for the other colour it
returns at once, without reading that dataset, and says why in the log. Dagster then skips `sync_plan_<c>` and
`synced_dataset_<c>` of that colour, which keep their last real materialization and check results, so the
catalog shows when each colour was really synced and checked. Checked in Dagster 1.13's source
(`_core/execution/plan/active.py`, `ActiveExecution._should_skip_step`): a step whose input comes from an
output that was not yielded is skipped ("Skipping step ... due to skipped dependencies"), except a fan-in input,
which is skipped only when none of its sources yielded. `active_colour` takes both `synced_dataset_*` through one
fan-in input (a graph-backed asset, promotion.py): it runs when the colour this run wrote was synced, and is
skipped when nothing was written (with `sync.apps`, the listing joins that fan-in, so it runs in every run and
reconciles the apps: app_rebinding.py). Its checks are not declared blocking, because Dagster refuses a fan-in over
blocking-checked assets (`_core/execution/plan/inputs.py`: "Can not have multiple levels of
MultiStepInputSource") and warns for each
blocking check of every skipped step; instead a step fails itself after recording its materialization and
check results when an ERROR check failed (checks.py), which is what a blocking check does.

One sync of a dataset pair runs at a time (runs.py): `s3_objects` waits for an earlier one before it lists, and
releases runs that died. `synced_dataset_<c>` plans again from a fresh read of the dataset when its snapshot
is older than `REPLAN_AFTER_S` (it waited for the `dify_writes` pool, or the step is a retry), so it never
applies a plan made before someone else wrote the dataset.
"""

import time
from typing import Any

import dagster as dg
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from dagster_aws.s3 import S3Resource

from difyops_dagster.dify.client import DifyDatasetClient
from difyops_dagster.dify.errors import DifyError
from difyops_dagster.dify.resource import DifyResource
from difyops_dagster.run_liveness import record_worker
from difyops_dagster.storage.s3_listing import iter_s3_objects
from difyops_dagster.sync.apply import ApplyOptions, apply_sync_plan, read_dataset, wait_until_settled
from difyops_dagster.sync.checks import (
    deletion_guard_result,
    deletion_guard_spec,
    deletion_refusal,
    failure_message,
    gate_results,
    gate_specs,
)
from difyops_dagster.sync.colour import ColourState, decide_run, load_state
from difyops_dagster.sync.config import SyncSettings
from difyops_dagster.sync.listing import classify_objects, listing_digest
from difyops_dagster.sync.metadata import listing_metadata, plan_metadata, snapshot_metadata, sync_metadata
from difyops_dagster.sync.models import DatasetSnapshot, SourceItem, SourceListing, SyncPlan
from difyops_dagster.sync.plan import build_sync_plan
from difyops_dagster.sync.retrieval_check import retrieval_check_results, retrieval_check_specs
from difyops_dagster.sync.runs import pool_wait, sync_target, wait_for_earlier_syncs
from difyops_dagster.sync.scope import SyncScope
from difyops_dagster.sync.verify import verify_dataset

# S3 reads in flight ahead of the uploads: botocore keeps 10 connections per client (dagster-aws's S3Resource has no
# setting for more), and a read from the bucket takes a fraction of a Dify call, so 8 feed even 32 upload threads.
PREFETCH_WORKERS = 8
HANDOFF_IO = "sync_handoff_io_manager"
# Re-runs the whole step on an unexpected error (Dify unreachable after the client's own retries): safe, because
# the plan is re-applied against a fresh read and writes are level-triggered. Failed checks are not retried.
RETRY = dg.RetryPolicy(max_retries=2, delay=10, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)
# The steps of one run follow each other within seconds; a snapshot older than this was read before a wait.
REPLAN_AFTER_S = 30.0


def suffix(settings: SyncSettings, target: str) -> str:
    return "" if settings.mode == "single" else f"_{target}"


def list_source(
    settings: SyncSettings, s3_client: Any, exclude: list[str] | None = None
) -> tuple[SourceListing, list[dict[str, Any]]]:
    """Every object under the bucket/prefix (every page, streamed), classified; the colour state (and `exclude`,
    the other syncs' states in the bucket) is skipped."""
    return classify_objects(
        iter_s3_objects(s3_client, settings.bucket, settings.prefix),
        prefix=settings.prefix,
        accepted_extensions=settings.accepted_extensions,
        max_bytes=settings.max_bytes,
        exclude=exclude or [settings.state_key],
    )


def listing_failure(exc: Exception, location: str, endpoint: str | None, at: str = "sync") -> str:
    """What went wrong listing S3, naming the setting to look at (botocore's text names none of them); `at` is
    the sync's section (`sync`, `syncs[handbook]`)."""
    code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""
    if isinstance(exc, EndpointConnectionError) or (isinstance(exc, BotoCoreError) and not code):
        return f"could not reach the S3 endpoint {endpoint or '(AWS default)'} (s3.endpoint_url): {exc}"
    if code in ("NoSuchBucket", "404"):
        return f"could not list {location}: the bucket does not exist ({at}.bucket): {exc}"
    if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403"):
        return f"could not list {location}: S3 refused the credentials (s3.access_key_id / secret_access_key): {exc}"
    return f"could not list {location} ({at}.bucket / {at}.prefix): {exc}"


def skip_reason(target: str, state: ColourState, decided: str | None, why: str) -> str:
    """Why `dify_documents_<target>` neither reads nor hands on its dataset in this run."""
    if state.active == target:
        return f"{target} is the active colour: this run neither reads nor writes it" + (
            f" ({decided} is synced)" if decided else f"; {why}"
        )
    return f"{target} is not synced in this run: {why}"


def build_sync_assets(scope: SyncScope) -> list[dg.AssetsDefinition]:
    settings = scope.settings
    target_tag = sync_target(settings.targets())

    @dg.asset(
        name="s3_objects", key_prefix=scope.key_prefix, group_name=scope.group, kinds={"s3"}, io_manager_key=HANDOFF_IO
    )
    def s3_objects(context: dg.AssetExecutionContext, s3: S3Resource) -> dg.Output[SourceListing]:
        """Every object under the configured bucket and prefix (all pages): accepted for upload, or rejected with
        the reason (type not supported, too large, empty). Listed once any earlier sync of the same datasets has
        ended; its metadata says what this run will do with it."""
        record_worker(context)
        wait_for_earlier_syncs(context, target_tag)
        blocked = pool_wait(context.instance, scope.write_pool, context.run.run_id)
        if blocked:
            context.log.warning(blocked)
        location = f"s3://{settings.bucket}/{settings.prefix}"
        client = s3.get_client()
        try:
            listing, preview = list_source(settings, client, scope.excluded_keys)
            state = load_state(client, settings.bucket, settings.state_key) if settings.mode != "single" else None
        except (ClientError, BotoCoreError) as exc:
            raise dg.Failure(listing_failure(exc, location, client.meta.endpoint_url, settings.section())) from exc
        digest, _ = listing_digest(listing.accepted)
        metadata = listing_metadata(listing, preview, location)
        metadata["digest"] = digest
        if state is not None:
            decision = decide_run(state, digest, push_all=settings.push_all)
            metadata["this_run"] = decision.reason
            context.log.info(decision.reason)
        context.log.info(f"{location}: {len(listing.accepted)} accepted, {len(listing.rejected)} rejected objects")
        return dg.Output(listing, metadata=metadata)

    assets = [s3_objects]
    for target, dataset_id in settings.targets().items():
        assets += _target_assets(scope, target, dataset_id)
    return assets


def _target_assets(scope: SyncScope, target: str, dataset_id: str) -> list[dg.AssetsDefinition]:
    settings = scope.settings
    end = suffix(settings, target)
    documents_key, plan_key, synced_key = f"dify_documents{end}", f"sync_plan{end}", f"synced_dataset{end}"
    listing_in = dg.AssetIn(scope.key("s3_objects"))
    tags = {"difyops/target": target}
    label = "the dataset" if settings.mode == "single" else f"the {target} dataset"

    @dg.asset(
        name=documents_key,
        key_prefix=scope.key_prefix,
        group_name=scope.group,
        kinds={"dify"},
        tags=tags,
        io_manager_key=HANDOFF_IO,
        ins={"listing": listing_in},
        output_required=False,
        description=f"Every document of {label} (`{dataset_id}`), read through every page, with the source key "
        "and fingerprint each one carries in Dify metadata. Read only in the runs that sync this colour: "
        "otherwise the step says why and its downstream steps are skipped.",
    )
    def dify_documents(context: dg.AssetExecutionContext, listing: SourceListing, dify: DifyResource, s3: S3Resource):
        if settings.mode != "single":
            state = load_state(s3.get_client(), settings.bucket, settings.state_key)
            decision = decide_run(state, listing_digest(listing.accepted)[0], push_all=settings.push_all)
            if decision.write != target:
                context.log.info(skip_reason(target, state, decision.write, decision.reason))
                return
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
        yield dg.Output(snapshot, metadata=snapshot_metadata(snapshot))

    @dg.asset(
        name=plan_key,
        key_prefix=scope.key_prefix,
        group_name=scope.group,
        kinds={"dify"},
        tags=tags,
        io_manager_key=HANDOFF_IO,
        ins={"listing": listing_in, "snapshot": dg.AssetIn(scope.key(documents_key))},
        check_specs=[deletion_guard_spec(scope.key(plan_key))],
        description=f"What it takes to make {label} mirror the bucket: create, update, delete, unchanged, repair "
        "and restore, as a pure function of the two listings.",
    )
    def sync_plan(context: dg.AssetExecutionContext, listing: SourceListing, snapshot: DatasetSnapshot):
        plan = build_sync_plan(listing.accepted, snapshot.documents, push_all=settings.push_all)
        refusal = deletion_refusal(plan, len(listing.accepted), settings.max_delete_ratio)
        context.log.info(f"plan for {dataset_id}: {plan.counts()}")
        yield dg.Output(plan, metadata=plan_metadata(plan, dataset_id, refusal))
        guard = deletion_guard_result(plan, len(listing.accepted), settings.max_delete_ratio)
        yield guard
        message = failure_message(scope.ref(plan_key), [guard])
        if message:
            raise dg.Failure(description=message, allow_retries=False)

    @dg.asset(
        name=synced_key,
        key_prefix=scope.key_prefix,
        group_name=scope.group,
        kinds={"dify"},
        tags=tags,
        ins={
            "listing": listing_in,
            "plan": dg.AssetIn(scope.key(plan_key)),
            "snapshot": dg.AssetIn(scope.key(documents_key)),
        },
        check_specs=gate_specs(scope.key(synced_key)) + retrieval_check_specs(settings, scope.key(synced_key)),
        pool=scope.write_pool,
        retry_policy=RETRY,
        description=f"The plan applied to {label}, with bounded concurrency, then a wait for indexing; one bad "
        "file never stops the rest. Its checks gate the promotion (with `sync.retrieval_checks`, also the golden "
        "queries' `retrieval_quality`): a failed one fails this step.",
    )
    def synced_dataset(
        context: dg.AssetExecutionContext,
        listing: SourceListing,
        plan: SyncPlan,
        snapshot: DatasetSnapshot,
        dify: DifyResource,
        s3: S3Resource,
    ):
        record_worker(context)
        client = dify.dataset_client()
        started = time.monotonic()
        planned = (plan, snapshot)
        plan, snapshot, replanned = _current_plan(context, client, listing, planned, scope.key(documents_key), settings)
        if replanned:
            refusal = deletion_refusal(plan, len(listing.accepted), settings.max_delete_ratio)
            if refusal:
                raise dg.Failure(
                    f"{scope.ref(synced_key)}: the plan made again from a fresh read is refused: {refusal}"
                )
        loader = _s3_loader(s3.get_client(), settings.bucket)
        report = apply_sync_plan(client, dataset_id, plan, loader, _apply_options(settings), context.log.info)
        for failure in (*report.failures, *report.immovable):
            context.log.warning(f"{failure.action} {failure.source_key}: {failure.detail}")
        after = read_dataset(client, dataset_id) if report.outcomes or report.immovable else snapshot
        remaining = max(settings.indexing_poll_s, settings.indexing_timeout_s - (time.monotonic() - started))
        after = wait_until_settled(client, after, remaining, settings.indexing_poll_s)
        rejected = {r.key for r in plan.rejected}
        verification = verify_dataset([s for s in listing.accepted if s.source_key not in rejected], after.documents)
        results = gate_results(report, verification) + retrieval_check_results(
            settings, client, s3.get_client(), target
        )
        digest, _ = listing_digest(listing.accepted)
        yield dg.MaterializeResult(
            metadata=sync_metadata(report, verification, dataset_id, digest, replanned), check_results=results
        )
        message = failure_message(scope.ref(synced_key), results)
        if message:
            raise dg.Failure(description=message, allow_retries=False)

    return [dify_documents, sync_plan, synced_dataset]


def _current_plan(
    context: dg.AssetExecutionContext,
    client: DifyDatasetClient,
    listing: SourceListing,
    planned: tuple[SyncPlan, DatasetSnapshot],
    documents_key: dg.AssetKey,
    settings: SyncSettings,
) -> tuple[SyncPlan, DatasetSnapshot, str]:
    """The plan to apply: the planned one while its snapshot is fresh, else one made from a read done now (and
    the reason, for the metadata)."""
    plan, snapshot = planned
    age = _snapshot_age(context, documents_key)
    if context.retry_number == 0 and age <= REPLAN_AFTER_S:
        return plan, snapshot, ""
    why = f"attempt {context.retry_number + 1}" if context.retry_number else f"the snapshot was {age:.0f} s old"
    fresh = read_dataset(client, snapshot.dataset_id)
    replanned = build_sync_plan(listing.accepted, fresh.documents, push_all=settings.push_all)
    context.log.info(f"re-planned from a fresh read ({why}): {replanned.counts()} (planned: {plan.counts()})")
    return replanned, fresh, why


def _snapshot_age(context: dg.AssetExecutionContext, documents_key: dg.AssetKey) -> float:
    """Seconds since this run materialized `documents_key` (infinite when the snapshot comes from another run)."""
    kind = dg.DagsterEventType.ASSET_MATERIALIZATION
    for record in context.instance.get_records_for_run(context.run.run_id, of_type=kind).records:
        materialization = record.event_log_entry.asset_materialization
        if materialization is not None and materialization.asset_key == documents_key:
            return time.time() - record.event_log_entry.timestamp
    return float("inf")


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
