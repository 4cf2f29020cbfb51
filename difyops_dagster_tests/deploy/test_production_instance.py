"""The production `docker/dagster.yaml`, run for real: PostgreSQL storage, a gRPC code server, the daemon and
the webserver as separate processes (as the containers run them), a materialization launched through GraphQL
and a sensor-triggered sync launched by the daemon. No Docker engine is needed to prove the configuration.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster_graphql import DagsterGraphQLClient

from dify_standin.processes import ServerProcess, free_port
from difyops_dagster_tests.deploy.postgres import PostgresServer
from difyops_dagster_tests.receivers import WebhookReceiver

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def wait_for(predicate, timeout: float, what: str, interval: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_production_instance_runs_assets_and_sensors_on_postgres(
    tmp_path, standin, s3_server, s3_client, bucket, monkeypatch
):
    blue = standin.admin.create_dataset("kb-blue")["id"]
    green = standin.admin.create_dataset("kb-green")["id"]
    s3_client.put_object(Bucket=bucket, Key="docs/a.md", Body=b"# a")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "docker" / "dagster.yaml", home / "dagster.yaml")
    grpc_port, web_port = free_port(), free_port()
    workspace = (ROOT / "docker" / "workspace.yaml").read_text().replace("port: 4000", f"port: {grpc_port}")
    (home / "workspace.yaml").write_text(workspace)

    with PostgresServer() as pg, WebhookReceiver() as hook:
        env = {
            "DAGSTER_HOME": str(home),
            "DAGSTER_POSTGRES_HOST": "127.0.0.1",
            "DAGSTER_POSTGRES_PORT": str(pg.port),
            "DAGSTER_POSTGRES_DB": pg.db,
            "DAGSTER_POSTGRES_USER": pg.user,
            "DAGSTER_POSTGRES_PASSWORD": "trust-auth-ignores-it",
            "DIFYOPS_CODE_SERVER_HOST": "127.0.0.1",
            "DIFYOPS_CONFIG": str(ROOT / "docker" / "difyops.yaml"),
            "DIFY_BASE_URL": standin.api_url,
            "DIFY_DATASET_API_KEY": standin.dataset_key,
            "DIFY_VERSION": "1.13",
            "S3_ENDPOINT_URL": s3_server.endpoint_url,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "SYNC_BUCKET": bucket,
            "SYNC_PREFIX": "docs/",
            "SYNC_BLUE_DATASET_ID": blue,
            "SYNC_GREEN_DATASET_ID": green,
            "SYNC_WEBHOOK_URL": hook.url,
            "SYNC_WEBHOOK_TOKEN": "hook-token",
            "SYNC_TIMEZONE": "Asia/Shanghai",
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        info = subprocess.run(
            [str(BIN / "dagster"), "instance", "info"], capture_output=True, text=True, timeout=120, cwd=home
        )
        assert info.returncode == 0 and "PostgresRunStorage" in info.stdout, info.stderr[-2000:]

        code = ServerProcess(
            "code-server",
            [
                str(BIN / "dagster"),
                "code-server",
                "start",
                "-h",
                "127.0.0.1",
                "-p",
                str(grpc_port),
                "-m",
                "difyops_dagster.definitions",
            ],
            health_url="http://127.0.0.1:1/",  # gRPC: readiness is checked with the health command below
        )
        code.proc = subprocess.Popen(
            code.argv, cwd=home, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        web = ServerProcess(
            "webserver",
            [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(web_port), "-w", "workspace.yaml"],
            f"http://127.0.0.1:{web_port}/server_info",
        )
        daemon = ServerProcess(
            "daemon", [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"], "http://127.0.0.1:1/"
        )
        try:
            health = [str(BIN / "dagster"), "api", "grpc-health-check", "-p", str(grpc_port)]
            wait_for(
                lambda: subprocess.run(health, capture_output=True, timeout=30).returncode == 0,
                90,
                "the gRPC code server",
            )
            os.chdir(home)
            web.start(timeout=90)
            daemon.proc = subprocess.Popen(
                daemon.argv, cwd=home, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )

            client = DagsterGraphQLClient("127.0.0.1", port_number=web_port)
            run_id = client.submit_job_execution("__ASSET_JOB", asset_selection=[dg.AssetKey("s3_objects")])
            status = wait_for(lambda: _finished(client, run_id), 180, "the GraphQL-launched run")
            assert status == "SUCCESS"

            instance = dg.DagsterInstance.get()
            sensor_runs = wait_for(
                lambda: [
                    r
                    for r in instance.get_runs(dg.RunsFilter(tags={"dagster/sensor_name": "bucket_changed_sensor"}))
                    if r.is_finished
                ],
                240,
                "a sensor-triggered sync run",
                interval=2,
            )
            assert sensor_runs[0].status == dg.DagsterRunStatus.SUCCESS
            assert [d["metadata"]["source_key"] for d in standin.admin.documents(blue)] == ["docs/a.md"]
            assert hook.json_bodies()[0]["active"] == {"colour": "blue", "dataset_id": blue}
            assert hook.requests[0]["headers"]["Authorization"] == "Bearer hook-token"
            liveness = subprocess.run(
                [str(BIN / "dagster-daemon"), "liveness-check"], capture_output=True, text=True, timeout=60, cwd=home
            )
            assert liveness.returncode == 0, liveness.stdout + liveness.stderr
            instance.dispose()
        finally:
            for process in (daemon, web, code):
                process.stop(timeout=30)


def _finished(client: DagsterGraphQLClient, run_id: str) -> str | None:
    status = client.get_run_status(run_id).value
    return status if status in ("SUCCESS", "FAILURE", "CANCELED") else None
