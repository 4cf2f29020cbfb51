"""The README's first command: the demo brings up the local stack and the main job succeeds on sample data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dify_standin.processes import free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_demo_runs_the_sync_on_the_sample_bucket(tmp_path):
    args = ["--no-ui", "--dify-port", str(free_port()), "--s3-port", str(free_port()), "--home", str(tmp_path / "home")]
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "uploaded 10 sample files" in result.stdout
    assert "sync_job succeeded" in result.stdout
    assert (tmp_path / "home" / "history" / "runs.db").exists()
