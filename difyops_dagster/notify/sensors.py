"""`run_failure_sensor`: every failed run of this code location, announced on the report channels, whatever
launched it.

Dagster's run-status sensors match a run to "this code location" by the origin the webserver or the daemon
stamps on it; a run started from the command line (`dg launch`, `dagster asset materialize`) runs in-process and
carries no origin, so a sensor left to that default never sees it. This one watches every code location
(`monitor_all_code_locations=True`) and keeps the runs of this location's jobs over its own ops and assets
(`run_of_this_location`). The message names the job, the
run, the failed steps and their error's first line, scrubbed of secrets by the notifier before it is logged or
sent; the stack trace stays in the Dagster UI.
"""

import dagster as dg

from difyops_dagster.notify.message import Notification
from difyops_dagster.notify.resources import NotifierResource

MAX_STEPS = 5
ERROR_CHARS = 300


def run_failure_notification(
    job_name: str, run_id: str, summary: str, step_errors: list[tuple[str, str]], run_url: str | None
) -> Notification:
    """A failed run as a notification: the failure summary, then one line per failed step (at most five)."""
    lines = [f"Run {run_id[:8]} of {job_name} failed: {_first_line(summary)}"]
    for step, error in step_errors[:MAX_STEPS]:
        lines.append(f"Step {step}: {_first_line(error)}")
    if len(step_errors) > MAX_STEPS:
        lines.append(f"... and {len(step_errors) - MAX_STEPS} more failed steps")
    return Notification(
        title=f"Dagster run failed: {job_name}",
        lines=tuple(lines),
        link=run_url,
        link_label="Open the run",
        level="error",
    )


def _first_line(text: str) -> str:
    line = (text or "").strip().split("\n", 1)[0]
    return line if len(line) <= ERROR_CHARS else line[: ERROR_CHARS - 1] + "…"


def run_of_this_location(run: dg.DagsterRun, repository: dg.RepositoryDefinition, instance: dg.DagsterInstance) -> bool:
    """Whether `run` ran one of `repository`'s jobs, and only ops (assets) of it.

    The job name alone cannot tell: every code location has `__ASSET_JOB` (what `dg launch --assets` runs), and a
    run of all of its assets records an empty asset selection. The run's job snapshot, stored with every run,
    names the ops it ran; asset ops are named after their asset keys, which Dagster keeps unique across a
    deployment. The test is by content, not by location name, because the name is the deployment's choice
    (`difyops_dagster` in workspace.yaml, the user deployment's name under Helm).
    """
    if not repository.has_job(run.job_name) or run.job_snapshot_id is None:
        return False
    ran = set(instance.get_job_snapshot(run.job_snapshot_id).node_names)
    return ran <= set(repository.get_job(run.job_name).graph.node_names())


def build_run_failure_sensor(webserver_base_url: str | None) -> dg.SensorDefinition:
    @dg.run_failure_sensor(
        name="run_failure_sensor",
        monitor_all_code_locations=True,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Sends every failed run of this code location (launched from the UI, a schedule, a sensor or "
        "the command line) to the configured notification channels.",
    )
    def run_failure_sensor(context: dg.RunFailureSensorContext, notifier: NotifierResource) -> None:
        run = context.dagster_run
        # The daemon always passes the repository; without one (a direct call) nothing can be told apart: announce.
        if context.repository_def is not None and not run_of_this_location(
            run, context.repository_def, context.instance
        ):
            context.log.info(f"run {run.run_id[:8]} of {run.job_name} belongs to another code location: not announced")
            return
        step_errors = []
        for event in context.get_step_failure_events():
            error = event.event_specific_data.error if event.event_specific_data else None
            while error is not None and error.cause is not None:  # Dagster wraps the user's exception
                error = error.cause
            step_errors.append((event.step_key or "?", error.message if error else event.message or ""))
        run_url = f"{webserver_base_url}/runs/{run.run_id}" if webserver_base_url else None
        notification = run_failure_notification(
            run.job_name, run.run_id, context.failure_event.message or "", step_errors, run_url
        )
        for delivery in notifier.send(notification):
            log = context.log.info if delivery.ok else context.log.warning
            log(f"run failure notice via {delivery.channel}: {'ok' if delivery.ok else 'FAILED'}, {delivery.detail}")

    return run_failure_sensor
