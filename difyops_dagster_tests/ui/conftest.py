from __future__ import annotations

import dagster as dg
import pytest

from difyops_dagster_tests.ui.stack import running_demo_ui


@pytest.fixture
def demo_stack(tmp_path):
    """`dg dev` on the demo stack: (UI url, DAGSTER_HOME, env); its runs' cwd is `tmp_path`."""
    with running_demo_ui(tmp_path) as stack:
        yield stack


@pytest.fixture
def demo_instance(demo_stack) -> dg.DagsterInstance:
    """The demo's instance, read directly (runs, backfills, materializations) while the UI drives it."""
    instance = dg.DagsterInstance.from_config(str(demo_stack[1]))
    yield instance
    instance.dispose()
