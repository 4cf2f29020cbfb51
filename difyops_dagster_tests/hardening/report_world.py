"""The report side of the fault matrix: one app with a day of runs on the stand-in and a console account, and the
day's `workflow_logs` and `workflow_report_daily` materialized in process.

Every call of a report is made once per day (`GET /workflows/logs`, console login) or once per run (run detail,
node executions). Rule: the stored rows of the day are exactly Dify's logs of the day, in a report that says what
it could not enrich; or the logs could not be read, and the day is marked unavailable naming the call and code
(never stored as an empty day). The rows of a day are never duplicated.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import dagster as dg

from difyops_dagster.definitions import build_definitions
from difyops_dagster.reports.archive import load_day
from difyops_dagster.reports.assets import build_report_assets
from difyops_dagster.reports.partitions import daily_partitions, weekly_partitions
from difyops_dagster.settings import parse_settings
from difyops_dagster.storage.artifacts import LocalArtifactStore
from difyops_dagster_tests.hardening.fault_kinds import DIFY_OVERRIDES
from difyops_dagster_tests.reports.samples import CONSOLE_EMAIL, CONSOLE_PASSWORD, at, seeded_row

DAY = "2026-11-03"
KEY = "app-matrix-report-key"
ENV = {"REPORT_KEY": KEY, "CONSOLE_PASSWORD": CONSOLE_PASSWORD}


@dataclass
class ReportWorld:
    standin: Any
    instance: dg.DagsterInstance
    root: str
    app_id: str
    run_ids: list[str]

    def materialize(self) -> dg.ExecuteInProcessResult:
        data = {
            "dify": {
                "base_url": self.standin.api_url,
                **DIFY_OVERRIDES,
                "console": {"url": self.standin.url, "email": CONSOLE_EMAIL, "password": {"env": "CONSOLE_PASSWORD"}},
            },
            "storage": {"kind": "local", "local_dir": self.root},
            "reports": {
                "apps": [{"name": "bot", "api_key": {"env": "REPORT_KEY"}, "app_id": self.app_id}],
                "timezone": "Asia/Shanghai",
                "start_date": "2026-11-01",
                "enrich_workers": 2,
            },
        }
        settings = parse_settings(data, ENV)
        reports = settings.reports
        assets = build_report_assets(reports, daily_partitions(reports), weekly_partitions(reports), False)
        selected = [a for a in assets if a.key.path[-1] in ("workflow_logs", "workflow_report_daily")]
        resources = build_definitions(settings).resources
        return dg.materialize(
            selected, resources=resources, instance=self.instance, partition_key=DAY, raise_on_error=False
        )

    def stored(self):
        return load_day(LocalArtifactStore(self.root), "reports/", "bot", DAY)


def seed_day(standin, instance: dg.DagsterInstance, root: str) -> ReportWorld:
    app_id = standin.admin.create_app("bot", KEY)["id"]
    run_ids = [str(uuid.uuid4()) for _ in range(4)]
    standin.admin.seed_logs(app_id, [seeded_row(run_id, at(3, 9 + i)) for i, run_id in enumerate(run_ids)])
    standin.admin.set_console_account(CONSOLE_EMAIL, CONSOLE_PASSWORD)
    return ReportWorld(standin, instance, root, app_id, run_ids)


def report_texts(result: dg.ExecuteInProcessResult) -> list[str]:
    """The notes and unavailability reasons the report assets recorded."""
    texts = []
    for event in result.get_asset_materialization_events():
        fetches = event.materialization.metadata.get("fetches")
        for record in getattr(fetches, "records", None) or ():
            texts.append(str(record.data.get("notes", "")))
    for evaluation in result.get_asset_check_evaluations():
        texts.append(str(getattr(evaluation.metadata.get("unavailable"), "value", "")))
    return [t for t in texts if t]
