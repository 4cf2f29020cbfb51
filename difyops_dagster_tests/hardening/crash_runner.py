"""A fork server for runs that a test kills: each run is a process of its own, in its own process group.

    python -m difyops_dagster_tests.hardening.crash_runner

The server imports Dagster and the code location once, prints `ready`, then reads one JSON request per line:
`{"env": {...}, "steps": [...], "log": "/path"}`. For each it forks a child that becomes its own process group,
takes `env` (DIFYOPS_CONFIG names the settings, DAGSTER_HOME the instance, as for `dagster`/`dg` commands),
loads the Definitions and the instance, and runs the steps in order, its output going to `log`. The server
answers `pid <pid>` at once and `exit <pid> <code>` when the child is gone (0: every step succeeded; -9: killed).

A step is

    job=<name>[@<partition>]            execute_in_process of that job (one partition of a partitioned job)
    job=<name>@<first>...<last>         one run over a partition range (the assets' BackfillPolicy.single_run)
    sensor=<name>                       one evaluation; the dynamic partitions it asks for are added and each
                                        run it requests is executed in turn, as the daemon would

Why not `dagster asset materialize` per run: importing Dagster and the code location costs about 9 s of CPU, so
twenty kills would spend minutes importing, and a kill chosen by a request count would race the import. Forking
from a loaded server gives each run a fresh process (nothing of an earlier run survives in it) that starts at
once; the run itself is the same `execute_in_process` the CLI's in-process executor performs, on a persistent
SQLite instance.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys


def _run_job(defs, instance, spec: str) -> bool:
    name, _, partition = spec.partition("@")
    job = defs.resolve_job_def(name)
    if "..." in partition:
        first, last = partition.split("...")
        tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
        return job.execute_in_process(instance=instance, tags=tags, raise_on_error=False).success
    return job.execute_in_process(instance=instance, partition_key=partition or None, raise_on_error=False).success


def _run_sensor(defs, instance, name: str) -> bool:
    import dagster as dg

    sensor = defs.resolve_sensor_def(name)
    resources = {key: defs.resources[key] for key in sensor.required_resource_keys}
    with dg.build_sensor_context(instance=instance, resources=resources) as context:
        result = sensor(context)
    if not isinstance(result, dg.SensorResult):
        return True
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    ok = True
    for run in result.run_requests or []:
        ok = _run_job(defs, instance, f"{sensor.job_name}@{run.partition_key}") and ok
    return ok


def _child(request: dict) -> int:
    import dagster as dg

    from difyops_dagster.definitions import build_definitions
    from difyops_dagster.settings import load_settings

    os.environ.update(request["env"])
    defs = build_definitions(load_settings())
    with dg.DagsterInstance.get() as instance:
        return 0 if run_steps(defs, instance, request["steps"]) else 1


def run_steps(defs, instance, steps: list[str]) -> bool:
    """The steps in order (all of them, even after a failure); True when every one succeeded. The tests' repair
    runs call this in their own process."""
    ok = True
    for step in steps:
        kind, _, spec = step.partition("=")
        ok = (_run_job(defs, instance, spec) if kind == "job" else _run_sensor(defs, instance, spec)) and ok
    return ok


def _fork(request: dict) -> int:
    pid = os.fork()
    if pid == 0:  # the run: its own process group, its own log, never back into the server loop
        code = 70
        try:
            os.setpgid(0, 0)
            log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.dup2(log, 1)
            os.dup2(log, 2)
            os.close(0)
            code = _child(request)
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    # Also here, so a kill sent right after `pid` never reaches the server's group (OSError: already done/gone).
    with contextlib.suppress(OSError):
        os.setpgid(pid, pid)
    return pid


def main() -> int:
    import dagster  # noqa: F401 (loaded once, inherited by every run)

    import difyops_dagster.definitions  # noqa: F401

    print("ready", flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        pid = _fork(json.loads(line))
        print(f"pid {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"exit {pid} {os.waitstatus_to_exitcode(status)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
