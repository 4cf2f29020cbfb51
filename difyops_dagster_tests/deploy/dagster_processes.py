"""Dagster's production processes (code server, webserver, daemon) started as the containers start them.

Each runs in its own session (so a stop reaches its children: run workers, the code server's subprocess) with
its output in a log file whose tail is shown when it does not become ready.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from dify_standin.processes import stop_process_group

BIN = Path(sys.executable).parent


def dagster_command(name: str, *args: str) -> list[str]:
    return [str(BIN / name), *args]


def wait_for(predicate: Callable[[], object], timeout: float, what: str, interval: float = 1.0):
    """Poll until `predicate` returns something truthy, at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class DagsterProcess:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], cwd: Path):
        self.name, self.argv, self.env, self.cwd = name, argv, env, cwd
        fd, log = tempfile.mkstemp(prefix=f"difyops-{name}-", suffix=".log")
        os.close(fd)
        self.log_path = Path(log)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> DagsterProcess:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    def wait_ready(self, check: Callable[[], bool], timeout: float) -> None:
        def ready() -> bool:
            assert self.proc is not None and self.proc.poll() is None, f"{self.name} exited:\n{self.log_tail()}"
            return check()

        try:
            wait_for(ready, timeout, f"{self.name} to become ready")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- {self.name} log ---\n{self.log_tail()}") from None

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self, timeout: float = 30.0) -> None:
        if self.proc is not None:
            stop_process_group(self.proc, timeout)


def command_succeeds(argv: list[str], env: dict[str, str], cwd: Path, timeout: float = 60) -> bool:
    return subprocess.run(argv, env=env, cwd=cwd, capture_output=True, timeout=timeout).returncode == 0
