"""A run for the liveness tests to kill: one step in the `dify_writes` pool that tags its run with its host (as the
product's pooled steps do), announces it holds the slot by writing a file, then sleeps until killed.

    DAGSTER_HOME=... python -m difyops_dagster_tests.liveness_job <in_process|multiprocess> <ready-file>
"""

import sys
import time
from pathlib import Path

import dagster as dg

from difyops_dagster.run_liveness import record_worker


@dg.op(pool="dify_writes", config_schema={"ready": str})
def hold_the_pool(context: dg.OpExecutionContext) -> None:
    record_worker(context)
    Path(context.op_config["ready"]).write_text(context.run.run_id)
    time.sleep(600)


@dg.job
def liveness_job():
    hold_the_pool()


def main() -> int:
    executor, ready = sys.argv[1], sys.argv[2]
    run_config = {"ops": {"hold_the_pool": {"config": {"ready": ready}}}, "execution": {"config": {executor: {}}}}
    with dg.DagsterInstance.get() as instance:
        job = dg.reconstructable(_job_with_executors)
        return 0 if dg.execute_job(job, instance=instance, run_config=run_config).success else 1


def _job_with_executors() -> dg.JobDefinition:
    return liveness_job.with_executor_def(dg.multi_or_in_process_executor)


if __name__ == "__main__":
    sys.exit(main())
