"""One asset per configured workflow app: materializing it runs the workflow once and records what happened.

Retries, decided here rather than by a `RetryPolicy`: a policy re-runs the step after *any* exception, which
includes a bug in our own code after Dify already ran the workflow. The step instead asks for a retry
(`RetryRequested`, `retries` times, doubling `retry_wait_s`) only where Dify provably started nothing: reading
the app's form failed with no answer, a 429 or a 5xx, or the run request was refused with 429. Everything else
is a `Failure(allow_retries=False)`: a workflow that ran and failed, or was stopped, or may have started, is
never silently run again. (Retries of single HTTP requests happen earlier, inside the Dify client.)

The check `last_run_succeeded` is reported by every run that reached Dify, failed ones included, so the asset
shows at a glance whether the app's latest run worked. The pool `dify_workflow_<name>` (limit 1 through
`concurrency.pools.default_limit` in dagster.yaml) keeps two runs of one app from overlapping.
"""

import json
from collections.abc import Iterator
from typing import Any

import dagster as dg
from pydantic import Field

from difyops_dagster.dify.client import DifyAppClient
from difyops_dagster.dify.errors import DifyError
from difyops_dagster.workflows.config import WorkflowAppSettings
from difyops_dagster.workflows.inputs import check_inputs, describe_problems
from difyops_dagster.workflows.render import outputs_markdown, summarize_run
from difyops_dagster.workflows.run import (
    RunOutcome,
    WorkflowLostError,
    WorkflowStartError,
    run_blocking,
    run_streaming,
)

GROUP = "workflows"
CHECK = "last_run_succeeded"


class WorkflowAppResource(dg.ConfigurableResource):
    """One workflow app's API key, read from its environment variable at launch and never displayed."""

    api_key: str = Field(repr=False, description="The app's API key (app-…), from an environment variable.")


class WorkflowRunConfig(dg.Config):
    """Launchpad config of one run."""

    inputs: dict[str, Any] = Field(
        default_factory=dict,
        description="Inputs for this run; each overrides the app's default of the same name. "
        "Checked against the app's form before Dify is called.",
    )


def asset_name(app: WorkflowAppSettings) -> str:
    return f"workflow_run_{app.name}"


def resource_key(app: WorkflowAppSettings) -> str:
    return f"workflow_app_{app.name}"


def build_workflow_asset(app: WorkflowAppSettings) -> dg.AssetsDefinition:
    name, key = asset_name(app), resource_key(app)

    @dg.asset(
        name=name,
        group_name=GROUP,
        kinds={"dify"},
        description=_description(app),
        deps=[dg.AssetKey.from_user_string(upstream) for upstream in app.run_after],
        pool=f"dify_workflow_{app.name}",
        required_resource_keys={"dify", key},
        check_specs=[dg.AssetCheckSpec(CHECK, asset=name, description="The latest Dify run of this app succeeded.")],
        tags={"difyops/workflow_app": app.name},
    )
    def workflow_run(context: dg.AssetExecutionContext, config: WorkflowRunConfig) -> Iterator:
        client = context.resources.dify.app_client(getattr(context.resources, key).api_key)
        inputs = {**app.inputs, **config.inputs}
        _check_inputs(context, app, client, inputs)
        outcome = _run(context, app, client, inputs)
        yield from _report(context, app, inputs, outcome)

    return workflow_run


def _description(app: WorkflowAppSettings) -> str:
    what = app.description or f"Runs the Dify workflow app '{app.name}' once and records its outputs."
    defaults = json.dumps(app.inputs, ensure_ascii=False) if app.inputs else "none"
    when = f"`{app.schedule_cron}` ({app.schedule_timezone})" if app.schedule_cron else "on demand"
    return f"{what}\n\nMode {app.response_mode}, timeout {app.timeout_s:g} s, runs {when}. Default inputs: {defaults}."


def _check_inputs(
    context: dg.AssetExecutionContext, app: WorkflowAppSettings, client: DifyAppClient, inputs: dict[str, Any]
) -> None:
    try:
        form = client.parameters().user_input_form
    except DifyError as exc:
        if exc.retryable:
            raise _retry(context, app, f"could not read the app's input form: {exc}") from exc
        hint = f" (check the key in ${app.api_key.env})" if exc.status in (401, 403) else ""
        raise dg.Failure(
            f"could not read the input form of workflow app '{app.name}': {exc}{hint}", allow_retries=False
        ) from None
    problems = check_inputs(form, inputs)
    if problems:
        raise dg.Failure(
            description=f"bad inputs for workflow app '{app.name}': {describe_problems(problems)}",
            metadata={"inputs": dg.MetadataValue.json(inputs)},
            allow_retries=False,
        )


def _run(
    context: dg.AssetExecutionContext, app: WorkflowAppSettings, client: DifyAppClient, inputs: dict[str, Any]
) -> RunOutcome:
    context.log.info(f"running Dify workflow app '{app.name}' ({app.response_mode}) with inputs {sorted(inputs)}")
    try:
        if app.response_mode == "blocking":
            return run_blocking(client, inputs, user=app.user, timeout_s=app.timeout_s, log=context.log)
        return run_streaming(client, inputs, user=app.user, timeout_s=app.timeout_s, log=context.log)
    except WorkflowStartError as exc:
        if exc.retry_safe:
            raise _retry(context, app, str(exc)) from exc
        raise dg.Failure(f"workflow app '{app.name}': {exc}", allow_retries=False) from None
    except (DifyError, WorkflowLostError) as exc:
        raise dg.Failure(f"workflow app '{app.name}' lost track of its run: {exc}", allow_retries=False) from None


def _retry(context: dg.AssetExecutionContext, app: WorkflowAppSettings, why: str) -> dg.RetryRequested:
    wait = app.retry_wait_s * 2**context.retry_number
    context.log.warning(f"{why}; Dify started nothing, so the step is tried again in {wait:g} s")
    return dg.RetryRequested(max_retries=app.retries, seconds_to_wait=wait)


def _report(
    context: dg.AssetExecutionContext, app: WorkflowAppSettings, inputs: dict[str, Any], outcome: RunOutcome
) -> Iterator:
    run = outcome.run
    context.log.info(summarize_run(run))
    metadata = {
        "status": run.status,
        "workflow_run_id": run.id,
        "task_id": outcome.task_id or "",
        "elapsed_s": dg.MetadataValue.float(round(run.elapsed_time, 3)),
        "total_tokens": dg.MetadataValue.int(run.total_tokens),
        "total_steps": dg.MetadataValue.int(run.total_steps),
        "outputs": dg.MetadataValue.md(outputs_markdown(run, outcome.streamed_text)),
        "outputs_json": dg.MetadataValue.json(run.outputs or {}),
        "inputs": dg.MetadataValue.json(inputs),
        "response_mode": app.response_mode,
    }
    succeeded = run.status in ("succeeded", "partial-succeeded")
    if succeeded:
        yield dg.MaterializeResult(metadata=metadata)
    yield dg.AssetCheckResult(
        check_name=CHECK,
        passed=run.status == "succeeded",
        severity=dg.AssetCheckSeverity.WARN if succeeded else dg.AssetCheckSeverity.ERROR,
        metadata={"status": run.status, "workflow_run_id": run.id, "error": run.error or ""},
    )
    if succeeded:
        return
    what = f"timed out after {app.timeout_s:g} s and was stopped" if outcome.timed_out else run.status
    raise dg.Failure(
        description=f"Dify workflow app '{app.name}' {what}: {run.error or 'Dify gave no error text'} (run {run.id})",
        metadata=metadata,
        allow_retries=False,
    )
