"""A sync killed with SIGKILL in the middle of its uploads is repaired by the next run: the dataset then mirrors
the bucket exactly, with no duplicate and nothing lost, and the colour was never promoted in between.

Seed 000 replaced its listing before uploading, so a failed upload was never retried. Here the run is the CLI's
`dg launch --assets group:sync` in its own process group (what CI runs), killed
when the stand-in's request log shows a given number of uploads; whatever it left (untagged uploads, updated
documents still carrying the old fingerprint) is found by the next plan in Dify's own metadata.
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

pytestmark = pytest.mark.slow

FILES = 30


def upload_requests(world) -> int:
    return sum(1 for r in world.standin.admin.request_log() if r["path"].endswith(("create-by-file", "update-by-file")))


def start_cli_sync(world, tmp_path) -> subprocess.Popen:
    config = tmp_path / "difyops.yaml"
    config.write_text(yaml.safe_dump(world.config(upload_concurrency=2), allow_unicode=True))
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, **world.env, "DIFYOPS_CONFIG": str(config), "DAGSTER_HOME": str(home)}
    dg_cli = os.path.join(os.path.dirname(sys.executable), "dg")
    command = [dg_cli, "launch", "--assets", "group:sync", "-m", "difyops_dagster.definitions"]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


def kill_after_uploads(world, proc: subprocess.Popen, uploads: int) -> None:
    deadline = time.monotonic() + 180
    while upload_requests(world) < uploads and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL, "the run must have been killed, not have finished"


def assert_mirrors_bucket(world, dataset_id: str, version: str) -> None:
    documents = world.documents(dataset_id)
    keys = Counter(d["metadata"].get("source_key") for d in documents)
    assert sorted(keys) == [f"docs/{i:02d}.md" for i in range(FILES)]
    assert max(keys.values()) == 1, "no duplicate documents"
    assert {d["content_size"] for d in documents} == {len(f"document 00 {version}")}


@pytest.mark.parametrize("kill_after", [1, 12, FILES])
def test_a_run_killed_mid_upload_is_repaired_by_the_next(world, tmp_path, kill_after):
    for i in range(FILES):
        world.put(f"docs/{i:02d}.md", f"document {i:02d} v1")
    world.standin.admin.set_latency(40)
    proc = start_cli_sync(world, tmp_path)

    kill_after_uploads(world, proc, kill_after)

    world.standin.admin.set_latency(0)
    assert world.active() is None, "a killed run never promotes"
    result = world.run()
    assert result.success, "the repair run must pass every check"
    assert_mirrors_bucket(world, world.blue, "v1")
    assert world.active() == "blue"


def test_a_run_killed_mid_update_is_repaired_by_the_next(world, tmp_path):
    for i in range(FILES):
        world.put(f"docs/{i:02d}.md", f"document {i:02d} v1")
    assert world.run().success
    world.put("docs/00.md", "document 00 V1")  # one change, so the next run syncs green
    assert world.run().success and world.active() == "green"  # both colours hold v1; blue is standby again
    for i in range(FILES):
        world.put(f"docs/{i:02d}.md", f"document {i:02d} v2")
    world.standin.admin.clear_request_log()
    world.standin.admin.set_latency(40)
    proc = start_cli_sync(world, tmp_path)

    kill_after_uploads(world, proc, FILES // 2)

    world.standin.admin.set_latency(0)
    assert world.active() == "green"
    assert world.run().success
    assert_mirrors_bucket(world, world.blue, "v2")
    assert world.active() == "blue"
