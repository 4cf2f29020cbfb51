"""Warnings are errors in the tests (pyproject's `filterwarnings`), so our own code cannot use a beta, preview,
deprecated or superseded Dagster feature unnoticed: Dagster attributes those warnings to the module that calls it.
The few ignored warnings are the ones libraries raise about their own internals, matched by the module they come
from; a beta feature we use on purpose is silenced where it is used (the reports' `backfill_policy`).
"""

from __future__ import annotations

import dagster as dg
import pytest

from difyops_dagster.reports.assets import build_report_assets
from difyops_dagster.reports.partitions import daily_partitions, weekly_partitions
from difyops_dagster.settings import parse_settings

DAILY = dg.DailyPartitionsDefinition("2026-10-01")


def test_a_beta_parameter_used_by_our_code_fails_the_tests():
    with pytest.raises(dg.BetaWarning, match="backfill_policy"):

        @dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
        def ranged() -> None: ...


def test_a_deprecated_attribute_read_by_our_code_fails_the_tests():
    # Dagster reads the same attribute itself when it nests resources: that read is ignored (pyproject.toml).
    with pytest.raises(DeprecationWarning, match=r"InitResourceContext\.dagster_run"):
        _ = dg.build_init_resource_context().dagster_run


def test_the_reports_ranged_backfills_build_without_their_beta_warning():
    data = {
        "dify": {"base_url": "http://127.0.0.1:9/v1"},
        "reports": {"apps": [{"name": "bot", "api_key": {"env": "K"}}], "start_date": "2026-10-01"},
    }
    reports = parse_settings(data, {"K": "app-key"}).reports
    assets = build_report_assets(reports, daily_partitions(reports), weekly_partitions(reports), with_notifier=False)
    assert {a.key.to_user_string() for a in assets} == {
        "workflow_logs",
        "workflow_report_daily",
        "workflow_report_weekly",
    }
    assert all(a.backfill_policy == dg.BackfillPolicy.single_run() for a in assets)
