"""One long-lived Dagster instance, as an operator runs it (issue 13): the repository's own dagster.yaml (SQLite under
one DAGSTER_HOME, every pool at 1, run monitoring, run retries, one sync of a dataset pair at a time), day after
day, with every run a real process of its own, launched from the command line or by the daemon.

The sync world is `open_world` (sync/conftest.py) with a small bucket; its settings file runs every step in the
run's own process (`execution.executor: in_process`, so a run is one process to kill and starts fast on a loaded
machine) and keeps the sensor and the schedule quiet (the tests launch the runs), the daemon's sensor ticking once
when it starts.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import psutil
import yaml

from difyops_dagster.sync.colour import ColourState
from difyops_dagster.sync.naming import document_name
from difyops_dagster.sync.scope import WRITE_POOL
from difyops_dagster_tests.hardening.crashes import dataset_documents, exact_problems
from difyops_dagster_tests.receivers import WebhookReceiver
from difyops_dagster_tests.sync.conftest import SyncWorld

ROOT = Path(__file__).resolve().parents[2]
DG = str(Path(sys.executable).with_name("dg"))
FILES = 40
# Every run imports Dagster and the code location: seconds on an idle machine, minutes on a loaded one.
RUN_WAIT_S = 900
PROMOTED = re.compile(r"promoted (blue|green) \(")
LIVE_SYNC = {
    "upload_concurrency": 2,
    "indexing_timeout_s": 120,
    "max_delete_ratio": 1,
    "sensor_interval_s": 86400,
    "schedule_cron": "0 0 1 1 *",
}


class LongLivedInstance:
    """A DAGSTER_HOME holding the repository's dagster.yaml, and a settings file beside it whose runs execute every
    step in the run's own process: what an operator's machine has, each run launched as a process of its own."""

    def __init__(self, home: Path, environ: dict[str, str], config: dict):
        self.environ = environ
        self.dagster_home = home / "dagster"
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "dagster.yaml", self.dagster_home / "dagster.yaml")
        self.config_path = home / "difyops.yaml"
        config = {**config, "execution": {"executor": "in_process"}}
        self.config_path.write_text(yaml.safe_dump(config, allow_unicode=True))
        with self.instance() as instance:  # its SQLite tables, before runs launched together race to create them
            instance.get_runs(limit=1)
            instance.event_log_storage.get_concurrency_keys()
            instance.schedule_storage.all_instigator_state()

    def env(self) -> dict[str, str]:
        return {**self.environ, "DIFYOPS_CONFIG": str(self.config_path), "DAGSTER_HOME": str(self.dagster_home)}

    @contextlib.contextmanager
    def instance(self) -> Iterator[dg.DagsterInstance]:
        with dg.DagsterInstance.from_config(str(self.dagster_home)) as instance:
            yield instance

    def dg_launch(self, job: str, log: Path) -> subprocess.Popen:
        """`dg launch --job <job>` as an operator types it, in a process group of its own."""
        with open(log, "ab") as out:
            return subprocess.Popen(
                [DG, "launch", "--job", job],
                cwd=ROOT,
                env={**os.environ, **self.env()},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def launch_together(self, jobs: list[str], logs: Path) -> list[int]:
        """`dg launch` of every job at the same moment, each logging to `logs`; the exit codes once all ended."""
        procs = [self.dg_launch(job, logs / f"{i}-{job}.log") for i, job in enumerate(jobs)]
        return [proc.wait(RUN_WAIT_S) for proc in procs]


class LongLivedSync(LongLivedInstance):
    """The sync world's one sync on a long-lived instance, and the files of its bucket as the tests changed them."""

    def __init__(self, world: SyncWorld, home: Path, webhook_url: str):
        super().__init__(home, world.env, world.config(**LIVE_SYNC, webhook_url=webhook_url))
        self.world = world
        self.files: dict[str, str] = {}
        self.revision = 0
        for i in range(FILES):
            self.put(f"docs/part {i % 4}/note {i:03d}.md", f"# note {i}\n")

    def put(self, key: str, body: str) -> None:
        self.world.put(key, body)
        self.files[key] = body

    def change(self, count: int) -> list[str]:
        """Edit `count` files (a day's changes); returns their keys."""
        self.revision += 1
        keys = sorted(self.files)[:count]
        for key in keys:
            self.put(key, f"{self.files[key]}\nrevision {self.revision}\n")
        return keys

    def problems(self, colour: str) -> list[str]:
        """Why `colour` does not hold today's bucket exactly (empty when it does)."""
        dataset = {"blue": self.world.blue, "green": self.world.green}[colour]
        documents = dataset_documents(self.world.standin.admin, dataset)
        return exact_problems(documents, self.files, {k: document_name(k) for k in self.files})

    def planned_writes(self, colour: str) -> int:
        """The document writes a sync of `colour` needs: every file it lacks or holds another version of, and every
        document of a file that is gone."""
        dataset = {"blue": self.world.blue, "green": self.world.green}[colour]
        held = {
            d["metadata"].get("source_key"): d.get("text") for d in dataset_documents(self.world.standin.admin, dataset)
        }
        return sum(held.get(k) != body for k, body in self.files.items()) + sum(k not in self.files for k in held)

    def document_writes(self) -> int:
        """Document writes the stand-in received since its request log was cleared (metadata writes excluded)."""
        return len(self.world.writes())


def sync_runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    """Every sync_job run, oldest first."""
    return list(reversed(instance.get_runs(dg.RunsFilter(job_name="sync_job"))))


def run_log(instance: dg.DagsterInstance, run_id: str) -> str:
    return "\n".join(entry.message for entry in instance.all_logs(run_id))


def run_span(instance: dg.DagsterInstance, run_id: str) -> tuple[float, float]:
    """When the run started and ended (RUN_START / its last event)."""
    record = instance.get_run_record_by_id(run_id)
    assert record is not None and record.start_time is not None and record.end_time is not None
    return record.start_time, record.end_time


def step_spans(instance: dg.DagsterInstance, run_id: str) -> dict[str, tuple[float, float]]:
    """When each step of the run started and ended (its first STEP_START to its last STEP_SUCCESS or STEP_FAILURE;
    a step waiting for a pool slot has not started)."""
    kinds = (dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE)
    starts: dict[str, float] = {}
    ends: dict[str, float] = {}
    for entry in instance.all_logs(run_id, of_type=set(kinds)):
        if entry.dagster_event_type == dg.DagsterEventType.STEP_START:
            starts.setdefault(entry.step_key, entry.timestamp)
        else:
            ends[entry.step_key] = entry.timestamp
    return {step: (starts[step], ends[step]) for step in starts if step in ends}


def assert_one_promoted_and_the_others_said_why(logs: dict[str, str], spans: dict[str, tuple[float, float]]) -> None:
    """Exactly one run promoted; each other one said it had nothing to sync, and said it waited for the promoting
    run when the two ran at the same time (a queued run never overlaps: the daemon starts it after)."""
    promoted = [run_id for run_id, text in logs.items() if PROMOTED.search(text)]
    assert len(promoted) == 1, {run_id: text[-1500:] for run_id, text in logs.items()}
    (winner,) = promoted
    for run_id, text in logs.items():
        if run_id == winner:
            continue
        assert "nothing to sync" in text, text[-3000:]
        overlapped = spans[run_id][0] < spans[winner][1] and spans[winner][0] < spans[run_id][1]
        if overlapped:
            assert "waiting for sync run" in text and winner in text, text[-3000:]


@dataclass(frozen=True)
class Before:
    """What a cell of syncs started together is judged against: the state, the writes the standby needs, the
    webhook calls so far."""

    state: ColourState
    needed: int
    announced: int


def before_together(life: LongLivedSync, hook: WebhookReceiver, changed: list[str]) -> Before:
    state = life.world.state()
    needed = life.planned_writes(state.standby)
    assert needed >= len(changed)
    life.world.standin.admin.clear_request_log()
    return Before(state, needed, len(hook.json_bodies()))


def assert_landed_once(
    life: LongLivedSync, before: Before, hook: WebhookReceiver, run_ids: list[str]
) -> dict[str, tuple[float, float]]:
    """The runs made exactly one promotion, of an exact dataset, writing each needed change once, announced once,
    and every other run said why it did nothing; returns each run's (start, end)."""
    after = life.world.state()
    assert len(after.history) == len(before.state.history) + 1, "exactly one promotion"
    assert after.active == before.state.standby and life.problems(after.active) == []
    assert life.document_writes() == before.needed, "each change written once"
    assert len(hook.json_bodies()) == before.announced + 1, "one promotion announced"
    with life.instance() as instance:
        logs = {run_id: run_log(instance, run_id) for run_id in run_ids}
        spans = {run_id: run_span(instance, run_id) for run_id in run_ids}
    assert_one_promoted_and_the_others_said_why(logs, spans)
    return spans


def slot_holders(instance: dg.DagsterInstance) -> set[str]:
    return instance.event_log_storage.get_concurrency_info(WRITE_POOL).active_run_ids


def run_worker_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_START, limit=1).records
    event = records[0].event_log_entry.dagster_event if records else None
    return event.pid if event is not None else None


def kill_tree(pid: int) -> None:
    """SIGKILL a process and everything it started (a run worker and any step process of it)."""
    with contextlib.suppress(psutil.NoSuchProcess):
        root = psutil.Process(pid)
        for process in [*root.children(recursive=True), root]:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.send_signal(signal.SIGKILL)
