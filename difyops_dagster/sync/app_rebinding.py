"""The apps of `sync.apps` made to serve a colour through Dify's console, and what that did, for Dagster to show.

`switch_apps` brings every listed app to one colour, the way Dify's editor would: what the app *serves* is read
first (the published workflow of a workflow or chatflow app, the model configuration of a chat, completion or
agent app); an app already reading only that colour is left alone (nothing published, no new version). Otherwise
the draft is read, rebound (`app_binding.rebind_app`: only this sync's two dataset ids are replaced), written
back with the hash it came with, and published; a model configuration is posted whole. The app is then read back
and must serve the colour, or the switch counts as failed.

Order, and why the colour state stays consistent with what the apps serve (promotion.py uses this):

1. **apps first, then the state**: a promotion or a rollback switches every app, and only when all of them
   serve the new colour does it write the colour state. When any app cannot be switched (a wrong id, no
   knowledge-retrieval node or context naming either colour, the console refusing the login, a draft changed in
   the editor meanwhile: Dify's 409 `draft_workflow_not_sync`), the apps switched in this attempt are switched
   back (`undo=True`), the state is not written, and the step fails naming each app and why;
2. **a crash between the two** (apps switched, state not yet written) is repaired by the next run, because
   every run is level-triggered: `active_colour` runs in every sync run and either promotes (switching the
   apps to the colour it promotes, which they may already serve) or reconciles every app to the colour the
   state names; `reconcile_apps_job` does the same on its own.

One app failing never stops the others from being tried (the report lists each). Nothing here reads settings
globals: the app ids and dataset ids come from the caller's `SyncSettings`. Never logs or returns a password:
console errors (`DifyError`) name the endpoint and the account's e-mail only.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import dagster as dg
from dagster_aws.s3 import S3Resource

from difyops_dagster.dify.app_models import AppDetail
from difyops_dagster.dify.console import DifyConsoleClient
from difyops_dagster.dify.errors import DifyError
from difyops_dagster.dify.resource import DifyConsoleResource, DifyResource
from difyops_dagster.run_liveness import record_worker
from difyops_dagster.sync.app_binding import BindingError, ColourSwitch, Replacement, app_places, follows_colour
from difyops_dagster.sync.app_binding import rebind_app as rebind_config
from difyops_dagster.sync.colour import ColourState, load_state
from difyops_dagster.sync.config import SyncSettings
from difyops_dagster.sync.metadata import table
from difyops_dagster.sync.scope import SyncScope

APPS_CHECK = "apps_follow_active_colour"
RECONCILE_JOB = "reconcile_apps_job"
SWITCHED, FOLLOWED, FAILED, UNDONE = "switched", "already followed", "failed", "switched back"
APP_COLUMNS = ["app", "mode", "result", "before", "after", "replaced"]
HASH_CHARS = 12


@dataclass(frozen=True)
class AppOutcome:
    """One app after a switch: `before`/`after` name what it served (published version and draft hash, or the
    model configuration's time), `replaced` what was rewritten, `error` why it failed."""

    app_id: str
    name: str
    mode: str
    result: str
    before: str = "-"
    after: str = "-"
    replaced: tuple[Replacement, ...] = ()
    error: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.app_id})" if self.name else self.app_id

    def as_row(self, names: Mapping[str, str]) -> dict[str, str]:
        replaced = "; ".join(
            f"{r.title} ({r.where}): {_ids(r.before, names)} → {_ids(r.after, names)}" for r in self.replaced
        )
        result = f"{self.result}: {self.error}" if self.error else self.result
        return {
            "app": self.label,
            "mode": self.mode or "?",
            "result": result,
            "before": self.before,
            "after": self.after,
            "replaced": replaced or "-",
        }

    def as_payload(self) -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "name": self.name,
            "mode": self.mode,
            "result": self.result,
            "before": self.before,
            "after": self.after,
            "replaced": [r.as_row() for r in self.replaced],
            "error": self.error,
        }


def _ids(ids: Sequence[str], names: Mapping[str, str]) -> str:
    return ", ".join(f"{names[i]} ({i})" if i in names else i for i in ids) or "none"


@dataclass(frozen=True)
class AppsReport:
    """Every listed app after bringing them to `colour` (its dataset `dataset_id`)."""

    colour: str
    dataset_id: str
    outcomes: tuple[AppOutcome, ...]

    @property
    def failed(self) -> tuple[AppOutcome, ...]:
        return tuple(o for o in self.outcomes if o.result == FAILED)

    @property
    def ok(self) -> bool:
        return not self.failed

    def rows(self, names: Mapping[str, str]) -> list[dict[str, str]]:
        return [o.as_row(names) for o in self.outcomes]

    def summary(self) -> str:
        """One line for the log, the history and the failure: each app and what happened to it."""
        if not self.outcomes:
            return "no apps listed (sync.apps)"
        parts = [f"{o.label}: {o.result}" + (f" ({o.error})" if o.error else "") for o in self.outcomes]
        return f"apps to {self.colour}: " + "; ".join(parts)

    def failure(self) -> str:
        """Why the apps cannot follow `colour`, naming each app that failed."""
        names = "; ".join(f"{o.label}: {o.error}" for o in self.failed)
        return f"{len(self.failed)} app(s) of sync.apps could not be switched to {self.colour} — {names}"


@dataclass(frozen=True)
class _Served:
    detail: AppDetail
    config: dict[str, Any]
    version: str


def _moment(value: int | None) -> str:
    return "?" if value is None else datetime.fromtimestamp(value, UTC).isoformat(timespec="seconds")


def _served(console: DifyConsoleClient, app_id: str) -> _Served:
    detail = console.get_app(app_id)
    if detail.uses_workflow:
        published = console.get_published_workflow(app_id)
        if published is None:
            raise BindingError("the app was never published: publish it once in Dify first")
        return _Served(detail, published.graph, f"published {published.version}")
    if detail.model_config is None:
        raise BindingError(f"app mode {detail.mode!r} has no datasets to switch")
    return _Served(detail, detail.model_config, f"model config of {_moment(detail.model_config_updated_at)}")


def _write(console: DifyConsoleClient, served: _Served, switch: ColourSwitch, colour: str) -> tuple[Replacement, ...]:
    """Rebind the app to `switch.new` and write it as Dify's editor does: the draft with the hash it came with,
    then a publish (workflow modes), or the whole model configuration. What was replaced is returned."""
    app_id, mode = served.detail.id, served.detail.mode
    if not served.detail.uses_workflow:
        rebinding = rebind_config(mode, served.config, switch)
        console.update_model_config(app_id, rebinding.config)
        return rebinding.replacements
    draft = console.get_draft_workflow(app_id)
    rebinding = rebind_config(mode, draft.graph, switch)
    if rebinding.changed:
        console.sync_draft_workflow(app_id, draft, rebinding.config)
    comment = f"difyops_dagster: datasets switched to {colour} ({switch.new})"
    console.publish_workflow(app_id, marked_name=f"difyops: {colour}"[:20], marked_comment=comment[:100])
    return rebinding.replacements or _served_replacements(served, switch)


def _served_replacements(served: _Served, switch: ColourSwitch) -> tuple[Replacement, ...]:
    """What publishing changed when the draft already read `switch.new` (it was switched, not yet published)."""
    before = app_places(served.detail.mode, served.config)
    return tuple(
        Replacement(p.where, p.title, p.dataset_ids, switch.apply(p.dataset_ids))
        for p in before
        if switch.apply(p.dataset_ids) != p.dataset_ids
    )


def _draft_hash(console: DifyConsoleClient, served: _Served) -> str:
    if not served.detail.uses_workflow:
        return ""
    return f"; draft {console.get_draft_workflow(served.detail.id).hash[:HASH_CHARS]}"


def _error_text(exc: Exception) -> str:
    if isinstance(exc, DifyError) and exc.code == "draft_workflow_not_sync":
        return f"the draft was changed in Dify while it was being switched ({exc}); the next run tries again"
    return str(exc)


def switch_app(console: DifyConsoleClient, app_id: str, switch: ColourSwitch, colour: str) -> AppOutcome:
    """Make one app serve `switch.new`; an outcome (never an exception) for every Dify or binding error."""
    name = mode = ""
    try:
        served = _served(console, app_id)
        name, mode = served.detail.name, served.detail.mode
        if follows_colour(app_places(mode, served.config), switch):
            return AppOutcome(app_id, name, mode, FOLLOWED, served.version, served.version)
        before = served.version + _draft_hash(console, served)
        replaced = _write(console, served, switch, colour)
        after = _served(console, app_id)
        if not follows_colour(app_places(mode, after.config), switch):
            raise BindingError(f"after the switch the app still does not read only {colour} ({switch.new})")
        return AppOutcome(app_id, name, mode, SWITCHED, before, after.version + _draft_hash(console, after), replaced)
    except (DifyError, BindingError) as exc:
        return AppOutcome(app_id, name, mode, FAILED, error=_error_text(exc))


def switch_apps(
    console: DifyConsoleClient,
    app_ids: Sequence[str],
    dataset_ids: Mapping[str, str],
    colour: str,
    *,
    undo: bool,
    log: Callable[[str], None] = lambda _: None,
) -> AppsReport:
    """Bring every app to `colour` (of `dataset_ids`, this sync's two colours). With `undo`, when any app failed
    the ones switched here are switched back, so that all of them keep serving the other colour (the state's)."""
    other = next(c for c in dataset_ids if c != colour)
    switch = ColourSwitch(dataset_ids[other], dataset_ids[colour])
    try:
        if app_ids:
            console.login()
    except DifyError as exc:
        outcomes = tuple(AppOutcome(a, "", "", FAILED, error=f"console {exc}") for a in app_ids)
        return AppsReport(colour, switch.new, outcomes)
    outcomes = [switch_app(console, app_id, switch, colour) for app_id in app_ids]
    for outcome in outcomes:
        log(f"app {outcome.label}: {outcome.result}" + (f" ({outcome.error})" if outcome.error else ""))
    if undo and any(o.result == FAILED for o in outcomes):
        back = ColourSwitch(switch.new, switch.old)
        for index, outcome in enumerate(outcomes):
            if outcome.result == SWITCHED:
                undone = switch_app(console, outcome.app_id, back, other)
                error = None if undone.result != FAILED else f"switching it back to {other} failed: {undone.error}"
                outcomes[index] = replace(outcome, result=FAILED if error else UNDONE, error=error)
                log(f"app {outcome.label}: {outcomes[index].result}")
    return AppsReport(colour, switch.new, tuple(outcomes))


# --- the Dagster side: one call per step, the check on `active_colour`, the metadata


def rebind_apps(
    context: dg.OpExecutionContext,
    settings: SyncSettings,
    console: DifyConsoleResource,
    dify: DifyResource,
    colour: str,
    *,
    undo: bool,
) -> AppsReport:
    """`switch_apps` over `settings.apps` with a console client made for this step (none when no app is listed)."""
    dataset_ids = settings.targets()
    if not settings.apps:
        return AppsReport(colour, dataset_ids[colour], ())
    client = console.client(dify)
    try:
        return switch_apps(client, settings.apps, dataset_ids, colour, undo=undo, log=context.log.info)
    finally:
        client.close()


def apps_check_spec(asset: dg.AssetKey) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        APPS_CHECK,
        asset=asset,
        description="Every app of `sync.apps` serves the active colour (its knowledge-retrieval nodes or context "
        "name the active dataset, not the standby). Promotion and rollback switch the apps before they change "
        "the colour; every sync run reconciles them. A failure names each app; the colour is then not changed.",
    )


def apps_metadata(report: AppsReport, dataset_ids: Mapping[str, str]) -> dict[str, Any]:
    """A table of the apps (before, after, what was replaced) and a one-line summary."""
    names = {dataset_id: colour for colour, dataset_id in dataset_ids.items()}
    return {
        "apps": table(report.rows(names), APP_COLUMNS),
        "apps_summary": report.summary(),
    }


def apps_check_result(report: AppsReport, dataset_ids: Mapping[str, str], asset: dg.AssetKey) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=asset,
        check_name=APPS_CHECK,
        passed=report.ok,
        metadata=apps_metadata(report, dataset_ids),
        description=None if report.ok else report.failure(),
    )


def reconcile_apps_step(
    context: dg.OpExecutionContext,
    scope: SyncScope,
    state: ColourState,
    console: DifyConsoleResource,
    dify: DifyResource,
):
    """Level-triggered: every app of `sync.apps` serves the colour the state names (none yet: nothing to do)."""
    settings = scope.settings
    if not settings.apps or state.active is None:
        return
    report = rebind_apps(context, settings, console, dify, state.active, undo=False)
    context.log.info(report.summary())
    yield apps_check_result(report, settings.targets(), scope.key("active_colour"))
    if not report.ok:
        raise dg.Failure(description=report.failure(), allow_retries=False)


def build_reconcile_apps_job(scope: SyncScope) -> dg.JobDefinition:
    """`reconcile_apps_job`: what every sync run does to the apps, on its own (after an app was fixed in Dify, or
    to undo a hand edit at once)."""
    settings = scope.settings
    job_name = scope.named(RECONCILE_JOB)

    @dg.op(name=scope.op("reconcile_apps"), pool=scope.colour_pool)
    def reconcile_apps(
        context: dg.OpExecutionContext, s3: S3Resource, dify: DifyResource, dify_console: DifyConsoleResource
    ):
        """Switch every app of `sync.apps` to the colour the state names; fail naming the apps that cannot be."""
        record_worker(context)
        state = load_state(s3.get_client(), settings.bucket, settings.state_key)
        if state.active is None:
            context.log.info("no colour is active yet: the apps keep what they read until the first promotion")
        else:
            report = rebind_apps(context, settings, dify_console, dify, state.active, undo=False)
            context.log.info(report.summary())
            metadata = apps_metadata(report, settings.targets())
            yield dg.AssetObservation(asset_key=scope.key("active_colour"), metadata=metadata)
            if not report.ok:
                raise dg.Failure(description=report.failure(), allow_retries=False)
        yield dg.Output(None)

    @dg.job(
        name=job_name,
        description=f"Switch every app of `apps` to the active colour ({scope.label()}; each sync run does this "
        f"too). `dg launch --job {job_name}`.",
        tags={"difyops/feature": "sync"},
    )
    def reconcile_apps_job():
        reconcile_apps()

    return reconcile_apps_job
