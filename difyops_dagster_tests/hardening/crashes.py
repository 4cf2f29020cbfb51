"""The crash harness: runs forked by a loaded server (crash_runner.py), a watcher that SIGKILLs a run's process
group when a condition over the outside world first holds, and the readers the crash tests judge the aftermath with.

Kill points are conditions on what the real servers saw, never on timers: "the stand-in has answered the k-th
upload", "the report folder holds n files", "the colour object changed". The watcher polls them every few
milliseconds and kills at once, so the run dies between two of its own writes, wherever that is.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
POLL_S = 0.01


class RunServer:
    """The fork server (crash_runner.py) in its own session; `launch` starts one run in a process of its own."""

    def __init__(self, log_path: Path, timeout: float = 300):
        self.log_path = log_path
        self.lines: queue.Queue[str] = queue.Queue()
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "difyops_dagster_tests.hardening.crash_runner"],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,
            )
        threading.Thread(target=self._read, daemon=True).start()
        if self._next(timeout) != "ready":
            self.close()
            raise RuntimeError(f"the run server did not start:\n{log_path.read_text(errors='replace')[-3000:]}")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.put(raw.decode().strip())

    def _next(self, timeout: float) -> str:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return ""

    def launch(self, env: dict[str, str], steps: list[str], log: Path) -> Run:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps({"env": env, "steps": steps, "log": str(log)}) + "\n").encode())
        self.proc.stdin.flush()
        answer = self._next(30)
        if not answer.startswith("pid "):
            raise RuntimeError(f"the run server did not fork ({answer!r})")
        return Run(self, int(answer.split()[1]), log)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.stdin.close()  # type: ignore[union-attr]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)


class Run:
    """One forked run: its own process group (pgid == pid)."""

    def __init__(self, server: RunServer, pid: int, log_path: Path):
        self.server = server
        self.pid = pid
        self.log_path = log_path
        self.code: int | None = None

    def _collect(self, timeout: float) -> None:
        if self.code is None:
            line = self.server._next(timeout)
            if line.startswith(f"exit {self.pid} "):
                self.code = int(line.split()[2])

    def finished(self) -> bool:
        self._collect(0.0)
        return self.code is not None

    def kill(self) -> None:
        """SIGKILL to the run's whole process group: the run and anything it started die at once."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self._collect(30)

    def wait(self, timeout: float) -> int:
        self._collect(timeout)
        if self.code is None:
            self.kill()
            raise AssertionError(f"the run did not end in {timeout} s:\n{self.tail()}")
        return self.code

    def tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""


def kill_when(run: Run, reached: Callable[[], bool], timeout: float = 300) -> bool:
    """SIGKILL the run the moment `reached()` holds. False when the run ended first (it was not killed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if reached():
            run.kill()
            assert run.code == -signal.SIGKILL, f"the run ended with {run.code} before the kill:\n{run.tail()}"
            return True
        if run.finished():
            return False
        time.sleep(POLL_S)
    run.kill()
    raise AssertionError(f"the kill point was not reached in {timeout} s:\n{run.tail()}")


# --- what the stand-in saw -------------------------------------------------------------------------------------

# Each call of the sync by what it does, as stand-in fault rules that only count (and slow writes a little):
# polling the rules' `fired` counters costs the stand-in almost nothing, unlike dumping a growing request log.
SYNC_CALLS = {
    "list": {"method": "GET", "path": r"/datasets/[^/]+/documents$"},
    "delete": {"method": "DELETE", "path": r"/documents/[^/]+$"},
    "upload": {"path": r"(create|update)[-_]by[-_]file$"},
    "metadata": {"method": "POST", "path": r"/documents/metadata$"},
    "indexing": {"method": "GET", "path": r"/indexing-status$"},
}


def count_calls(admin, calls: dict[str, dict], write_latency_ms: float) -> None:
    """Arm one counting rule per kind of call; writes (anything but GET) are delayed `write_latency_ms`."""
    rules = []
    for rule in calls.values():
        slow = rule.get("method") != "GET"
        rules.append({**rule, "latency_ms": write_latency_ms if slow else 0})
    admin.set_faults(rules)


def calls_seen(admin, calls: dict[str, dict]) -> dict[str, int]:
    """How many calls of each kind have reached the stand-in since `count_calls`."""
    return {kind: rule["fired"] for kind, rule in zip(calls, admin.faults(), strict=True)}


# --- judging the aftermath ----------------------------------------------------------------------------------------


def dataset_documents(admin, dataset_id: str) -> list[dict]:
    """The dataset's documents with their text (the stand-in's state dump)."""
    for dataset in admin.state(text=True)["datasets"]:
        if dataset["id"] == dataset_id:
            return dataset["documents"]
    raise KeyError(dataset_id)


def exact_problems(documents: list[dict], expected: dict[str, str], names: dict[str, str]) -> list[str]:
    """Why `documents` is not exactly one indexed, enabled document per expected source key, with that name and
    text, and nothing else (empty when it is)."""
    problems = []
    keys = Counter(d["metadata"].get("source_key") for d in documents)
    problems += [f"duplicate source_key {k!r} x{n}" for k, n in keys.items() if n > 1]
    problems += [f"duplicate name {n!r}" for n, c in Counter(d["name"] for d in documents).items() if c > 1]
    problems += [f"lost: {k}" for k in sorted(set(expected) - set(keys))]
    problems += [f"unexpected document for {k!r}" for k in sorted(set(keys) - set(expected), key=str)]
    for document in documents:
        key = document["metadata"].get("source_key")
        if key not in expected:
            continue
        if document.get("text") != expected[key]:
            problems.append(f"{key}: text {document.get('text')!r} != {expected[key]!r}")
        if document["name"] != names[key]:
            problems.append(f"{key}: name {document['name']!r} != {names[key]!r}")
        if document["indexing_status"] != "completed" or not document["enabled"]:
            problems.append(f"{key}: {document['indexing_status']}, enabled={document['enabled']}")
    return problems


class SlowWebhook:
    """A webhook receiver on 127.0.0.1 that can be told to hold each answer, keeping a run alive right after it
    wrote the colour object (the promotion's notification comes after the write)."""

    def __init__(self) -> None:
        self.hold_s = 0.0
        self.received = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.received += 1
                time.sleep(owner.hold_s)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/colour"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.hold_s = 0.0
        self.server.shutdown()
        self.server.server_close()
