"""Terminating a Dagster run stops the Dify task. Dagster terminates a step by interrupting its process (the
multiprocess executor's termination thread sends SIGINT to the step process; in process, SIGINT itself), which
raises `DagsterExecutionInterruptedError` inside the step; the step stops the task before it gives up.
"""

from __future__ import annotations

import os
import signal
import threading
import time

from difyops_dagster_tests.workflows.conftest import materialize, run_logs


def interrupt_when_running(standin, done: threading.Event) -> None:
    """SIGINT this process once the stand-in shows the run going (the step is then reading its stream)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not done.is_set():
        if any(run["status"] == "running" for run in standin.admin.state()["runs"]):
            os.kill(os.getpid(), signal.SIGINT)
            return
        time.sleep(0.05)


def test_interrupting_the_step_stops_the_dify_task_and_fails_the_run(workflow_apps, standin, instance):
    done = threading.Event()
    interrupter = threading.Thread(target=interrupt_when_running, args=(standin, done), daemon=True)
    interrupter.start()
    try:
        result = materialize(workflow_apps, "slow", {"text": "long"}, instance=instance)
    finally:
        done.set()
        interrupter.join(5)
    assert not result.success
    (run,) = standin.admin.state()["runs"]
    assert run["status"] == "stopped"
    expected = f"stopped Dify task {run['task_id']}: the run was interrupted (DagsterExecutionInterruptedError)"
    assert expected in run_logs(instance, result.run_id)
