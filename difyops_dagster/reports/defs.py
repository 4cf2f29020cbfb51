"""Wiring of the workflow-log reports: assets, jobs, schedules and the `report_sources` resource.

Empty Definitions when `reports` is absent from the settings. Notifications are asked for (`notifier`) only
when the notify section configures a channel.
"""

from __future__ import annotations

import dagster as dg

from difyops_dagster.reports.assets import build_report_assets
from difyops_dagster.reports.partitions import daily_partitions, weekly_partitions
from difyops_dagster.reports.resources import ReportApp, ReportSourcesResource
from difyops_dagster.reports.schedules import build_report_schedules
from difyops_dagster.settings import Settings


def build_report_sources(settings: Settings) -> ReportSourcesResource:
    assert settings.reports is not None
    console = settings.dify.console
    return ReportSourcesResource(
        apps=[
            ReportApp(
                name=app.name,
                api_key=app.api_key.as_env_var(),
                app_id=app.app_id,
                keyword=app.keyword,
                status=app.status,
            )
            for app in settings.reports.apps
        ],
        console_url=console.url if console else None,
        console_email=console.email if console else None,
        console_password=console.password.as_env_var() if console else None,
    )


def build_defs(settings: Settings) -> dg.Definitions:
    reports = settings.reports
    if reports is None:
        return dg.Definitions()
    daily, weekly = daily_partitions(reports), weekly_partitions(reports)
    assets = build_report_assets(reports, daily, weekly, with_notifier=bool(settings.notify.channels))
    jobs, schedules = build_report_schedules(reports, daily, weekly)
    return dg.Definitions(
        assets=assets, jobs=jobs, schedules=schedules, resources={"report_sources": build_report_sources(settings)}
    )
