"""A test run leaves nothing new in the system's temporary folder: servers' logs, sockets and scratch folders all
land under pytest's own temporary folder (temp_folder.py).

Proven on a run of its own: pytest in a subprocess whose temporary folder is a fresh, empty one, over tests that
between them start every kind of process the suite uses (the Dify stand-in, moto and SeaweedFS, the webhook
receivers, the sample video site with yt-dlp downloads, and `dg launch` with its step processes). Afterwards that
folder holds pytest's folder and nothing else, and the servers' logs are inside pytest's.
"""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from difyops_dagster_tests.temp_folder import SYSTEM_TEMP

ROOT = Path(__file__).resolve().parent.parent
SELECTION = [
    "dify_standin/tests/test_workflow_runs.py",  # stand-ins of several versions
    "difyops_dagster_tests/storage/test_artifacts.py",  # moto and SeaweedFS (its data, sockets and glog files)
    "difyops_dagster_tests/notify/test_channels.py",  # the webhook receivers
    "difyops_dagster_tests/video/test_download.py",  # the sample video site, yt-dlp's scratch folders
    "difyops_dagster_tests/workflows/test_cli.py::test_the_cli_materializes_an_app_and_records_its_outputs[dg]",
]


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_a_test_run_leaves_nothing_in_the_system_temporary_folder(tmp_path):
    # A short path: unix sockets (SeaweedFS's, Dagster's) under it must stay within 108 characters.
    root = Path(tempfile.mkdtemp(prefix="difyops-tmpcheck-", dir=SYSTEM_TEMP))
    try:
        env = {**os.environ, "TMPDIR": str(root), "DIFYOPS_SCOREBOARD_DIR": str(tmp_path / "scoreboard")}
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *SELECTION],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1500,
        )
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        assert sorted(p.name for p in root.iterdir()) == [f"pytest-of-{getpass.getuser()}"]
        logs = {p.name.rsplit("-", 1)[0] for p in root.glob("pytest-of-*/pytest-*/tmp*/*.log")}
        assert {"dify-standin", "moto-s3", "seaweedfs-s3", "webhook-receivers"} <= logs
    finally:
        shutil.rmtree(root, ignore_errors=True)
