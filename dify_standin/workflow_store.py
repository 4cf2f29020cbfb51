"""What the stand-in knows about workflow apps: apps, runs, running tasks, log rows and console accounts.

One lock guards it all; a run executing in its own thread writes its fields under that lock's protection only
at the end (readers may see a run mid-way, as Dify's database does). Log rows are kept per app as two parallel
lists sorted by `created_at` (times, run ids), so a time window is two bisections and seeding 100,000 rows is one
merge, never a sort per insert.
"""

from __future__ import annotations

import bisect
import heapq
import threading
from dataclasses import dataclass, field
from typing import Any

from dify_standin.workflow_engine import WorkflowRun, WorkflowSpec


@dataclass
class WorkflowApp:
    id: str
    name: str
    api_key: str
    spec: WorkflowSpec
    user_input_form: list[dict[str, Any]]
    description: str = ""
    max_active: int = 0  # APP_MAX_ACTIVE_REQUESTS for this app; 0 = unlimited
    active: int = 0


@dataclass
class LogIndex:
    """One app's log rows ordered by creation time (ties keep insertion order)."""

    times: list[float] = field(default_factory=list)
    run_ids: list[str] = field(default_factory=list)

    def add(self, created_at: float, run_id: str) -> None:
        index = bisect.bisect_right(self.times, created_at)
        self.times.insert(index, created_at)
        self.run_ids.insert(index, run_id)

    def extend(self, rows: list[tuple[float, str]]) -> None:
        """Merge many rows at once: sort the new ones, then one linear merge with the existing ones."""
        rows = sorted(rows, key=lambda row: row[0])
        merged = list(heapq.merge(zip(self.times, self.run_ids, strict=True), rows, key=lambda row: row[0]))
        self.times = [t for t, _ in merged]
        self.run_ids = [r for _, r in merged]

    def window(self, after: float | None, before: float | None) -> list[str]:
        """Run ids with after <= created_at <= before, oldest first (Dify compares both bounds inclusively)."""
        lo = bisect.bisect_left(self.times, after) if after is not None else 0
        hi = bisect.bisect_right(self.times, before) if before is not None else len(self.times)
        return self.run_ids[lo:hi]

    def __len__(self) -> int:
        return len(self.times)


@dataclass
class ConsoleSession:
    email: str
    access_token: str
    refresh_token: str
    csrf_token: str


class WorkflowStore:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.apps: dict[str, WorkflowApp] = {}
            self.runs: dict[str, WorkflowRun] = {}
            self.tasks: dict[str, str] = {}  # task id -> run id
            self.logs: dict[str, LogIndex] = {}
            self.console_accounts: dict[str, str] = {}  # email -> password
            self.sessions: dict[str, ConsoleSession] = {}  # access token -> session
            self.refresh_tokens: dict[str, ConsoleSession] = {}

    def log_index(self, app_id: str) -> LogIndex:
        return self.logs.setdefault(app_id, LogIndex())

    def start_run(self, run: WorkflowRun) -> None:
        """A live run is visible (status `running`) from its start; its log row is written when it ends."""
        with self.lock:
            self.runs[run.id] = run
            self.tasks[run.task_id] = run.id

    def add_runs(self, runs: list[WorkflowRun]) -> None:
        """Write the log rows of ended runs (storing the runs too: seeded runs arrive only this way)."""
        with self.lock:
            by_app: dict[str, list[tuple[float, str]]] = {}
            for run in runs:
                self.runs[run.id] = run
                by_app.setdefault(run.app_id, []).append((run.created_at, run.id))
            for app_id, rows in by_app.items():
                index = self.log_index(app_id)
                if len(rows) == 1:
                    index.add(*rows[0])
                else:
                    index.extend(rows)

    def dump(self) -> dict[str, Any]:
        """The admin state view: apps, the runs made through the API (with the inputs as sent), log counts."""
        with self.lock:
            return {
                "apps": [
                    {"id": a.id, "name": a.name, "active": a.active, "workflow_id": a.spec.workflow_id}
                    for a in self.apps.values()
                ],
                "runs": [
                    {
                        "id": r.id,
                        "task_id": r.task_id,
                        "app_id": r.app_id,
                        "status": r.status,
                        "inputs": r.sent_inputs if r.sent_inputs is not None else r.inputs,
                        "user": r.session_id,
                        "error": r.error,
                    }
                    for r in self.runs.values()
                    if not r.seeded
                ],
                "log_counts": {app_id: len(index) for app_id, index in self.logs.items()},
            }
