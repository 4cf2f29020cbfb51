"""`run_failure_sensor`: every failed run of this code location, announced on the report channels.

It watches all jobs of the code location (asset jobs included: `monitored_jobs` left empty means "every job
in this repository"). The message names the job, the run, the failed steps and their error's first line,
scrubbed of secrets by the notifier before it is logged or sent; the stack trace stays in the Dagster UI.
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


def build_run_failure_sensor(webserver_base_url: str | None) -> dg.SensorDefinition:
    @dg.run_failure_sensor(
        name="run_failure_sensor",
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Sends every failed run of this code location to the configured notification channels.",
    )
    def run_failure_sensor(context: dg.RunFailureSensorContext, notifier: NotifierResource) -> None:
        run = context.dagster_run
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
