"""Running a Dify workflow once, streaming (the default) or blocking, and making sure it ends.

What this module guarantees:
- The run request (`POST /workflows/run`) is sent once. If it fails, `WorkflowStartError` says whether Dify
  provably started nothing (it answered 429: the app's concurrency limit); only then may the caller try again.
  Any other failure of that request may have started a run (a gateway 504 or a dropped connection on a blocking
  run is the classic case), so it is final.
- Once Dify accepted the run (a task id arrived), the run is followed to its end: through the event stream or,
  when the stream breaks (proxies cut long streams; Dify's `error` event ends it), by polling
  `GET /workflows/run/{id}`.
- The Dify task is stopped (`POST /workflows/tasks/{id}/stop`) when the timeout passes (a watchdog thread, so a
  node that runs for an hour without sending anything is still cut), when this thread is interrupted (Dagster
  terminating the run raises `DagsterExecutionInterruptedError` here; Ctrl-C raises `KeyboardInterrupt`), and
  when anything else goes wrong while the run is going: a run nobody watches is not left running.
- Blocking runs have no task id until they end, and Dify stops streaming tasks only: their timeout is the read
  timeout of their one request, and an interrupt only stops the waiting.

No Dagster here: `assets.py` turns outcomes into materializations, check results and failures.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from difyops_dagster.dify.client import DifyAppClient
from difyops_dagster.dify.errors import DifyError
from difyops_dagster.dify.models import WorkflowEvent, WorkflowRun

FINISHED = frozenset({"succeeded", "failed", "stopped", "partial-succeeded"})
STOP_GRACE_S = 30.0  # after the timeout: how long Dify has to report the stopped run before we give up on it
POLL_INTERVAL_S = 2.0
MAX_STREAMED_CHARS = 200_000


class RunLog(Protocol):
    def info(self, msg: str) -> None: ...
    def warning(self, msg: str) -> None: ...
    def error(self, msg: str) -> None: ...


class WorkflowStartError(Exception):
    """The run request failed. `retry_safe` only when Dify provably started no run (429)."""

    def __init__(self, error: DifyError, explanation: str):
        self.error = error
        super().__init__(explanation)

    @property
    def retry_safe(self) -> bool:
        return self.error.status == 429


class WorkflowLostError(Exception):
    """The run started, but its end could not be observed within the timeout and the grace after it."""


@dataclass(frozen=True)
class RunOutcome:
    run: WorkflowRun
    task_id: str | None
    streamed_text: str = ""
    timed_out: bool = False
    followed_by_polling: bool = False


@dataclass
class RunProgress:
    """What the stream has told so far (shared with the watchdog thread through `TaskStopper`)."""

    task_id: str | None = None
    workflow_run_id: str | None = None
    text: list[str] = field(default_factory=list)
    text_chars: int = 0
    node_numbers: dict[str, int] = field(default_factory=dict)  # node execution id -> our count, from 1

    def add_text(self, chunk: str) -> None:
        if self.text_chars < MAX_STREAMED_CHARS:
            self.text.append(chunk[: MAX_STREAMED_CHARS - self.text_chars])
            self.text_chars += len(chunk)

    def node_label(self, data: Mapping[str, Any]) -> str:
        """`node 2 'LLM' (llm)`: our own count of the run's node executions, in the order they started.

        Not Dify's `index`: from Dify 1.9 on, `node_started` and `node_finished` stream `index: 1` for every node
        (recorded up to 1.13.2). Events of one execution (its `id`; a node inside an iteration runs once per item)
        share one number.
        """
        execution = str(data.get("id") or data.get("node_id") or "")
        number = self.node_numbers.setdefault(execution, len(self.node_numbers) + 1)
        return f"node {number} '{data.get('title') or data.get('node_id') or '?'}' ({data.get('node_type') or '?'})"


class TaskStopper:
    """Stops the Dify task once, whoever asks first: the watchdog thread or the thread running the workflow.

    A stop asked for before the task id is known waits for it: the first event then stops the run.
    """

    def __init__(self, client: DifyAppClient, user: str, log: RunLog):
        self._client, self._user, self._log = client, user, log
        self._lock = threading.Lock()
        self._task_id: str | None = None
        self._reason: str | None = None
        self._sent = False

    def task_started(self, task_id: str) -> None:
        with self._lock:
            self._task_id = task_id
        self._send()

    def request(self, reason: str) -> None:
        with self._lock:
            self._reason = self._reason or reason
        self._send()

    def _send(self) -> None:
        with self._lock:
            if self._sent or self._task_id is None or self._reason is None:
                return
            self._sent = True
            task_id, reason = self._task_id, self._reason
        try:
            self._client.stop_task(task_id, self._user)
        except DifyError as exc:
            self._log.error(f"could not stop Dify task {task_id} ({reason}): {exc}")
            return
        self._log.warning(f"stopped Dify task {task_id}: {reason}")


def run_blocking(
    client: DifyAppClient, inputs: Mapping[str, Any], *, user: str, timeout_s: float, log: RunLog
) -> RunOutcome:
    try:
        result = client.run_workflow(inputs, user, read_timeout_s=timeout_s)
    except DifyError as exc:
        if exc.status is None and exc.code == "timeout":
            raise WorkflowStartError(
                exc,
                f"Dify did not answer within {timeout_s:g} s; the run may still be going "
                f"(Dify cannot stop blocking runs: use response_mode streaming for stoppable runs): {exc}",
            ) from None
        raise WorkflowStartError(exc, _start_failure(exc)) from None
    except BaseException:
        log.warning("interrupted while waiting for a blocking Dify run: it cannot be stopped and may still be going")
        raise
    return RunOutcome(result.run, result.task_id)


def run_streaming(
    client: DifyAppClient,
    inputs: Mapping[str, Any],
    *,
    user: str,
    timeout_s: float,
    log: RunLog,
    poll_interval_s: float = POLL_INTERVAL_S,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> RunOutcome:
    progress = RunProgress()
    stopper = TaskStopper(client, user, log)
    deadline_passed = threading.Event()

    def on_deadline() -> None:
        deadline_passed.set()
        stopper.request(f"it ran past its timeout of {timeout_s:g} s")

    watchdog = threading.Timer(timeout_s, on_deadline)
    watchdog.daemon = True
    give_up_at = clock() + timeout_s + STOP_GRACE_S
    watchdog.start()
    try:
        run = _read_stream(client, inputs, user, progress, stopper, log)
        followed = run is None
        if run is None:
            run = _follow(client, progress, give_up_at, poll_interval_s, clock, sleep)
    except WorkflowStartError:
        raise  # nothing started, nothing to stop
    except BaseException as exc:
        stopper.request(f"the run was interrupted ({type(exc).__name__})")
        raise
    finally:
        watchdog.cancel()
        # A stop the watchdog is sending right now finishes (bounded by the client's timeouts) before the step
        # ends: its outcome belongs in this step's log, not after it (where the run's log is already closed).
        watchdog.join()
    text = "".join(progress.text)
    return RunOutcome(run, progress.task_id, text, timed_out=deadline_passed.is_set(), followed_by_polling=followed)


def _read_stream(
    client: DifyAppClient,
    inputs: Mapping[str, Any],
    user: str,
    progress: RunProgress,
    stopper: TaskStopper,
    log: RunLog,
) -> WorkflowRun | None:
    """The run from its `workflow_finished` event, or None when the stream broke off after the run started."""
    try:
        for event in client.stream_workflow(inputs, user):
            if progress.task_id is None and event.task_id:
                progress.task_id, progress.workflow_run_id = event.task_id, event.workflow_run_id
                stopper.task_started(event.task_id)
            if event.event == "workflow_finished":
                return WorkflowRun.from_json(event.data)
            _log_event(event, progress, log)
    except DifyError as exc:
        if progress.task_id is None:
            raise WorkflowStartError(exc, _start_failure(exc)) from None
        log.warning(f"the event stream broke off ({exc}); following Dify run {progress.workflow_run_id} by polling")
        return None
    if progress.task_id is None:
        error = DifyError("POST /workflows/run", 200, "malformed_response", "the event stream ended before any event")
        raise WorkflowStartError(error, _start_failure(error))
    log.warning(f"the event stream ended early; following Dify run {progress.workflow_run_id} by polling")
    return None


def _follow(
    client: DifyAppClient,
    progress: RunProgress,
    give_up_at: float,
    poll_interval_s: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> WorkflowRun:
    run_id = progress.workflow_run_id
    if not run_id:
        raise WorkflowLostError(f"the event stream of task {progress.task_id} broke off before it named its run")
    status = "unknown"
    while True:
        run = client.get_workflow_run(run_id)
        if run is not None and run.status in FINISHED:
            return run
        status = run.status if run is not None else "not found"
        if clock() >= give_up_at:
            raise WorkflowLostError(
                f"Dify run {run_id} had not finished {STOP_GRACE_S:g} s after its timeout (last status: {status}); "
                "it was asked to stop"
            )
        sleep(poll_interval_s)


def _log_event(event: WorkflowEvent, progress: RunProgress, log: RunLog) -> None:
    data = event.data
    if event.event == "workflow_started":
        log.info(f"Dify run {progress.workflow_run_id} started (task {progress.task_id})")
    elif event.event == "node_started":
        log.info(f"{progress.node_label(data)} started")
    elif event.event == "node_finished":
        tokens = int((data.get("execution_metadata") or {}).get("total_tokens") or 0)
        elapsed = float(data.get("elapsed_time") or 0.0)
        done = f"{progress.node_label(data)} {data.get('status')} in {elapsed:.2f} s"
        done += f", {tokens} tokens" if tokens else ""
        if data.get("status") == "failed":
            log.warning(f"{done}: {data.get('error') or 'no error text'}")
        else:
            log.info(done)
    elif event.event == "node_retry":
        log.warning(f"{progress.node_label(data)} is retried by Dify: {data.get('error') or 'no error text'}")
    elif event.event == "text_chunk":
        progress.add_text(str(data.get("text") or ""))
    elif event.event in ("workflow_paused", "human_input_required"):
        log.warning("the run paused waiting for human input in Dify; the wait counts against the timeout")


def _start_failure(error: DifyError) -> str:
    if error.status == 429:
        return f"Dify refused to start the run (the app is at its concurrency limit): {error}"
    return f"the run request failed: {error}. Dify may have started the run anyway: check its logs before re-running"
