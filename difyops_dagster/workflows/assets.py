"""One asset per configured workflow app: materializing it runs the workflow once and records the result.

A Dify run that failed or was stopped fails the materialization with Dify's error text and is not retried;
only transport trouble before Dify accepted the run is retried (the `RetryPolicy`). Terminating the Dagster
run stops the Dify task. The pool `dify_workflow_<name>` (limit 1 in dagster.yaml) keeps runs of one app from
stacking up behind a slow workflow.
"""

from typing import Any

import dagster as dg
from pydantic import Field

from difyops_dagster.dify.errors import DifyError
from difyops_dagster.dify.resource import DifyResource
from difyops_dagster.workflows.config import WorkflowAppSettings
from difyops_dagster.workflows.inputs import input_errors
from difyops_dagster.workflows.render import outputs_markdown, run_metadata
from difyops_dagster.workflows.run import RunProgress, WorkflowTimeout, run_workflow

GROUP = "workflows"
TRANSPORT_RETRY = dg.RetryPolicy(max_retries=2, delay=10, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


class WorkflowAppResource(dg.ConfigurableResource):
    """One workflow app's key (from an environment variable; never shown)."""

    api_key: str = Field(repr=False, description="The app's API key.")


class WorkflowRunConfig(dg.Config):
    """Launchpad config: inputs override the app's defaults, key by key."""

    inputs: dict[str, Any] = Field(
        default_factory=dict, description="Workflow inputs, validated against the app's form."
    )


def asset_name(app: WorkflowAppSettings) -> str:
    return f"workflow_run_{app.name}"


def resource_key(app: WorkflowAppSettings) -> str:
    return f"workflow_app_{app.name}"


def build_workflow_asset(app: WorkflowAppSettings) -> dg.AssetsDefinition:
    key = resource_key(app)

    @dg.asset(
        name=asset_name(app),
        group_name=GROUP,
        kinds={"dify"},
        description=app.description or f"Runs the Dify workflow app '{app.name}' once and records its outputs.",
        deps=[dg.AssetKey.from_user_string(k) for k in app.run_after],
        pool=f"dify_workflow_{app.name}",
        retry_policy=TRANSPORT_RETRY,
        required_resource_keys={key, "dify"},
        check_specs=[
            dg.AssetCheckSpec("outputs_not_empty", asset=asset_name(app), description="The run produced outputs.")
        ],
        tags={"difyops/app": app.name},
    )
    def workflow_run(context: dg.AssetExecutionContext, config: WorkflowRunConfig):
        dify: DifyResource = context.resources.dify
        client = dify.app_client(getattr(context.resources, key).api_key)
        inputs = {**app.inputs, **config.inputs}
        errors = input_errors(client.parameters().user_input_form, inputs)
        if errors:
            raise dg.Failure(description="; ".join(errors), allow_retries=False)
        progress = RunProgress()
        try:
            run = run_workflow(
                client,
                inputs,
                user=app.user,
                streaming=app.response_mode == "streaming",
                timeout_s=app.timeout_s,
                progress=progress,
                log=context.log.info,
            )
        except WorkflowTimeout as exc:
            _stop(client, app, progress, context)
            raise dg.Failure(description=f"{exc}; the Dify task was stopped", allow_retries=False) from None
        except DifyError as exc:
            if progress.task_id is None and exc.retryable:
                raise  # Dify never accepted the run: the retry policy may try again
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        except BaseException:  # the Dagster run is being terminated (KeyboardInterrupt / interrupted error)
            _stop(client, app, progress, context)
            raise
        metadata = {**run_metadata(run, progress.task_id), "outputs": dg.MetadataValue.md(outputs_markdown(run))}
        if run.status != "succeeded":
            raise dg.Failure(
                description=f"Dify workflow {run.status}: {run.error or 'no error text'}",
                metadata=metadata,
                allow_retries=False,
            )
        yield dg.MaterializeResult(metadata={**metadata, "outputs_json": dg.MetadataValue.json(run.outputs or {})})
        yield dg.AssetCheckResult(
            check_name="outputs_not_empty", passed=bool(run.outputs), severity=dg.AssetCheckSeverity.WARN
        )

    return workflow_run


def _stop(client, app: WorkflowAppSettings, progress: RunProgress, context: dg.AssetExecutionContext) -> None:
    if progress.task_id is None:
        return
    try:
        client.stop_task(progress.task_id, app.user)
        context.log.warning(f"stopped Dify task {progress.task_id}")
    except DifyError as exc:
        context.log.error(f"could not stop Dify task {progress.task_id}: {exc}")
