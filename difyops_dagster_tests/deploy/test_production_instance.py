"""The production configuration, run for real without Docker: `docker/dagster.yaml` on a PostgreSQL server,
`docker/workspace.yaml` and `docker/difyops.yaml` with the variables .env.example declares, and the code server,
webserver and daemon as separate processes with the containers' own commands and health checks.

Through it: an asset materialized by a GraphQL launch; the daemon's sensors chaining real runs (the bucket
sensor starts the sync, the promotion starts the workflow app, whose failure the run-failure sensor announces on
the Slack channel), all recorded in PostgreSQL.
"""

from __future__ import annotations

import json
import os
import shutil

import dagster as dg
import pytest
import requests
from dagster_graphql import DagsterGraphQLClient

from dify_standin.processes import free_port
from difyops_dagster_tests.deploy.dagster_processes import (
    DagsterProcess,
    command_succeeds,
    dagster_command,
    wait_for,
)
from difyops_dagster_tests.deploy.docker_files import DOCKER, env_example
from difyops_dagster_tests.deploy.postgres import PostgresServer
from difyops_dagster_tests.receivers import WebhookReceiver

# Each step of a run starts its own process (the multiprocess executor of docker/difyops.yaml): about 5 s on an idle
# 2-core machine, a minute when it is loaded. The waits below allow for the loaded case.
pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(1500)]
STEP_WAIT_S = 420

APP_KEY = "app-production-summarize"
TEXT_FORM = [{"paragraph": {"label": "Text", "variable": "text", "required": True, "max_length": 4000}}]
MODULE = ("-m", "difyops_dagster.definitions")
LOCATION_QUERY = """{ workspaceOrError { ... on Workspace { locationEntries { name locationOrLoadError {
  __typename ... on PythonError { message causes { message } } } } } } }"""


def location_status(web_port: int) -> str:
    answer = requests.post(f"http://127.0.0.1:{web_port}/graphql", json={"query": LOCATION_QUERY}, timeout=30)
    (entry,) = answer.json()["data"]["workspaceOrError"]["locationEntries"]
    error = entry["locationOrLoadError"]
    return " / ".join([error["__typename"], error.get("message", ""), *(c["message"] for c in error.get("causes", []))])


def finished(client: DagsterGraphQLClient, run_id: str) -> str | None:
    status = client.get_run_status(run_id).value
    return status if status in ("SUCCESS", "FAILURE", "CANCELED") else None


def finished_runs(instance: dg.DagsterInstance, **tags: str) -> list[dg.DagsterRun]:
    return [run for run in instance.get_runs(dg.RunsFilter(tags=tags)) if run.is_finished]


def test_the_production_configuration_runs_assets_sensors_and_failure_notices_on_postgres(
    tmp_path, standin, s3_server, s3_client, bucket, monkeypatch
):
    blue = standin.admin.create_dataset("kb-blue")["id"]
    green = standin.admin.create_dataset("kb-green")["id"]
    videos = standin.admin.create_dataset("kb-videos")["id"]
    standin.admin.create_app(
        "summarize", APP_KEY, workflow={"fail_message": "model endpoint unavailable"}, user_input_form=TEXT_FORM
    )
    s3_client.put_object(Bucket=bucket, Key="docs/a.md", Body=b"# a\n\nproduction")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DOCKER / "dagster.yaml", home / "dagster.yaml")
    grpc_port, web_port = free_port(), free_port()
    workspace = (DOCKER / "workspace.yaml").read_text()
    assert "port: 4000" in workspace
    (home / "workspace.yaml").write_text(workspace.replace("port: 4000", f"port: {grpc_port}"))

    with PostgresServer() as pg, WebhookReceiver() as router, WebhookReceiver() as slack:
        env = {
            **env_example(),
            "DAGSTER_HOME": str(home),
            "DAGSTER_POSTGRES_HOST": "127.0.0.1",
            "DAGSTER_POSTGRES_PORT": str(pg.port),
            "DAGSTER_POSTGRES_DB": pg.db,
            "DAGSTER_POSTGRES_USER": pg.user,
            "DIFYOPS_CODE_SERVER_HOST": "127.0.0.1",
            "DAGSTER_WEBSERVER_URL": f"http://127.0.0.1:{web_port}",
            "DIFYOPS_CONFIG": str(tmp_path / "difyops.yaml"),
            "DIFY_BASE_URL": standin.api_url,
            "DIFY_DATASET_API_KEY": standin.dataset_key,
            "DIFY_SUMMARIZE_APP_KEY": APP_KEY,
            "S3_ENDPOINT_URL": s3_server.endpoint_url,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "SYNC_BUCKET": bucket,
            "SYNC_BLUE_DATASET_ID": blue,
            "SYNC_GREEN_DATASET_ID": green,
            "SYNC_WEBHOOK_URL": router.url,
            "SYNC_WEBHOOK_TOKEN": "router-token",
            "SYNC_SENSOR_INTERVAL_S": "10",
            "SLACK_WEBHOOK_URL": slack.url,
            "VIDEO_DATASET_ID": videos,
            # No video site here: the sources sensor reports it unreadable and skips, starting nothing.
            "VIDEO_SOURCE_URL": f"http://127.0.0.1:{free_port()}/feed.xml",
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        env = dict(os.environ)
        # The one change to docker/difyops.yaml: the artifacts volume's mount point becomes a temporary folder.
        storage_dir = tmp_path / "artifacts"
        settings = (DOCKER / "difyops.yaml").read_text()
        assert "local_dir: /data/artifacts" in settings
        (tmp_path / "difyops.yaml").write_text(settings.replace("/data/artifacts", str(storage_dir)))

        # The upgrade step of the README (Operations), then the instance as every container sees it.
        migrate = dagster_command("dagster", "instance", "migrate")
        assert command_succeeds(migrate, env, home, timeout=STEP_WAIT_S)
        info = dg.DagsterInstance.from_config(str(home))
        assert type(info.run_storage).__name__ == "PostgresRunStorage"
        assert type(info.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(info.schedule_storage).__name__ == "PostgresScheduleStorage"
        assert type(info.run_launcher).__name__ == "DefaultRunLauncher"
        info.dispose()

        code = DagsterProcess(
            "code-server",
            dagster_command("dagster", "code-server", "start", "-h", "127.0.0.1", "-p", str(grpc_port), *MODULE),
            env,
            home,
        )
        web = DagsterProcess(
            "webserver",
            dagster_command("dagster-webserver", "-h", "127.0.0.1", "-p", str(web_port), "-w", "workspace.yaml"),
            env,
            home,
        )
        daemon = DagsterProcess("daemon", dagster_command("dagster-daemon", "run", "-w", "workspace.yaml"), env, home)
        instance = None
        try:
            grpc_health = dagster_command("dagster", "api", "grpc-health-check", "-p", str(grpc_port))
            code.start().wait_ready(lambda: command_succeeds(grpc_health, env, home, timeout=30), timeout=STEP_WAIT_S)

            def web_ready() -> bool:
                try:
                    return requests.get(f"http://127.0.0.1:{web_port}/server_info", timeout=5).ok
                except requests.RequestException:
                    return False

            web.start().wait_ready(web_ready, timeout=STEP_WAIT_S)
            status = location_status(web_port)
            assert status.startswith("RepositoryLocation"), status + code.log_tail()

            liveness = dagster_command("dagster-daemon", "liveness-check")
            daemon.start().wait_ready(lambda: command_succeeds(liveness, env, home), timeout=STEP_WAIT_S)

            client = DagsterGraphQLClient("127.0.0.1", port_number=web_port)
            run_id = client.submit_job_execution("__ASSET_JOB", asset_selection=[dg.AssetKey("s3_objects")])
            assert wait_for(lambda: finished(client, run_id), STEP_WAIT_S, "the GraphQL-launched run") == "SUCCESS"

            instance = dg.DagsterInstance.from_config(str(home))
            (sync_run, *_) = wait_for(
                lambda: finished_runs(instance, **{"dagster/sensor_name": "bucket_changed_sensor"}),
                STEP_WAIT_S,
                "a sync run started by bucket_changed_sensor",
                interval=2,
            )
            assert sync_run.status == dg.DagsterRunStatus.SUCCESS, daemon.log_tail()
            assert [d["metadata"]["source_key"] for d in standin.admin.documents(blue)] == ["docs/a.md"]
            assert router.json_bodies()[0]["active"] == {"colour": "blue", "dataset_id": blue}
            assert router.requests[0]["headers"]["Authorization"] == "Bearer router-token"

            # The promotion starts the workflow app; its run fails in Dify and the failure reaches Slack.
            (app_run, *_) = wait_for(
                lambda: finished_runs(instance, **{"dagster/sensor_name": "workflows_after_active_colour_sensor"}),
                STEP_WAIT_S,
                "the workflow run started after the promotion",
                interval=2,
            )
            assert app_run.status == dg.DagsterRunStatus.FAILURE
            notice = wait_for(
                lambda: [b for b in map(json.dumps, slack.json_bodies()) if app_run.run_id[:8] in b],
                STEP_WAIT_S,
                "the run-failure notice on Slack",
                interval=2,
            )
            assert "model endpoint unavailable" in notice[0]
            assert f"http://127.0.0.1:{web_port}/runs/{app_run.run_id}" in notice[0]
            assert APP_KEY not in notice[0] and "router-token" not in notice[0]
            # Crashed-worker retries only: a run that failed on its own is not re-run.
            assert not instance.get_runs(dg.RunsFilter(tags={"dagster/parent_run_id": app_run.run_id}))

            assert command_succeeds(liveness, env, home)
            assert command_succeeds(grpc_health, env, home)
            assert (storage_dir / "sync").is_dir(), "the sync's hand-offs are in the configured artifact folder"
        finally:
            if instance is not None:
                instance.dispose()
            for process in (daemon, web, code):
                process.stop()
