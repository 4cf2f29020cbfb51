"""A sync killed with SIGKILL in the middle of its uploads is repaired by the next run: the dataset then mirrors
the bucket exactly, with no duplicate and nothing lost (seed 000 lost track and re-created documents).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
import yaml

from difyops_dagster_tests.sync.conftest import KEY_VAR


def write_config(world, path) -> None:
    settings = {
        "dify": {
            "base_url": world.standin.api_url,
            "dataset_api_key": {"env": KEY_VAR},
            "max_retries": 1,
            "rate_limit_per_second": 0,
        },
        "s3": {
            "endpoint_url": world.env["S3_ENDPOINT_URL"],
            "access_key_id": {"env": "AWS_ACCESS_KEY_ID"},
            "secret_access_key": {"env": "AWS_SECRET_ACCESS_KEY"},
        },
        "sync": {
            "bucket": world.bucket,
            "blue_dataset_id": world.blue,
            "green_dataset_id": world.green,
            "upload_concurrency": 2,
            "indexing_poll_s": 0.05,
        },
    }
    path.write_text(yaml.safe_dump(settings))


def uploads(world) -> int:
    return sum(
        1
        for r in world.standin.admin.request_log()
        if "create-by-file" in r["path"] or r["path"].endswith("/documents/metadata")
    )


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [3, 17, 40])
def test_a_run_killed_mid_upload_is_repaired_by_the_next(world, tmp_path, kill_after):
    for i in range(30):
        world.put(f"docs/{i:02d}.md", f"document {i}")
    world.standin.admin.set_latency(40)
    config = tmp_path / "difyops.yaml"
    write_config(world, config)
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, **world.env, "DIFYOPS_CONFIG": str(config), "DAGSTER_HOME": str(home)}
    dagster = os.path.join(os.path.dirname(sys.executable), "dagster")
    proc = subprocess.Popen(
        [dagster, "job", "execute", "-m", "difyops_dagster.definitions", "-j", "sync_job"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while uploads(world) < kill_after and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    world.standin.admin.set_latency(0)
    assert proc.returncode == -signal.SIGKILL, "the run must have been killed, not have finished"

    result = world.run()

    assert result.success, "the repair run must pass every check"
    documents = world.documents(world.blue)
    keys = Counter(d["metadata"].get("source_key") for d in documents)
    assert sorted(keys) == [f"docs/{i:02d}.md" for i in range(30)]
    assert max(keys.values()) == 1
    assert world.active() == "blue"
