"""Which colour serves: `active_colour` promotes the standby after its checks passed; the rollback job flips back.

The state is one JSON object in the bucket (`colour.py`), written whole with one PUT after the decision, never
before the sync (seed 000 flipped its flag first, so a failed run left traffic on a broken dataset). Promotion
requires, in this very run, the standby's `synced_dataset` to have been applied and every one of its blocking
checks to have passed; Dagster already skips `active_colour` when one fails, and the asset checks it again
from the event log, so a partial selection (only `active_colour` launched) can never promote an unchecked colour.
Both changes POST the dataset ids to the configured webhook.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

import dagster as dg
from dagster_aws.s3 import S3Resource

from difyops_dagster.sync.assets import GROUP
from difyops_dagster.sync.checks import GATE_CHECKS
from difyops_dagster.sync.colour import ColourState, load_state, promote, rollback, save_state
from difyops_dagster.sync.config import SyncSettings
from difyops_dagster.sync.metadata import table
from difyops_dagster.sync.resources import SyncWebhookResource
from difyops_dagster.sync.runs import ROLLBACK_JOB, sync_run_in_flight

COLOUR_POOL = "sync_colour"
WEBHOOK_CHECK = "webhook_delivered"


def colour_metadata(state: ColourState, dataset_ids: dict[str, str]) -> dict[str, Any]:
    history = [
        {"at": c.at, "colour": c.colour, "dataset_id": c.dataset_id, "reason": c.reason, "run_id": c.run_id}
        for c in reversed(state.history)
    ]
    active = state.active or "none"
    return {
        "active_colour": active,
        "active_dataset_id": dataset_ids.get(active, ""),
        "standby_colour": state.standby,
        "standby_dataset_id": dataset_ids[state.standby],
        "summary": dg.MetadataValue.md(
            f"**Active: {active}** (`{dataset_ids.get(active, '-')}`) · standby: {state.standby} "
            f"(`{dataset_ids[state.standby]}`)"
        ),
        "history": table(history, ["at", "colour", "dataset_id", "reason", "run_id"]),
    }


def colour_change_payload(
    event: str, new: ColourState, old: ColourState, settings: SyncSettings, at: str, run_id: str
) -> dict[str, Any]:
    ids = settings.targets()
    return {
        "event": event,
        "event_id": str(uuid.uuid4()),
        "at": at,
        "run_id": run_id,
        "active": {"colour": new.active, "dataset_id": ids.get(new.active or "", "")},
        "previous": {"colour": old.active, "dataset_id": ids.get(old.active or "") if old.active else None},
        "datasets": ids,
        "source": f"s3://{settings.bucket}/{settings.prefix}",
    }


def _webhook_result(delivery) -> tuple[dg.AssetCheckResult, str]:
    if delivery is None:
        note = "no webhook configured"
        return dg.AssetCheckResult(check_name=WEBHOOK_CHECK, passed=True, metadata={"webhook": note}), note
    result = dg.AssetCheckResult(
        check_name=WEBHOOK_CHECK,
        passed=delivery.delivered,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"webhook": delivery.detail},
        description=None if delivery.delivered else f"the router was not told: {delivery.detail}",
    )
    return result, delivery.detail


def _standby_passed(context: dg.AssetExecutionContext, standby: str) -> tuple[bool, str]:
    """Was the standby synced in this run, and did each of its blocking checks pass in this run?"""
    asset_key = dg.AssetKey(f"synced_dataset_{standby}")
    event = context.instance.get_latest_materialization_event(asset_key)
    if event is None or event.run_id != context.run.run_id:
        return False, f"synced_dataset_{standby} was not materialized in this run"
    applied = event.asset_materialization.metadata.get("applied") if event.asset_materialization else None
    if not getattr(applied, "value", False):
        return False, f"synced_dataset_{standby} did not write {standby} in this run"
    for name in GATE_CHECKS:
        record = context.instance.get_latest_asset_check_evaluation_record(dg.AssetCheckKey(asset_key, name))
        evaluation = record.evaluation if record else None
        if record is None or record.run_id != context.run.run_id or evaluation is None or not evaluation.passed:
            return False, f"check {name} of synced_dataset_{standby} did not pass in this run"
    return True, "every check passed"


def build_active_colour_asset(settings: SyncSettings) -> dg.AssetsDefinition:
    dataset_ids = settings.targets()

    @dg.asset(
        name="active_colour",
        group_name=GROUP,
        kinds={"s3"},
        deps=["synced_dataset_blue", "synced_dataset_green"],
        pool=COLOUR_POOL,
        check_specs=[
            dg.AssetCheckSpec(
                WEBHOOK_CHECK, asset="active_colour", description="The webhook received the last colour change."
            )
        ],
    )
    def active_colour(
        context: dg.AssetExecutionContext, s3: S3Resource, sync_webhook: SyncWebhookResource
    ) -> dg.MaterializeResult:
        """Which dataset serves. Promotes the colour this run synced, once every one of its checks passed; the
        state (with its history) is an object in the bucket, written atomically."""
        client = s3.get_client()
        state = load_state(client, settings.bucket, settings.state_key)
        standby = state.standby
        ok, why = _standby_passed(context, standby)
        if not ok:
            context.log.info(f"the active colour stays {state.active}: {why}")
            note = dg.AssetCheckResult(check_name=WEBHOOK_CHECK, passed=True, metadata={"webhook": "no change"})
            return dg.MaterializeResult(
                metadata={**colour_metadata(state, dataset_ids), "changed": False, "reason": why},
                check_results=[note],
            )
        now = datetime.now(UTC).isoformat(timespec="seconds")
        new_state = promote(state, standby, dataset_ids[standby], now, context.run.run_id)
        save_state(client, settings.bucket, settings.state_key, new_state)
        payload = colour_change_payload("promoted", new_state, state, settings, now, context.run.run_id)
        check, detail = _webhook_result(sync_webhook.notify(payload))
        context.log.info(f"promoted {standby} ({dataset_ids[standby]}); webhook {detail}")
        return dg.MaterializeResult(
            metadata={**colour_metadata(new_state, dataset_ids), "changed": True, "webhook": detail},
            check_results=[check],
        )

    return active_colour


class RollbackConfig(dg.Config):
    reason: str = "manual rollback"


def build_rollback_job(settings: SyncSettings) -> dg.JobDefinition:
    dataset_ids = settings.targets()

    @dg.op(name="rollback_active_colour", pool=COLOUR_POOL)
    def rollback_active_colour(
        context: dg.OpExecutionContext, config: RollbackConfig, s3: S3Resource, sync_webhook: SyncWebhookResource
    ):
        """Make the previous colour active again at once; nothing is uploaded."""
        running = sync_run_in_flight(context.instance)
        if running:
            raise dg.Failure(
                description=f"a sync run ({running}) is writing the standby colour; roll back after it ends "
                "(or terminate it first), so the colour being written never serves",
                allow_retries=False,
            )
        client = s3.get_client()
        state = load_state(client, settings.bucket, settings.state_key)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            new_state = rollback(state, dataset_ids, now, context.run.run_id, config.reason)
        except ValueError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        save_state(client, settings.bucket, settings.state_key, new_state)
        payload = colour_change_payload("rolled_back", new_state, state, settings, now, context.run.run_id)
        delivery = sync_webhook.notify(payload)
        detail = delivery.detail if delivery else "no webhook configured"
        context.log.info(f"rolled back from {state.active} to {new_state.active}; webhook {detail}")
        yield dg.AssetMaterialization(
            asset_key="active_colour",
            description=f"rollback from {state.active} to {new_state.active}",
            metadata={**colour_metadata(new_state, dataset_ids), "changed": True, "webhook": detail},
        )
        if delivery is not None and not delivery.delivered:
            context.log.warning(f"the webhook was not told about the rollback: {detail}")
        yield dg.Output(None)

    @dg.job(
        name=ROLLBACK_JOB,
        description="Make the previous colour active again at once (no re-upload). Launch it from the UI's "
        "Launchpad or `dg launch --job rollback_colour_job`.",
        tags={"difyops/feature": "sync"},
    )
    def rollback_colour_job():
        rollback_active_colour()

    return rollback_colour_job
