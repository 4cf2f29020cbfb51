"""The executor of every job in the code location, built from the `execution` settings section.

The k8s executor is imported only when chosen: it reads the cluster's configuration when a run starts, and a
machine without a cluster must never try.
"""

from __future__ import annotations

import dagster as dg

from difyops_dagster.config_model import SettingsError
from difyops_dagster.execution.config import ExecutionSettings
from difyops_dagster.settings import Settings


def build_executor(execution: ExecutionSettings) -> dg.ExecutorDefinition:
    if execution.executor == "in_process":
        return dg.in_process_executor
    if execution.executor == "multiprocess":
        return dg.multiprocess_executor.configured({"max_concurrent": execution.max_concurrent})
    from dagster_k8s import k8s_job_executor

    k8s = execution.k8s
    config: dict = {"max_concurrent": execution.max_concurrent}
    if k8s is not None:
        if k8s.job_namespace:
            config["job_namespace"] = k8s.job_namespace
        if k8s.step.as_k8s_config():
            config["step_k8s_config"] = k8s.step.as_k8s_config()
        config["per_step_k8s_config"] = {name: pod.as_k8s_config() for name, pod in k8s.steps.items()}
    return k8s_job_executor.configured(config, name="k8s_job_executor")


def build_defs(settings: Settings) -> dg.Definitions:
    execution = settings.execution
    if execution is None:
        return dg.Definitions()
    if execution.executor == "k8s_job" and settings.storage.kind != "s3":
        # Each step runs in its own pod: what one step hands to the next must be in shared storage.
        raise SettingsError(
            "execution.executor k8s_job needs storage.kind s3: steps run in separate pods and hand results over "
            "through the artifact store"
        )
    return dg.Definitions(executor=build_executor(execution))
