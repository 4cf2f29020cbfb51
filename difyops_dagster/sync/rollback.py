"""Rollback: make the previous colour active again at once. Nothing is uploaded; the UI's launchpad runs it."""

from datetime import UTC, datetime

import dagster as dg
from dagster_aws.s3 import S3Resource

from difyops_dagster.sync.assets import colour_change_payload, colour_metadata
from difyops_dagster.sync.colour import load_state, rollback, save_state
from difyops_dagster.sync.config import SyncSettings
from difyops_dagster.sync.resources import SyncWebhookResource


def build_rollback_job(settings: SyncSettings) -> dg.JobDefinition:
    dataset_ids = settings.targets()

    @dg.op(name="rollback_active_colour", tags={"kind": "s3"})
    def rollback_active_colour(context: dg.OpExecutionContext, s3: S3Resource, sync_webhook: SyncWebhookResource):
        client = s3.get_client()
        state = load_state(client, settings.bucket, settings.state_key)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            new_state = rollback(state, dataset_ids, now, context.run.run_id)
        except ValueError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        save_state(client, settings.bucket, settings.state_key, new_state)
        outcome = sync_webhook.notify(colour_change_payload("rolled_back", new_state, state, dataset_ids, now))
        context.log.info(f"rolled back from {state.active} to {new_state.active}; {outcome}")
        yield dg.AssetMaterialization(
            asset_key="active_colour",
            description=f"rollback from {state.active}",
            metadata={**colour_metadata(new_state, dataset_ids), "changed": True, "webhook": outcome},
        )
        yield dg.Output(None)

    @dg.job(name="rollback_colour_job", description="Make the previous colour active again (no re-upload).")
    def rollback_colour_job():
        rollback_active_colour()

    return rollback_colour_job
