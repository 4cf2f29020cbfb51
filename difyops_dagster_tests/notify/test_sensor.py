"""`run_failure_sensor` announces a failed run of any job in the code location on the configured channels,
with the job, the failed step, the error's first line and a link to the run, and with secrets that leaked
into the exception text masked before anything is logged or sent. It watches every code location (a run
launched from the command line carries no origin) and keeps the runs of this location's jobs and assets."""

from __future__ import annotations

import os

import dagster as dg
import pytest

from difyops_dagster.notify.defs import build_defs
from difyops_dagster.notify.sensors import run_failure_notification, run_of_this_location
from difyops_dagster_tests.notify.conftest import APP_KEY, settings_with

# The sensor tells this location's runs from others' by the job definitions it is given; in a test that is
# `build_run_status_sensor_context(repository_def=...)`, a parameter Dagster 1.13 marks beta.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Parameter `repository_def` of function `build_run_status_sensor_context` is currently in beta"
)


@dg.op
def call_dify() -> None:
    key = os.environ["REPORT_APP_KEY"]
    raise RuntimeError(f"Dify said 401 for key {key} (Authorization: Bearer {key})\ntraceback line two")


@dg.job
def nightly_import() -> None:
    call_dify()


@dg.job
def other_locations_job() -> None:
    call_dify()


@dg.op
def export_rows() -> None:
    raise RuntimeError("export failed")


@dg.job(name="nightly_import")
def namesake_of_nightly_import() -> None:
    """Another code location's job that happens to share a name with one of ours."""
    export_rows()


@dg.asset
def ours() -> None: ...


@dg.asset
def theirs() -> None: ...


def test_a_failed_run_is_announced_with_its_step_error_and_run_link_and_no_secret(channel_env, webhooks):
    settings = settings_with(
        {"slack": {"webhook_url": {"env": "SLACK_WEBHOOK_URL"}}, "webserver_base_url": "http://dagster.local:3000/"},
        channel_env,
    )
    with dg.instance_for_test() as instance:  # resolve inside: Dagster keeps the last test instance as a weakref
        defs = dg.Definitions.merge(build_defs(settings), dg.Definitions(jobs=[nightly_import]))
        sensor = defs.resolve_sensor_def("run_failure_sensor")
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
        notifier = defs.resources["notifier"]
        result = nightly_import.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        context = dg.build_run_status_sensor_context(
            sensor_name="run_failure_sensor",
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            dagster_event=result.get_run_failure_event(),
            resources={"notifier": notifier},
            repository_def=defs.get_repository_def(),
        ).for_run_failure()
        sensor(context)
    (message,) = webhooks.received("slack")
    text = message["body"]["text"]
    assert "Dagster run failed: nightly_import" in text
    assert "Step call_dify: RuntimeError: Dify said 401 for key *** (Authorization: Bearer ***)" in text
    assert "traceback line two" not in text
    assert f"http://dagster.local:3000/runs/{result.run_id}" in repr(message["body"]["blocks"])
    assert APP_KEY not in repr(message)


def test_a_run_of_another_code_locations_job_or_assets_is_not_this_locations():
    """`dg launch --assets` runs the implicit `__ASSET_JOB`, which every code location has."""
    this_location = dg.Definitions(jobs=[nightly_import], assets=[ours])
    other_location = dg.Definitions(jobs=[other_locations_job], assets=[theirs])
    with dg.instance_for_test() as instance:
        runs = {
            "own job": nightly_import.execute_in_process(instance=instance, raise_on_error=False).dagster_run,
            "other job": other_locations_job.execute_in_process(instance=instance, raise_on_error=False).dagster_run,
            "namesake job": namesake_of_nightly_import.execute_in_process(
                instance=instance, raise_on_error=False
            ).dagster_run,
            "own assets": this_location.resolve_implicit_global_asset_job_def()
            .execute_in_process(instance=instance)
            .dagster_run,
            "other assets": other_location.resolve_implicit_global_asset_job_def()
            .execute_in_process(instance=instance)
            .dagster_run,
        }
        assert runs["own assets"].job_name == runs["other assets"].job_name == "__ASSET_JOB"
        repository = this_location.get_repository_def()
        seen = {name: run_of_this_location(run, repository, instance) for name, run in runs.items()}
    assert seen == {
        "own job": True,
        "other job": False,
        "namesake job": False,
        "own assets": True,
        "other assets": False,
    }


def test_the_notice_lists_at_most_five_failed_steps():
    steps = [(f"step_{i}", f"Error {i}\nmore") for i in range(8)]
    notice = run_failure_notification("job", "0123456789abcdef", "Execution failed", steps, None)
    assert notice.lines[0] == "Run 01234567 of job failed: Execution failed"
    assert notice.lines[1:6] == tuple(f"Step step_{i}: Error {i}" for i in range(5))
    assert notice.lines[-1] == "... and 3 more failed steps"
    assert notice.level == "error" and notice.link is None
