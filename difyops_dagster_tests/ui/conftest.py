from __future__ import annotations

import pytest

from difyops_dagster_tests.ui.stack import running_demo_stack


@pytest.fixture
def demo_stack(tmp_path):
    """`dagster dev` on the demo stack: (UI url, DAGSTER_HOME, env); its runs' cwd is `tmp_path`."""
    with running_demo_stack(tmp_path) as stack:
        yield stack
