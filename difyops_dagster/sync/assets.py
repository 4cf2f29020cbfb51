"""The sync as software-defined assets, in lineage order:

    s3_objects ─┬─> dify_documents_<c> ──> sync_plan_<c> ──> synced_dataset_<c> ──┐
                └───────────────────────────────┴──────────────────┘              ├─> active_colour
    (c = blue, green; or one unsuffixed target in single mode)                    ┘

A run reads both colours but writes only the standby one; `active_colour` promotes it after its blocking
checks passed. Everything is re-derived from S3 and Dify each run, so a re-run after any failure repairs.
"""

from datetime import UTC, datetime

import dagster as dg
from dagster_aws.s3 import S3Resource

from difyops_dagster.dify.resource import DifyResource
from difyops_dagster.storage.s3_listing import iter_s3_objects
from difyops_dagster.sync.apply import ApplyOptions, apply_sync_plan
from difyops_dagster.sync.colour import ColourState, load_state, promote, save_state
from difyops_dagster.sync.config import SyncSettings
from difyops_dagster.sync.listing import classify_objects
from difyops_dagster.sync.metadata import listing_metadata, plan_metadata, sync_metadata
from difyops_dagster.sync.models import DatasetDocument, SourceItem, SourceListing, SyncPlan
from difyops_dagster.sync.plan import build_sync_plan, deletion_ratio
from difyops_dagster.sync.resources import SyncWebhookResource
from difyops_dagster.sync.verify import verify_dataset

GROUP = "sync"
WRITE_POOL = "dify_writes"
RETRY = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


def asset_suffix(settings: SyncSettings, target: str) -> str:
    return "" if settings.mode == "single" else f"_{target}"


def list_source(settings: SyncSettings, s3_client) -> SourceListing:
    return classify_objects(
        iter_s3_objects(s3_client, settings.bucket, settings.prefix),
        prefix=settings.prefix,
        accepted_extensions=settings.accepted_extensions,
        max_bytes=int(settings.max_file_size_mb * 1024 * 1024),
        exclude=[settings.state_key],
    )


def build_sync_assets(settings: SyncSettings) -> list:
    @dg.asset(name="s3_objects", group_name=GROUP, kinds={"s3"})
    def s3_objects(context: dg.AssetExecutionContext, s3: S3Resource):
        """Every object under the configured bucket/prefix (all pages): accepted for upload, or rejected with why."""
        listing = list_source(settings, s3.get_client())
        context.log.info(f"listed {len(listing.accepted)} accepted and {len(listing.rejected)} rejected objects")
        return dg.Output(listing, metadata=listing_metadata(listing))

    assets: list = [s3_objects]
    for target, dataset_id in settings.targets().items():
        assets += _target_assets(settings, target, dataset_id)
    if settings.mode == "blue_green":
        assets.append(_active_colour_asset(settings))
    return assets


def _target_assets(settings: SyncSettings, target: str, dataset_id: str) -> list:
    suffix = asset_suffix(settings, target)
    documents_key, plan_key, synced_key = f"dify_documents{suffix}", f"sync_plan{suffix}", f"synced_dataset{suffix}"
    tags = {"difyops/target": target}

    @dg.asset(name=documents_key, group_name=GROUP, kinds={"dify"}, tags=tags)
    def dify_documents(dify: DifyResource):
        """The dataset as it is now (every page), with each document's source key and fingerprint from Dify metadata."""
        documents = [DatasetDocument.from_document(d) for d in dify.dataset_client().iter_documents(dataset_id)]
        statuses: dict[str, int] = {}
        for d in documents:
            statuses[d.indexing_status] = statuses.get(d.indexing_status, 0) + 1
        return dg.Output(
            documents,
            metadata={
                "dataset_id": dataset_id,
                "documents": len(documents),
                "untagged": sum(d.source_key is None for d in documents),
                "statuses": dg.MetadataValue.json(statuses),
            },
        )

    plan_check = dg.AssetCheckSpec(
        "deletions_within_limit",
        asset=plan_key,
        blocking=True,
        description="Refuses a plan deleting too much of the dataset (an empty bucket must never empty it).",
    )

    @dg.asset(
        name=plan_key,
        group_name=GROUP,
        kinds={"dify"},
        tags=tags,
        ins={"listing": dg.AssetIn("s3_objects"), "documents": dg.AssetIn(documents_key)},
        check_specs=[plan_check],
    )
    def sync_plan(context: dg.AssetExecutionContext, listing: SourceListing, documents: list[DatasetDocument]):
        """What it takes to make the dataset mirror the bucket: create, update, delete, unchanged and repair."""
        plan = build_sync_plan(listing.accepted, documents, push_all=settings.push_all)
        ratio = deletion_ratio(plan)
        emptying = not listing.accepted and not settings.allow_empty_source
        passed = ratio <= settings.max_delete_ratio and not emptying
        yield dg.Output(plan, metadata=plan_metadata(plan, dataset_id))
        yield dg.AssetCheckResult(
            check_name="deletions_within_limit",
            passed=passed,
            metadata={
                "deletion_ratio": ratio,
                "max_delete_ratio": settings.max_delete_ratio,
                "empty_listing": emptying,
            },
            description=None
            if passed
            else f"plan deletes {len(plan.delete)} of {plan.dataset_size} documents ({ratio:.0%})",
        )

    checks = [
        dg.AssetCheckSpec(
            "all_files_synced",
            asset=synced_key,
            blocking=True,
            description="Every planned upload and delete succeeded.",
        ),
        dg.AssetCheckSpec(
            "matches_listing",
            asset=synced_key,
            blocking=True,
            description="One document per accepted object, with its current fingerprint.",
        ),
        dg.AssetCheckSpec(
            "no_duplicate_documents", asset=synced_key, blocking=True, description="No source key has two documents."
        ),
        dg.AssetCheckSpec(
            "all_documents_indexed", asset=synced_key, blocking=True, description="Every document finished indexing."
        ),
        dg.AssetCheckSpec(
            "no_error_documents", asset=synced_key, blocking=True, description="No document's indexing ended in error."
        ),
    ]

    @dg.asset(
        name=synced_key,
        group_name=GROUP,
        kinds={"dify"},
        tags=tags,
        ins={"listing": dg.AssetIn("s3_objects"), "plan": dg.AssetIn(plan_key), "before": dg.AssetIn(documents_key)},
        check_specs=checks,
        pool=WRITE_POOL,
        retry_policy=RETRY,
    )
    def synced_dataset(
        context: dg.AssetExecutionContext,
        listing: SourceListing,
        plan: SyncPlan,
        before: list[DatasetDocument],
        dify: DifyResource,
        s3: S3Resource,
    ) -> dg.MaterializeResult:
        """The plan applied to this dataset (standby colour only), waited on until Dify finished indexing."""
        s3_client = s3.get_client()
        if settings.mode == "blue_green":
            state = load_state(s3_client, settings.bucket, settings.state_key)
            if target != state.standby:
                return _skipped_active(target, dataset_id, checks)
        client = dify.dataset_client()

        def load(source: SourceItem) -> bytes:
            return s3_client.get_object(Bucket=settings.bucket, Key=source.source_key)["Body"].read()

        options = ApplyOptions(
            concurrency=settings.upload_concurrency,
            indexing_timeout_s=settings.indexing_timeout_s,
            indexing_poll_s=settings.indexing_poll_s,
            first_upload_options={
                "indexing_technique": settings.indexing_technique,
                "process_rule": settings.process_rule,
            },
        )
        report = apply_sync_plan(client, dataset_id, plan, load, options, log=context.log.info)
        for failure in report.failures:
            context.log.warning(f"{failure.action} {failure.source_key}: {failure.detail}")
        # Nothing written: the snapshot taken moments ago is the dataset; otherwise read it again to verify.
        written = report.outcomes or report.indexing_timed_out
        after = [DatasetDocument.from_document(d) for d in client.iter_documents(dataset_id)] if written else before
        verification = verify_dataset(listing.accepted, after)
        results = [
            _check("all_files_synced", not report.failures, {"failed": len(report.failures)}),
            _check(
                "matches_listing",
                verification.matches_listing,
                {
                    "expected": verification.expected,
                    "documents": verification.documents,
                    "missing": len(verification.missing),
                    "unexpected": len(verification.unexpected),
                    "stale": len(verification.stale),
                    "examples": ", ".join((verification.missing + verification.unexpected + verification.stale)[:5]),
                },
            ),
            _check(
                "no_duplicate_documents",
                not verification.duplicates,
                {"duplicates": len(verification.duplicates), "examples": ", ".join(verification.duplicates[:5])},
            ),
            _check(
                "all_documents_indexed",
                not verification.not_indexed,
                {"not_indexed": len(verification.not_indexed), "timed_out": len(report.indexing_timed_out)},
            ),
            _check(
                "no_error_documents",
                not verification.errors,
                {"errors": len(verification.errors), "examples": ", ".join(verification.errors[:5])},
            ),
        ]
        return dg.MaterializeResult(
            metadata={**sync_metadata(report, verification, dataset_id), "applied": True}, check_results=results
        )

    return [dify_documents, sync_plan, synced_dataset]


def _check(name: str, passed: bool, metadata: dict) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(check_name=name, passed=passed, metadata=metadata)


def _skipped_active(target: str, dataset_id: str, checks: list[dg.AssetCheckSpec]) -> dg.MaterializeResult:
    """Only the standby colour is written (the active one serves traffic); the other's checks say 'not applicable'."""
    note = {"skipped": f"{target} is not the standby colour; only the standby colour is synced"}
    return dg.MaterializeResult(
        metadata={"dataset_id": dataset_id, "applied": False, **note},
        check_results=[dg.AssetCheckResult(check_name=c.name, passed=True, metadata=note) for c in checks],
    )


def colour_metadata(state: ColourState, dataset_ids: dict[str, str]) -> dict:
    rows = [
        dg.TableRecord({"colour": c.colour, "dataset_id": c.dataset_id, "at": c.at, "reason": c.reason})
        for c in reversed(state.history)
    ]
    schema = dg.TableSchema(columns=[dg.TableColumn(n, "string") for n in ("colour", "dataset_id", "at", "reason")])
    active = state.active or "none"
    return {
        "active_colour": active,
        "active_dataset_id": dataset_ids.get(active, ""),
        "standby_colour": state.standby,
        "summary": dg.MetadataValue.md(
            f"**Active: {active}** (`{dataset_ids.get(active, '-')}`) · standby: {state.standby}"
        ),
        "history": dg.MetadataValue.table(rows[:50], schema=schema),
    }


def _active_colour_asset(settings: SyncSettings):
    dataset_ids = settings.targets()

    @dg.asset(
        name="active_colour",
        group_name=GROUP,
        kinds={"s3"},
        deps=["synced_dataset_blue", "synced_dataset_green"],
        pool=WRITE_POOL,
    )
    def active_colour(
        context: dg.AssetExecutionContext, s3: S3Resource, sync_webhook: SyncWebhookResource
    ) -> dg.MaterializeResult:
        """Which dataset serves. Promotes the colour this run synced, once its blocking checks passed."""
        client = s3.get_client()
        state = load_state(client, settings.bucket, settings.state_key)
        standby = state.standby
        synced = context.instance.get_latest_materialization_event(dg.AssetKey(f"synced_dataset_{standby}"))
        applied = synced is not None and synced.run_id == context.run.run_id and _was_applied(synced)
        if not applied:
            context.log.info(f"{standby} was not synced in this run; the active colour stays {state.active}")
            return dg.MaterializeResult(metadata={**colour_metadata(state, dataset_ids), "changed": False})
        now = datetime.now(UTC).isoformat(timespec="seconds")
        new_state = promote(state, standby, dataset_ids[standby], now, context.run.run_id)
        save_state(client, settings.bucket, settings.state_key, new_state)
        outcome = sync_webhook.notify(colour_change_payload("promoted", new_state, state, dataset_ids, now))
        context.log.info(f"promoted {standby}; {outcome}")
        return dg.MaterializeResult(
            metadata={**colour_metadata(new_state, dataset_ids), "changed": True, "webhook": outcome}
        )

    return active_colour


def _was_applied(event: dg.EventLogEntry) -> bool:
    materialization = event.asset_materialization
    value = materialization.metadata.get("applied") if materialization else None
    return bool(getattr(value, "value", False))


def colour_change_payload(event: str, new: ColourState, old: ColourState, dataset_ids: dict[str, str], at: str) -> dict:
    return {
        "event": event,
        "at": at,
        "active": {"colour": new.active, "dataset_id": dataset_ids.get(new.active or "", "")},
        "previous": {"colour": old.active, "dataset_id": dataset_ids.get(old.active or "", "")},
    }
