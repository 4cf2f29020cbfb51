"""Which colour serves: `active_colour` promotes the colour a run synced; the rollback and release jobs.

With `sync.apps`, a promotion or a rollback switches the listed Dify apps first and writes the state only once
every app serves the new colour; a run that promotes nothing brings the apps back to the state's colour
(app_rebinding.py says why this order keeps the state and the apps consistent, even across a crash).

The state is one JSON object in the bucket (`colour.py`), written whole with one PUT after the decision, never
before the sync (seed 000 flipped its flag first, so a failed run left traffic on a broken dataset).

`active_colour` is a graph-backed asset so that it can take both `synced_dataset_*` through one fan-in input:
its op runs when the colour this run synced was materialized and passed its checks (the other colour's steps
were skipped: assets.py), is not run when that step failed, and is skipped when the run wrote nothing. It then
judges only its own run: the standby's `synced_dataset` must have been materialized in this very run, and every
gate check of it must have passed in this run (read from this run's events, never from the instance's latest
records, which may belong to another run); so a partial selection (only `active_colour` launched) can never
promote an unchecked colour. It materializes only when the colour changed, with the bucket digest the colour was
synced from: later runs on that same bucket content write and promote nothing, and trigger nothing downstream.

A rollback makes the previous colour active at once and holds promotion: the colour rolled away from is not
promoted again from the same bucket content until `release_colour_hold_job` runs or the bucket changes. Both
changes POST the dataset ids to the configured webhook; the hold and how to release it show on `active_colour`.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

import dagster as dg
from dagster_aws.s3 import S3Resource

from difyops_dagster.dify.resource import DifyConsoleResource, DifyResource
from difyops_dagster.run_liveness import record_worker
from difyops_dagster.sync.app_rebinding import (
    AppsReport,
    apps_check_result,
    apps_check_spec,
    apps_metadata,
    rebind_apps,
    reconcile_apps_step,
)
from difyops_dagster.sync.apply import read_dataset
from difyops_dagster.sync.colour import ColourState, load_state, promote, release, rollback, save_state
from difyops_dagster.sync.config import SyncSettings
from difyops_dagster.sync.listing import dataset_digest
from difyops_dagster.sync.metadata import table
from difyops_dagster.sync.resources import SyncWebhookResource
from difyops_dagster.sync.retrieval_check import gate_check_names
from difyops_dagster.sync.runs import ROLLBACK_JOB, sync_run_in_flight, sync_target
from difyops_dagster.sync.scope import SyncScope

WEBHOOK_CHECK = "webhook_delivered"
RELEASE_JOB = "release_colour_hold_job"


def hold_text(state: ColourState, release_job: str = RELEASE_JOB) -> str:
    if state.hold is None:
        return "none: the next sync that finds the bucket changed promotes the colour it synced"
    hold = state.hold
    return (
        f"promotion held since {hold.at} ({hold.reason}, run {hold.run_id}): {hold.colour} is not promoted again "
        f"from the bucket content it was synced from. Release it with `dg launch --job {release_job}` (or the "
        "UI's Launchpad), or change the bucket."
    )


def colour_metadata(state: ColourState, dataset_ids: dict[str, str], release_job: str = RELEASE_JOB) -> dict[str, Any]:
    history = [
        {"at": c.at, "colour": c.colour, "dataset_id": c.dataset_id, "reason": c.reason, "run_id": c.run_id}
        | ({"apps": c.apps} if c.apps else {})
        for c in reversed(state.history)
    ]
    columns = ["at", "colour", "dataset_id", "reason", "run_id"] + (
        ["apps"] if any(h.get("apps") for h in history) else []
    )
    active = state.active or "none"
    held = " · **promotion held** (see `hold`)" if state.hold else ""
    return {
        "active_colour": active,
        "active_dataset_id": dataset_ids.get(active, ""),
        "standby_colour": state.standby,
        "standby_dataset_id": dataset_ids[state.standby],
        "hold": hold_text(state, release_job),
        "summary": dg.MetadataValue.md(
            f"**Active: {active}** (`{dataset_ids.get(active, '-')}`) · standby: {state.standby} "
            f"(`{dataset_ids[state.standby]}`){held}"
        ),
        "history": table(history, columns),
    }


def colour_change_payload(
    event: str,
    new: ColourState,
    old: ColourState,
    settings: SyncSettings,
    at: str,
    run_id: str,
    apps: AppsReport | None = None,
    sync_name: str | None = None,
) -> dict[str, Any]:
    """What the webhook receives; `apps` lists each app of `sync.apps` and what the change did to it; a sync of
    `syncs:` also says its name (`sync`)."""
    ids = settings.targets()
    return ({"sync": sync_name} if sync_name else {}) | {
        "event": event,
        "event_id": str(uuid.uuid4()),
        "at": at,
        "run_id": run_id,
        "active": {"colour": new.active, "dataset_id": ids.get(new.active or "", "")},
        "previous": {"colour": old.active, "dataset_id": ids.get(old.active or "") if old.active else None},
        "datasets": ids,
        "source": f"s3://{settings.bucket}/{settings.prefix}",
        "apps": [o.as_payload() for o in apps.outcomes] if apps else [],
    }


def _webhook_result(delivery, asset_key: dg.AssetKey) -> tuple[dg.AssetCheckResult, str]:
    if delivery is None:
        note = "no webhook configured"
        metadata = {"webhook": note}
        return dg.AssetCheckResult(asset_key=asset_key, check_name=WEBHOOK_CHECK, passed=True, metadata=metadata), note
    result = dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=WEBHOOK_CHECK,
        passed=delivery.delivered,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"webhook": delivery.detail},
        description=None if delivery.delivered else f"the router was not told: {delivery.detail}",
    )
    return result, delivery.detail


def own_run_verdict(
    instance: dg.DagsterInstance, run_id: str, scope: SyncScope, colour: str, required: list[str]
) -> tuple[str | None, str]:
    """(why `colour` may not be promoted by run `run_id`, or None; the digest it was synced from), judged from
    this run's own events only: `required` checks of its `synced_dataset` (`gate_check_names`) must have passed."""
    asset_key = scope.key(f"synced_dataset_{colour}")
    name = asset_key.to_user_string()
    kinds = {dg.DagsterEventType.ASSET_MATERIALIZATION, dg.DagsterEventType.ASSET_CHECK_EVALUATION}
    materialization = None
    passed: dict[str, bool] = {}
    for record in instance.get_records_for_run(run_id, of_type=kinds).records:
        event = record.event_log_entry.dagster_event
        if event is None:
            continue
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.asset_check_evaluation_data
            if evaluation.asset_key == asset_key:
                passed[evaluation.check_name] = evaluation.passed
        elif event.asset_key == asset_key:
            materialization = record.event_log_entry.asset_materialization
    if materialization is None:
        return f"{name} was not materialized in this run", ""
    failed = [name for name in required if not passed.get(name)]
    if failed:
        return f"check(s) {', '.join(failed)} of {name} did not pass in this run", ""
    digest = materialization.metadata.get("source_digest")
    return None, str(digest.value) if digest is not None else ""


def resource_keys(scope: SyncScope) -> set[str]:
    """What a colour-changing step uses; the webhook is this sync's own (`sync_webhook_<name>`: its own URL)."""
    return {"s3", "dify", "dify_console", scope.webhook_resource}


def _resources(
    context: dg.OpExecutionContext, scope: SyncScope
) -> tuple[Any, DifyResource, DifyConsoleResource, SyncWebhookResource]:
    """(the S3 client: `context.resources.s3` is what `S3Resource` creates, the Dify resources, the webhook)."""
    r = context.resources
    return r.s3, r.dify, r.dify_console, getattr(r, scope.webhook_resource)


def build_active_colour_asset(scope: SyncScope) -> dg.AssetsDefinition:
    settings = scope.settings
    dataset_ids = settings.targets()
    required = gate_check_names(settings)
    release_job = scope.named(RELEASE_JOB)
    asset_key = scope.key("active_colour")
    webhook_spec = dg.AssetCheckSpec(
        WEBHOOK_CHECK, asset=asset_key, description="The webhook received the last colour change."
    )
    # the graph outputs Dagster maps the checks to (`<asset key as identifier>_<check>`)
    outs = {
        "result": dg.Out(dg.Nothing, is_required=False),
        webhook_spec.get_python_identifier(): dg.Out(dg.Nothing, is_required=False),
    }
    specs = [webhook_spec]
    sources = {
        colour: dg.AssetIn(scope.key(f"synced_dataset_{colour}"), dagster_type=dg.Nothing)
        for colour in ("blue", "green")
    }
    if settings.apps:
        # the listing joins the fan-in so that the step also runs in the runs that write nothing: it then
        # reconciles the apps (a fan-in step is skipped only when none of its sources yielded: assets.py)
        apps_spec = apps_check_spec(asset_key)
        outs[apps_spec.get_python_identifier()] = dg.Out(dg.Nothing, is_required=False)
        specs.append(apps_spec)
        sources["listing"] = dg.AssetIn(scope.key("s3_objects"), dagster_type=dg.Nothing)

    @dg.op(
        name=scope.op("promote_synced_colour"),
        ins={"synced": dg.In(dg.Nothing)},
        out=outs,
        pool=scope.colour_pool,
        required_resource_keys=resource_keys(scope),
    )
    def promote_synced_colour(context: dg.OpExecutionContext):
        """Promote the standby colour if this run synced it and every one of its checks passed in this run: its
        apps first, then the state; otherwise keep the apps on the active colour."""
        record_worker(context)
        client, dify, dify_console, sync_webhook = _resources(context, scope)
        state = load_state(client, settings.bucket, settings.state_key)
        standby = state.standby
        refusal, digest = own_run_verdict(context.instance, context.run.run_id, scope, standby, required)
        if refusal is not None:
            context.log.info(f"nothing promoted; the active colour stays {state.active or 'unset'}: {refusal}")
            yield from reconcile_apps_step(context, scope, state, dify_console, dify)
            return
        apps = rebind_apps(context, settings, dify_console, dify, standby, undo=True)
        if not apps.ok:
            yield apps_check_result(apps, dataset_ids, asset_key)
            raise dg.Failure(
                description=f"{standby} is not promoted ({state.active or 'no colour'} stays active, and so do the "
                f"apps): {apps.failure()}",
                allow_retries=False,
            )
        now = datetime.now(UTC).isoformat(timespec="seconds")
        summary = apps.summary() if settings.apps else ""
        new_state = promote(state, standby, dataset_ids[standby], now, context.run.run_id, digest, summary)
        save_state(client, settings.bucket, settings.state_key, new_state)
        run_id = context.run.run_id
        payload = colour_change_payload("promoted", new_state, state, settings, now, run_id, apps, scope.name)
        check, detail = _webhook_result(sync_webhook.notify(payload), asset_key)
        context.log.info(f"promoted {standby} ({dataset_ids[standby]}); webhook {detail}")
        metadata = {**colour_metadata(new_state, dataset_ids, release_job), "changed": True, "webhook": detail}
        if settings.apps:
            metadata.update(apps_metadata(apps, dataset_ids))
        yield dg.Output(None, "result", metadata=metadata)
        yield check
        if settings.apps:
            yield apps_check_result(apps, dataset_ids, asset_key)

    def promote_with_apps(blue, green, listing):
        return dict(zip(outs, promote_synced_colour(synced=[blue, green, listing]), strict=True))

    def promote_colour(blue, green):
        return dict(zip(outs, promote_synced_colour(synced=[blue, green]), strict=True))

    active_colour = dg.graph_asset(
        name="active_colour",
        key_prefix=scope.key_prefix,
        group_name=scope.group,
        kinds={"s3"},
        ins=sources,
        check_specs=specs,
        description="Which dataset serves, with the history of changes and any promotion hold. Materialized when "
        "the colour changes: a sync that synced the standby and passed every check in the same run promotes it; "
        f"a rollback (`{scope.named(ROLLBACK_JOB)}`) returns to the previous colour; `{release_job}` lifts a hold. "
        "The state "
        "is one object in the bucket, written atomically. With `sync.apps`, the listed Dify apps are switched "
        "to the new colour before the state is written, and every sync run brings them back to the active colour.",
    )(promote_with_apps if settings.apps else promote_colour)
    return active_colour


class RollbackConfig(dg.Config):
    reason: str = "manual rollback"


def _refuse_during_sync(context: dg.OpExecutionContext, scope: SyncScope) -> None:
    target = sync_target(scope.settings.targets())
    running = sync_run_in_flight(context.instance, target, context.log.info, skip=context.run.run_id)
    if running:
        raise dg.Failure(
            description=f"a sync run ({running}) is writing the standby colour; try again after it ends "
            "(or terminate it first), so the colour being written never serves",
            allow_retries=False,
        )


def build_rollback_job(scope: SyncScope) -> dg.JobDefinition:
    settings = scope.settings
    dataset_ids = settings.targets()
    release_job, rollback_job = scope.named(RELEASE_JOB), scope.named(ROLLBACK_JOB)

    @dg.op(
        name=scope.op("rollback_active_colour"),
        pool=scope.colour_pool,
        required_resource_keys=resource_keys(scope),
    )
    def rollback_active_colour(context: dg.OpExecutionContext, config: RollbackConfig):
        """Make the previous colour active again at once (nothing is uploaded) and hold promotion, once its dataset
        is seen to hold exactly what it served (a sync killed while writing it leaves it half-written). The apps of
        `sync.apps` are switched back first; if one cannot be, nothing changes and the step names it."""
        record_worker(context)
        _refuse_during_sync(context, scope)
        client, dify, dify_console, sync_webhook = _resources(context, scope)
        state = load_state(client, settings.bucket, settings.state_key)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            new_state = rollback(state, dataset_ids, now, context.run.run_id, config.reason)
        except ValueError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        target = new_state.active or ""
        if new_state.served_digest:
            held = dataset_digest(read_dataset(dify.dataset_client(), dataset_ids[target]).documents)
            if held != new_state.served_digest:
                raise dg.Failure(
                    description=f"{target} no longer holds what it served (a sync was interrupted while writing "
                    f"it, or it was edited in Dify): rolling back to it would serve that. Let the next sync "
                    f"repair it (it writes {target} and promotes it), then roll back from there.",
                    allow_retries=False,
                )
        apps = rebind_apps(context, settings, dify_console, dify, target, undo=True)
        if not apps.ok:
            raise dg.Failure(
                description=f"not rolled back ({state.active} stays active, and so do the apps): {apps.failure()}",
                allow_retries=False,
            )
        if settings.apps:
            new_state = rollback(state, dataset_ids, now, context.run.run_id, config.reason, apps.summary())
        save_state(client, settings.bucket, settings.state_key, new_state)
        run_id = context.run.run_id
        payload = colour_change_payload("rolled_back", new_state, state, settings, now, run_id, apps, scope.name)
        delivery = sync_webhook.notify(payload)
        detail = delivery.detail if delivery else "no webhook configured"
        context.log.info(f"rolled back from {state.active} to {new_state.active}; webhook {detail}")
        context.log.info(hold_text(new_state, release_job))
        metadata = {**colour_metadata(new_state, dataset_ids, release_job), "changed": True, "webhook": detail}
        if settings.apps:
            metadata.update(apps_metadata(apps, dataset_ids))
        yield dg.AssetMaterialization(
            asset_key=scope.key("active_colour"),
            description=f"rollback from {state.active} to {new_state.active}; promotion held",
            metadata=metadata,
        )
        if delivery is not None and not delivery.delivered:
            context.log.warning(f"the webhook was not told about the rollback: {detail}")
        yield dg.Output(None)

    @dg.job(
        name=rollback_job,
        description=f"Make the previous colour active again at once (no re-upload) and hold promotion until "
        f"`{release_job}` runs or the bucket changes ({scope.label()}). Launch it from the UI's Launchpad or "
        f"`dg launch --job {rollback_job}`.",
        tags={"difyops/feature": "sync"},
    )
    def rollback_colour_job():
        rollback_active_colour()

    return rollback_colour_job


def build_release_job(scope: SyncScope) -> dg.JobDefinition:
    settings = scope.settings
    dataset_ids = settings.targets()
    release_job = scope.named(RELEASE_JOB)

    @dg.op(name=scope.op("release_promotion_hold"), pool=scope.colour_pool)
    def release_promotion_hold(context: dg.OpExecutionContext, s3: S3Resource):
        """Lift the promotion hold a rollback set: the next sync promotes the colour it syncs again."""
        record_worker(context)
        _refuse_during_sync(context, scope)
        client = s3.get_client()
        state = load_state(client, settings.bucket, settings.state_key)
        try:
            new_state = release(state)
        except ValueError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        save_state(client, settings.bucket, settings.state_key, new_state)
        context.log.info(f"promotion hold released; {new_state.active} stays active until the next sync")
        yield dg.AssetMaterialization(
            asset_key=scope.key("active_colour"),
            description="promotion hold released",
            metadata={**colour_metadata(new_state, dataset_ids, release_job), "changed": False},
        )
        yield dg.Output(None)

    @dg.job(
        name=release_job,
        description="Lift the promotion hold a rollback set, so the next sync promotes the colour it syncs even "
        f"from an unchanged bucket ({scope.label()}). `dg launch --job {release_job}`.",
        tags={"difyops/feature": "sync"},
    )
    def release_colour_hold_job():
        release_promotion_hold()

    return release_colour_hold_job
