"""How a run executes its steps: one process per step (default), one process, or one Kubernetes pod per step."""
