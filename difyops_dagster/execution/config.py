"""The `execution` settings section: which executor runs the steps of a run, and the pods of the k8s executor.

Absent, Dagster's default applies (each step in its own process, inside the run's process or container). The
`k8s_job` executor starts one Kubernetes pod per step; it only works inside a cluster whose runs are launched by
the `K8sRunLauncher` (the Helm chart in helm/), so it is chosen here and never by default.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from difyops_dagster.config_model import SettingsModel


class K8sPodSettings(SettingsModel):
    """Raw Kubernetes settings for a step's pod, as dagster-k8s reads them (`dagster-k8s/config`).

    The keys inside each mapping are the Kubernetes API's (snake_case or camelCase), e.g.
    `container_config: {resources: {requests: {cpu: "1", memory: 1Gi}}}`.
    """

    container_config: dict[str, Any] = Field(
        default_factory=dict, description="Fields of the step's container (resources, env, volume_mounts, ...)."
    )
    pod_spec_config: dict[str, Any] = Field(
        default_factory=dict, description="Fields of the pod spec (node_selector, tolerations, volumes, ...)."
    )
    pod_template_spec_metadata: dict[str, Any] = Field(
        default_factory=dict, description="Labels and annotations of the pod."
    )
    job_spec_config: dict[str, Any] = Field(
        default_factory=dict, description="Fields of the Kubernetes Job spec (ttl_seconds_after_finished, ...)."
    )
    job_metadata: dict[str, Any] = Field(default_factory=dict, description="Labels and annotations of the Job.")

    def as_k8s_config(self) -> dict[str, Any]:
        """The dagster-k8s form, without empty keys (an empty key would still be merged over the run's settings)."""
        return {key: value for key, value in self.model_dump().items() if value}


class K8sExecutionSettings(SettingsModel):
    """Pods of the `k8s_job` executor: settings for every step, and overrides for the steps that do heavy work."""

    job_namespace: str | None = Field(
        default=None, description="Namespace for step pods; default: the namespace of the run's pod."
    )
    step: K8sPodSettings = Field(default_factory=K8sPodSettings, description="Settings for every step's pod.")
    steps: dict[str, K8sPodSettings] = Field(
        default_factory=dict,
        description="Overrides per step (op) name, merged over `step`: e.g. `synced_dataset_blue` (the uploads).",
    )


class ExecutionSettings(SettingsModel):
    """How a run executes its steps."""

    executor: Literal["multiprocess", "in_process", "k8s_job"] = Field(
        default="multiprocess",
        description="`multiprocess` (a process per step), `in_process` (one process, least memory) or `k8s_job` "
        "(a Kubernetes pod per step; only with the Helm chart's K8sRunLauncher, and storage.kind s3).",
    )
    max_concurrent: int = Field(
        default=4, ge=1, le=64, description="Steps of one run executing at once (multiprocess and k8s_job)."
    )
    k8s: K8sExecutionSettings | None = Field(
        default=None, description="Pods of the k8s_job executor; only read when executor is k8s_job."
    )

    @model_validator(mode="after")
    def _k8s_only_for_k8s_job(self) -> ExecutionSettings:
        if self.k8s is not None and self.executor != "k8s_job":
            raise ValueError("execution.k8s is only read by the k8s_job executor: set execution.executor to k8s_job")
        return self
